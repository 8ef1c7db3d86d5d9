package io.podcapture.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import io.podcapture.testing.AgentEnvironment;
import io.podcapture.testing.Processes;
import io.podcapture.testing.User;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One agent process against its own mock API server holding the node's Pods, with a watch on the
 * PodCaptures that notes when each is first seen {@code Running} and when it is gone, and helpers
 * to see tcpdump and its files.
 */
final class Session implements AutoCloseable {
  final ApiServer api;
  final KubernetesClient user;
  final Path dir;
  final Path captureDir;
  final AgentProcess agent;
  final List<String> podNames = new ArrayList<>();
  final int podJsonBytes;

  /** When the watch first saw each PodCapture in phase Running (System.nanoTime). */
  final Map<String, Long> runningAt = new ConcurrentHashMap<>();

  /** When the watch saw each PodCapture deleted. */
  final Map<String, Long> deletedAt = new ConcurrentHashMap<>();

  private final Watch watch;
  private final ExecutorService patcher = Executors.newFixedThreadPool(8);

  Session(
      ApiServer api,
      Path dir,
      Path agentLog,
      List<List<String>> podIps,
      List<String> jvmFlags,
      List<String> launch,
      Map<String, String> agentEnv)
      throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    this.captureDir = dir.resolve("capture");
    this.api = api;
    user = api.client();
    int bytes = 0;
    for (int i = 0; i < podIps.size(); i++) {
      Pod pod =
          "slim".equals(System.getProperty("bench.pods"))
              ? Workload.slimPod(i, podIps.get(i))
              : Workload.pod(i, podIps.get(i));
      bytes += Workload.jsonBytes(api.createPod(user, pod));
      podNames.add(pod.getMetadata().getName());
    }
    podJsonBytes = bytes / Math.max(1, podIps.size());
    watch =
        user.resources(PodCapture.class)
            .inNamespace(Workload.NAMESPACE)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, PodCapture cr) {
                    long now = System.nanoTime();
                    String name = cr.getMetadata().getName();
                    if (action == Action.DELETED) {
                      deletedAt.putIfAbsent(name, now);
                    } else if (cr.getStatus() != null
                        && "Running".equals(cr.getStatus().getPhase())) {
                      runningAt.putIfAbsent(name, now);
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {
                    // the session ends
                  }
                });
    Map<String, String> env = new HashMap<>();
    env.put("KUBECONFIG", api.writeKubeconfig(dir.resolve("kubeconfig")).toString());
    env.put("HTTP_PORT", Integer.toString(freePort()));
    env.put("LOG_LEVEL", "info");
    env.putAll(agentEnv);
    env = AgentEnvironment.asDeployed(Workload.NODE, captureDir, env);
    Files.createDirectories(agentLog.getParent());
    agent = AgentProcess.start(jvmFlags, launch, env, agentLog);
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Sets the capture annotation to {@code value}, or removes it when null. */
  void annotate(String pod, String value) {
    User.annotate(user, Workload.NAMESPACE, pod, value);
  }

  /**
   * Creates a PodCapture of {@code pod} as a user would, with no label and no annotation. maxFiles
   * and fileSizeMB are given as the API server would default them from the CRD (the mock server
   * applies no defaults).
   */
  void createCapture(String name, String pod) {
    PodCapture cr = new PodCapture();
    // Labelled with the benchmark's node, as the cluster controller would label it: no controller
    // runs here, and the agent watches only its node's PodCaptures.
    cr.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(Workload.NAMESPACE)
            .addToLabels(Names.LABEL_NODE, Workload.NODE)
            .build());
    cr.setSpec(new PodCaptureSpec(pod, 1, 1));
    new User(user).createPodCapture(cr);
  }

  /**
   * Deletes a PodCapture as a user would; the agent's finalizer keeps it until tcpdump and its
   * files are gone.
   */
  void deleteCapture(String name) {
    new User(user).deletePodCapture(Workload.NAMESPACE, name);
  }

  /**
   * Annotates (or un-annotates) many Pods at once, 8 requests in flight, as a script of kubectl
   * calls would.
   */
  void annotateAll(List<String> pods, String value) throws Exception {
    List<Future<?>> done = new ArrayList<>();
    for (String pod : pods) {
      done.add(patcher.submit(() -> annotate(pod, value)));
    }
    for (Future<?> f : done) {
      f.get();
    }
  }

  Path namespaceDir() {
    return captureDir.resolve(Workload.NAMESPACE);
  }

  /**
   * The first ring file of the PodCapture (named after the Pod for the annotation's) exists:
   * tcpdump opened its capture. tcpdump numbers ring files with as many digits as the ring's size
   * has ({@code .pcap0} for 2 to 10 files), and not at all for a ring of one file ({@code .pcap}, a
   * direct PodCapture's default).
   */
  boolean ringStarted(String capture) {
    Path base = namespaceDir().resolve("capture-" + capture + ".pcap");
    return Files.exists(base) || Files.exists(base.resolveSibling(base.getFileName() + "0"));
  }

  /** No ring file, kept file or pid file of the PodCapture is left. */
  boolean filesGone(String capture) {
    Pattern mine =
        Pattern.compile(
            "(capture-"
                + Pattern.quote(capture)
                + "\\.pcap[0-9]*|\\.capture-"
                + Pattern.quote(capture)
                + "\\.pid)");
    for (Path d : List.of(namespaceDir(), namespaceDir().resolve("previous"))) {
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> files = Files.list(d)) {
        if (files.anyMatch(f -> mine.matcher(f.getFileName().toString()).matches())) {
          return false;
        }
      } catch (IOException e) {
        // listing raced with a deletion: look again next time
        return false;
      }
    }
    return true;
  }

  /** The pid of the agent's tcpdump writing the PodCapture's ring, or -1. */
  long tcpdumpPid(String capture) {
    String ring = namespaceDir().resolve("capture-" + capture + ".pcap").toString();
    for (long pid : agent.children()) {
      if (Processes.argv(pid).contains(ring)) {
        return pid;
      }
    }
    return -1;
  }

  /**
   * The tcpdump children's RSS and PSS (shared library pages divided among the processes sharing
   * them), KiB.
   */
  List<long[]> tcpdumpMemoryKiB() {
    List<long[]> out = new ArrayList<>();
    for (long pid : agent.children()) {
      Long rss = AgentProcess.procStatus(pid).get("VmRSS");
      if (rss != null) {
        out.add(new long[] {rss, AgentProcess.pssKiB(pid)});
      }
    }
    return out;
  }

  @Override
  public void close() {
    try {
      if (agent.isAlive()) {
        agent.stop();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    agent.close();
    patcher.shutdownNow();
    watch.close();
    user.close();
    api.close();
    // SIGTERM keeps files for the next run; a benchmark has no next run
    killLeftTcpdumps();
    deleteTree(dir);
  }

  /** A tcpdump still writing into this session's folder (none, normally) is ours to end. */
  private void killLeftTcpdumps() {
    for (long pid : Processes.writingInto(captureDir)) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // best effort
                }
              });
    } catch (IOException e) {
      // best effort
    }
  }
}
