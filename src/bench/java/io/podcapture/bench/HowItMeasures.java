package io.podcapture.bench;

/** BENCHMARKS.md's section on how each figure is taken. */
final class HowItMeasures {
  private HowItMeasures() {}

  static String markdown(int podJsonBytes, String realServer) {
    StringBuilder md = new StringBuilder();
    md.append("## How it measures\n\n");
    md.append(
        "- The agent runs as its own JVM (`java <flags> -jar target/podcapture-agent.jar`, or the same "
            + "classes unshaded on a classpath), configured by environment and a kubeconfig pointing "
            + "at fabric8's mock API server (CRUD mode, the PodCapture CRD, `spec.nodeName` selectable) in the "
            + "benchmark's JVM. The node has "
            + Workbench.PODS
            + " Pods of about "
            + (podJsonBytes / 1024)
            + " KiB of JSON each (two containers, probes, env, managedFields), "
            + Workbench.REAL_PODS
            + " of them real network "
            + "namespaces with veth pairs, the rest with documentation addresses.\n");
    md.append(
        "- *tcpdump running* is the moment its first ring file exists (tcpdump creates it once the capture "
            + "is open; the agent itself waits for the same); *Running visible* is the benchmark's own watch "
            + "receiving the PodCapture with `status.phase: Running`. Both are measured from just before the "
            + "annotation PATCH (or the direct PodCapture's POST) is sent, so they include that request. Stop is "
            + "measured from just before the PATCH that removes the annotation (or the PodCapture's DELETE) until the "
            + "tcpdump pid is gone (zombies count as gone), no file of the capture is left (ring, kept ring, pid "
            + "file) and the watch has seen the PodCapture deleted (for a direct one: after the agent released its "
            + "finalizer). Conditions are polled every millisecond.\n");
    md.append(
        "- API requests are recorded by the mock server and told apart by User-Agent (the benchmark's own "
            + "PATCHes, POSTs, DELETEs and watch are not counted). A lifecycle is counted from its annotation (or "
            + "create) until 300 ms after its PodCapture is gone, so the asynchronous Event for the stop is "
            + "included.\n");
    md.append(
        "- Footprint: VmRSS, VmHWM (peak RSS) and Threads from `/proc/<pid>/status` (less the JVM's `Attach Listener` thread, which the first `jcmd` starts), heap and metaspace "
            + "from `jcmd <pid> GC.heap_info`, each read 5 s after the agent became ready, and again 5 s after "
            + FootprintPhase.FOOTPRINT_CAPTURES
            + " captures are Running. Ready is `/readyz` answering 200 when the agent serves it, "
            + "else its `"
            + AgentProcess.READY_LINE
            + "` log line; *CPU to ready* is the user + system time the JVM "
            + "used until then (with a CPU limit, ready takes at least that divided by the limit). *cgroup* is the "
            + "memory cgroup the agent and its tcpdumps run in, what a container's memory limit counts: anonymous "
            + "memory, charged kernel memory and the page cache the group brought in (shared libraries already cached "
            + "by other processes on this machine are not charged to it, so a fresh container counts a few MiB more). "
            + "tcpdump's PSS includes its 4 MiB kernel capture ring, which the cgroup is not charged for.\n");
    md.append(
        "- Completeness runs tcpdump directly with the argv `TcpdumpCommand` builds (the agent's exact "
            + "command, ring of "
            + FloodCapture.FLOOD_RING_FILES
            + " x 1 MB so nothing rotates away), floods for "
            + FloodCapture.FLOOD_SECONDS
            + " s with `ping -f` from a namespace Pod, SIGTERMs tcpdump and reads its own counters "
            + "from stderr 2.5 s after the flood (libpcap hands packets over in blocks, a block when full or after "
            + "tcpdump's 1 s timeout); the ring's echo requests and replies are counted by reading the pcap records.\n");
    md.append(
        "- CPU per packet runs two tcpdumps with the agent's argv at once on one flood ping, one with the old "
            + "filter (`host <ip>` per Pod IP) and one with the Pod filter, and divides each one's user + system time "
            + "(`/proc/<pid>/stat`) by the packets it captured (its own counter). The kernel runs the filter program for "
            + "every packet in the context of whoever sends or receives it, not of tcpdump, so that cost does not show "
            + "in tcpdump's time; the program's length (`tcpdump -d`) is given beside it.\n");
    return md.append(real(realServer)).append('\n').toString();
  }

  /** The bullet on the real API server's columns, or nothing when there were none. */
  private static String real(String realServer) {
    if (realServer == null) {
      return "";
    }
    return "- *real*: the single captures once more, the agent talking to "
        + realServer
        + ", which bench/run.sh starts on loopback with controlplane/up.sh (etcd,"
        + " kube-apiserver and kube-controller-manager built from source), the CRD applied"
        + " with kubectl, and stops at the end. The agent uses the admin kubeconfig. The"
        + " benchmark creates the same Pods there, without owner references (the garbage"
        + " collector would delete Pods of a missing ReplicaSet), and writes their status as"
        + " a kubelet would. The real server records no requests: the API cost is the mock"
        + " server's.\n";
  }
}
