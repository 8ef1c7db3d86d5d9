package io.podcapture.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.podcapture.capture.CaptureConfig;
import io.podcapture.capture.IpLiteral;
import io.podcapture.capture.NodeInterfaces;
import io.podcapture.capture.PodFilter;
import io.podcapture.capture.TcpdumpCommand;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.NetnsPod.PingResult;
import io.podcapture.testing.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The agent's benchmark (issue 8): start and stop latency, API cost, footprint, capture
 * completeness and tcpdump's CPU time per packet with the old and the new Pod filter, measured on
 * this machine against the mock API server, with the agent as its own JVM process, real tcpdump and
 * network namespace Pods. Writes BENCHMARKS.md. Run it with {@code bench/run.sh}; it is not a test.
 */
public final class Benchmark {
  static final int PODS = 110;
  static final int REAL_PODS = 4;
  static final int ROUNDS = 60;

  /**
   * Rounds of a kind that fail one after the other, from the first, before the benchmark gives the
   * kind up.
   */
  static final int GIVE_UP_AFTER = 3;

  static final int BURST = 100;
  static final int FOOTPRINT_CAPTURES = 16;
  static final int BURST_MAX_CAPTURES = 128;
  static final int STEADY_SECONDS = 60;
  static final int REFRESH_SECONDS = 10;
  static final int FLOOD_SECONDS = 10;
  static final int FLOOD_RING_FILES = 1000;

  /** What --phases may name; "agent" stands for "lifecycles" and "load" on one agent. */
  static final List<String> PHASES =
      List.of("completeness", "cpu", "footprint", "agent", "lifecycles", "load");

  /** The Dockerfile's flags before the benchmark tuned them, kept to show the before/after. */
  static final List<String> INITIAL_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-Xss512k",
          "-XX:MaxRAM=192m",
          "-Xmx48m",
          "-XX:MaxMetaspaceSize=64m",
          "-XX:+ExitOnOutOfMemoryError");

  private final Path project;
  private final Path work;
  private final Map<String, String> options;
  private final List<String[]> targets = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private List<List<String>> podIps;
  private final List<NetnsPod> realPods = new ArrayList<>();

  private Benchmark(Map<String, String> options) throws IOException {
    this.options = options;
    this.project = Path.of(options.getOrDefault("project", ".")).toAbsolutePath().normalize();
    this.work = Files.createTempDirectory("podcapture-bench-");
    if (options.containsKey("rounds")) {
      notes.add(
          "run with --rounds="
              + options.get("rounds")
              + ": single captures of each kind, not "
              + ROUNDS);
    }
    if ("slim".equals(options.get("pods"))) {
      // for tuning: Pods with only the fields the agent reads, to see what the Pod cache costs
      System.setProperty("bench.pods", "slim");
      notes.add("run with --pods=slim: the Pods carried only name, node, phase and IPs");
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      if (arg.startsWith("--") && arg.contains("=")) {
        options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
      } else {
        throw new IllegalArgumentException("unknown argument " + arg + " (expected --name=value)");
      }
    }
    if (!"0".equals(AgentProcess.run(List.of("id", "-u")).strip())) {
      System.err.println("the benchmark needs root: real tcpdump and network namespaces");
      System.exit(2);
    }
    Benchmark bench = new Benchmark(options);
    try {
      bench.run();
    } finally {
      bench.realPods.forEach(NetnsPod::close);
      Session.deleteTree(bench.work);
    }
    System.exit(0);
  }

  private void run() throws Exception {
    long began = System.nanoTime();
    Machine machine = Machine.read();
    Shipped shipped = Shipped.read(project.resolve("Dockerfile"));
    if (options.containsKey("flags")) {
      // for trying flags out: stands in for the Dockerfile's (BENCHMARKS.md then says so)
      shipped = new Shipped(List.of(options.get("flags").strip().split("\\s+")), shipped.env());
      notes.add(
          "run with --flags: the *shipped flags* rows used `"
              + options.get("flags")
              + "`, not the Dockerfile's");
    }
    if (options.containsKey("env")) {
      Map<String, String> env = new LinkedHashMap<>(shipped.env());
      for (String pair : options.get("env").split(",")) {
        env.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
      }
      shipped = new Shipped(shipped.flags(), env);
      notes.add("run with --env: the *shipped flags* rows ran with environment " + env);
    }
    List<String> phases =
        Arrays.asList(
            options.getOrDefault("phases", "completeness,cpu,footprint,agent").split(","));
    for (String phase : phases) {
      if (!PHASES.contains(phase)) {
        throw new IllegalArgumentException(
            "unknown phase " + phase + ": expected one or more of " + String.join(",", PHASES));
      }
    }
    log(
        "podcapture benchmark: %d cores, %d MiB, load %s; shipped JVM flags %s",
        machine.cores(), machine.memoryMiB(), Machine.loadAverage(), shipped.flags());

    for (int i = 0; i < REAL_PODS; i++) {
      realPods.add(NetnsPod.create());
    }
    podIps =
        IntStream.range(0, PODS)
            .mapToObj(i -> i < REAL_PODS ? realPods.get(i).ips() : Workload.fakeIps(i))
            .toList();
    // as sent, before the API server adds its fields; a session replaces it with the size the
    // server answers
    podJsonBytesSeen = Workload.jsonBytes(Workload.pod(REAL_PODS, podIps.get(REAL_PODS)));

    String completeness = phases.contains("completeness") ? completeness() : "";
    String cpu = phases.contains("cpu") ? cpuPerPacket() : "";
    String footprint = phases.contains("footprint") ? footprint(shipped) : "";
    // "agent" is both: the single captures of each kind ("lifecycles"), then 100 at once and the
    // steady state ("load")
    boolean lifecycles = phases.contains("agent") || phases.contains("lifecycles");
    boolean load = phases.contains("agent") || phases.contains("load");
    String agent = lifecycles || load ? agentPhases(shipped, lifecycles, load) : "";

    double minutes = (System.nanoTime() - began) / 60e9;
    StringBuilder md = new StringBuilder();
    md.append("# Benchmarks\n\n");
    md.append("Written by `")
        .append(options.getOrDefault("command", "bench/run.sh"))
        .append(
            "`; every number below comes from that one run. Re-run it to refresh this file.\n\n");
    md.append("| | |\n|---|---|\n");
    md.append("| date | ")
        .append(
            ZonedDateTime.now(ZoneOffset.UTC)
                .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME)
                .substring(0, 19))
        .append(" UTC |\n");
    md.append("| machine | ")
        .append(machine.cores())
        .append(" cores (")
        .append(machine.cpu())
        .append("), ")
        .append(machine.memoryMiB())
        .append(" MiB memory, Linux ")
        .append(machine.kernel())
        .append(" |\n");
    md.append("| JVM | ").append(machine.jvm()).append(" |\n");
    md.append("| tcpdump | ").append(machine.tcpdump()).append(" |\n");
    md.append("| shipped JVM flags (Dockerfile) | `")
        .append(String.join(" ", shipped.flags()))
        .append("`")
        .append(
            shipped.env().isEmpty()
                ? ""
                : ", env "
                    + shipped.env().entrySet().stream()
                        .map(e -> "`" + e.getKey() + "=" + e.getValue() + "`")
                        .collect(Collectors.joining(" ")))
        .append(" |\n");
    md.append("| HTTP client | fabric8 7.5.2 JDK client (the only one in the shipped jar) |\n");
    md.append("| run time | ")
        .append(String.format(Locale.ROOT, "%.1f", minutes))
        .append(" min |\n\n");
    md.append(
        "The machine is shared with other engineers' test runs, so numbers are noisy; each section gives the "
            + "load average (1/5/15 min) it ran under, and comparisons are made within one run.\n\n");
    md.append("## Targets\n\n| target | measured | |\n|---|---|---|\n");
    for (String[] t : targets) {
      md.append("| ")
          .append(t[0])
          .append(" | ")
          .append(t[1])
          .append(" | ")
          .append(t[2])
          .append(" |\n");
    }
    md.append('\n');
    md.append(agent).append(footprint).append(completeness).append(cpu);
    md.append("## How it measures\n\n");
    md.append(
        "- The agent runs as its own JVM (`java <flags> -jar target/podcapture-agent.jar`, or the same "
            + "classes on a classpath with another HTTP client), configured by environment and a kubeconfig pointing "
            + "at fabric8's mock API server (CRUD mode, the PodCapture CRD, `spec.nodeName` selectable) in the "
            + "benchmark's JVM. The node has "
            + PODS
            + " Pods of about "
            + (podJsonBytesSeen / 1024)
            + " KiB of JSON each (two containers, probes, env, managedFields), "
            + REAL_PODS
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
        "- Footprint: VmRSS, VmHWM (peak RSS) and Threads from `/proc/<pid>/status`, heap and metaspace "
            + "from `jcmd <pid> GC.heap_info`, each read 5 s after the agent became ready, and again 5 s after "
            + FOOTPRINT_CAPTURES
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
            + FLOOD_RING_FILES
            + " x 1 MB so nothing rotates away), floods for "
            + FLOOD_SECONDS
            + " s with `ping -f` from a namespace Pod, SIGTERMs tcpdump and reads its own counters "
            + "from stderr 2.5 s after the flood (libpcap hands packets over in blocks, a block when full or after "
            + "tcpdump's 1 s timeout); the ring's echo requests and replies are counted by reading the pcap records.\n");
    md.append(
        "- CPU per packet runs two tcpdumps with the agent's argv at once on one flood ping, one with the old "
            + "filter (`host <ip>` per Pod IP) and one with the Pod filter, and divides each one's user + system time "
            + "(`/proc/<pid>/stat`) by the packets it captured (its own counter). The kernel runs the filter program for "
            + "every packet in the context of whoever sends or receives it, not of tcpdump, so that cost does not show "
            + "in tcpdump's time; the program's length (`tcpdump -d`) is given beside it.\n\n");
    if (!notes.isEmpty()) {
      md.append("## Notes\n\n");
      notes.forEach(n -> md.append("- ").append(n).append('\n'));
      md.append('\n');
    }
    Path outFile = project.resolve(options.getOrDefault("out", "BENCHMARKS.md"));
    Files.writeString(outFile, md.toString());
    System.out.println();
    System.out.println(md);
    log("wrote %s in %.1f min", outFile, minutes);
  }

  private int podJsonBytesSeen;

  // ---- start, stop, API cost, burst, steady state: one agent with the shipped flags
  // ---------------------------

  /**
   * How the single-capture rounds start and stop one capture of a kind, and the name of its
   * PodCapture.
   */
  private record CaptureKind(
      String title,
      String started,
      String stopped,
      UnaryOperator<String> captureName,
      BiConsumer<Session, String> start,
      BiConsumer<Session, String> stop) {}

  /**
   * The annotation's capture: its PodCapture is named after the Pod, made and deleted by the agent.
   */
  private static final CaptureKind ANNOTATION =
      new CaptureKind(
          "annotation capture",
          "annotation",
          "annotation removed",
          pod -> pod,
          (s, pod) -> s.annotate(pod, "5"),
          (s, pod) -> s.annotate(pod, null));

  /**
   * A PodCapture a user creates and deletes, with no annotation: the agent labels it, holds it and
   * lets it go.
   */
  private static final CaptureKind DIRECT =
      new CaptureKind(
          "direct PodCapture",
          "PodCapture created",
          "PodCapture deleted",
          pod -> pod + "-direct",
          (s, pod) -> s.createCapture(pod + "-direct", pod),
          (s, pod) -> s.deleteCapture(pod + "-direct"));

  /** What the single-capture rounds of one kind measured; times in ms. */
  private record Rounds(
      CaptureKind kind,
      List<Double> toTcpdump,
      List<Double> toRunning,
      List<Double> toGone,
      List<Double> toFilesDeleted,
      List<Double> toCrGone,
      List<Map<String, Integer>> lifecycles,
      int otherCalls,
      int failures) {

    List<Double> toGoneAndFilesDeleted() {
      List<Double> both = new ArrayList<>();
      for (int i = 0; i < toGone.size(); i++) {
        both.add(Math.max(toGone.get(i), toFilesDeleted.get(i)));
      }
      return both;
    }
  }

  /**
   * The agent phases on one agent with the shipped flags: the single captures of both kinds (start
   * and stop latency, API cost) when {@code lifecycles}, then 100 captures at once and the steady
   * state when {@code load}.
   */
  private String agentPhases(Shipped shipped, boolean lifecycles, boolean load) throws Exception {
    StringBuilder md = new StringBuilder();
    Map<String, String> env = new HashMap<>(shipped.env());
    env.put("MAX_CAPTURES", Integer.toString(BURST_MAX_CAPTURES));
    env.put("STATUS_REFRESH_SECONDS", Integer.toString(REFRESH_SECONDS));
    try (Session s =
        new Session(
            work.resolve("agent"),
            logs().resolve("agent.log"),
            podIps,
            shipped.flags(),
            List.of("-jar", jar().toString()),
            env)) {
      podJsonBytesSeen = s.podJsonBytes;
      double readyMs = s.agent.awaitReady(60);
      log("agent ready in %.0f ms (%s)", readyMs, s.agent.readySource());
      AgentProcess.sleepMillis(2000);

      if (lifecycles) {
        // 1 and 2: single captures, one after the other, each on its own Pod; first by annotation,
        // then direct
        String load0 = Machine.loadAverage();
        Rounds annotation = singleCaptures(s, ANNOTATION);
        Rounds direct = singleCaptures(s, DIRECT);
        String load1 = Machine.loadAverage();
        md.append("## Start and stop latency\n\n");
        md.append(
            String.format(
                Locale.ROOT,
                "%d single captures of each kind, one after the other, each on its "
                    + "own Pod: by annotation (`\"5\"`, then removed; %d incomplete), then by a PodCapture created directly "
                    + "(`podName` and `maxFiles: 1`, no label, no annotation; then deleted; %d incomplete). Agent: shipped "
                    + "jar and flags, ready %.0f ms after process start. Load %s → %s.%n%n",
                rounds(),
                annotation.failures(),
                direct.failures(),
                readyMs,
                load0,
                load1));
        md.append("| | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n");
        for (Rounds r : List.of(annotation, direct)) {
          CaptureKind k = r.kind();
          md.append(row(k.started() + " → tcpdump running", Stats.of(r.toTcpdump())));
          md.append(
              row(
                  k.started() + " → `Running` in the PodCapture status (watch)",
                  Stats.of(r.toRunning())));
          md.append(row(k.stopped() + " → tcpdump gone", Stats.of(r.toGone())));
          md.append(row(k.stopped() + " → files deleted", Stats.of(r.toFilesDeleted())));
          md.append(
              row(
                  k.stopped() + " → tcpdump gone and files deleted",
                  Stats.of(r.toGoneAndFilesDeleted())));
          md.append(row(k.stopped() + " → PodCapture gone (watch)", Stats.of(r.toCrGone())));
        }
        md.append('\n');
        md.append(
            "A direct PodCapture goes through two hands on its way to tcpdump: the elected agent (the only "
                + "one watching PodCaptures without the node label) writes `Pending` and the label, then the node's "
                + "agent, watching its label, sees it, adds the finalizer and starts tcpdump. Here one agent is both.\n\n");
        for (Rounds r : List.of(annotation, direct)) {
          Stats startT = Stats.of(r.toTcpdump());
          Stats stopPF = Stats.of(r.toGoneAndFilesDeleted());
          target(
              "start ("
                  + r.kind().title()
                  + "): p99 "
                  + r.kind().started()
                  + " → tcpdump running ≤ 200 ms",
              "p99 "
                  + Stats.ms(startT.p99())
                  + " (p50 "
                  + Stats.ms(startT.p50())
                  + "; Running in status p99 "
                  + Stats.ms(Stats.of(r.toRunning()).p99())
                  + ")",
              startT.n() > 0 && startT.p99() <= 200);
          target(
              "stop ("
                  + r.kind().title()
                  + "): p99 "
                  + r.kind().stopped()
                  + " → tcpdump gone and files "
                  + "deleted ≤ 500 ms",
              "p99 "
                  + Stats.ms(stopPF.p99())
                  + " (p50 "
                  + Stats.ms(stopPF.p50())
                  + "; CR gone p99 "
                  + Stats.ms(Stats.of(r.toCrGone()).p99())
                  + ")",
              stopPF.n() > 0 && stopPF.p99() <= 500);
        }

        // 3a: API cost per lifecycle
        md.append("## API cost of one capture\n\n");
        md.append(apiPerLifecycle(annotation, "annotate → Running → remove → PodCapture gone"));
        md.append(apiPerLifecycle(direct, "create → Running → delete → PodCapture gone"));
      }
      if (!load) {
        return md.toString();
      }

      // 1b: 100 Pods annotated at once
      s.api.forget();
      List<String> burstPods = IntStream.range(0, BURST).mapToObj(Workload::podName).toList();
      burstPods.forEach(
          p -> {
            s.runningAt.remove(p);
            s.deletedAt.remove(p);
          });
      String loadB = Machine.loadAverage();
      long cpuB0 = s.agent.cpuMillis();
      long tb = System.nanoTime();
      s.annotateAll(burstPods, "5");
      double patched = ms(System.nanoTime() - tb);
      Map<String, Long> tcpdumpAt = new HashMap<>();
      long deadline = tb + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline
          && (tcpdumpAt.size() < BURST || s.runningAt.size() < BURST)) {
        for (String p : burstPods) {
          if (!tcpdumpAt.containsKey(p) && s.ringStarted(p)) {
            tcpdumpAt.put(p, System.nanoTime());
          }
        }
        AgentProcess.sleepMillis(2);
      }
      List<Double> burstTcpdump = tcpdumpAt.values().stream().map(t -> ms(t - tb)).toList();
      List<Double> burstRunning =
          burstPods.stream()
              .map(s.runningAt::get)
              .filter(x -> x != null)
              .map(t -> ms(t - tb))
              .toList();
      Stats bt = Stats.of(burstTcpdump);
      Stats br = Stats.of(burstRunning);
      double burstCpu = s.agent.cpuMillis() - cpuB0;
      md.append("## 100 Pods annotated at once\n\n");
      md.append(
          String.format(
              Locale.ROOT,
              "%d Pods annotated by 8 concurrent PATCHes (all sent within %.0f ms), "
                  + "with `MAX_CAPTURES=%d` for this run (the default, 16, would keep %d of them Pending by design). "
                  + "Times from the first PATCH. Load %s.%n%n",
              BURST,
              patched,
              BURST_MAX_CAPTURES,
              BURST - 16,
              loadB));
      md.append("| | n | p50 | p90 | p99 | last (all) |\n|---|---|---|---|---|---|\n");
      md.append(row("tcpdump running", bt));
      md.append(row("`Running` in the PodCapture status", br));
      md.append('\n');
      boolean allRunning = br.n() == BURST;
      target(
          "100 simultaneous annotations all `Running` ≤ 5 s",
          allRunning
              ? "all "
                  + BURST
                  + " in "
                  + Stats.ms(br.max())
                  + " (tcpdump: "
                  + Stats.ms(bt.max())
                  + ")"
              : "only " + br.n() + " of " + BURST + " Running within 60 s",
          allRunning && br.max() <= 5000);
      List<BenchApiServer.Call> burstCalls = s.api.agentCalls(tb, System.nanoTime());
      md.append(
          String.format(
              Locale.ROOT,
              "The agent used %.1f s of CPU for the burst and made %d requests " + "(%s).%n%n",
              burstCpu / 1000,
              burstCalls.size(),
              summary(countByVerb(burstCalls))));

      // 3b: steady state with 100 captures running
      List<CompletableFuture<PingResult>> traffic = new ArrayList<>();
      for (NetnsPod p : realPods) {
        traffic.add(
            CompletableFuture.supplyAsync(
                () ->
                    p.ping(
                        Ping.count((STEADY_SECONDS + 25) * 5)
                            .interval(java.time.Duration.ofMillis(200))
                            .deadline(java.time.Duration.ofSeconds(STEADY_SECONDS + 25)))));
      }
      AgentProcess.sleepMillis((REFRESH_SECONDS + 5) * 1000L);
      s.api.forget();
      String loadS0 = Machine.loadAverage();
      long cpu0 = s.agent.cpuMillis();
      long w0 = System.nanoTime();
      AgentProcess.sleepMillis(STEADY_SECONDS * 1000L);
      long w1 = System.nanoTime();
      long cpu1 = s.agent.cpuMillis();
      String loadS1 = Machine.loadAverage();
      AgentProcess.Footprint at100 = s.agent.footprint();
      List<long[]> tcpdumpRss = s.tcpdumpMemoryKiB();
      List<BenchApiServer.Call> steady = s.api.agentCalls(w0, w1);
      md.append(steadyState(steady, w1 - w0, cpu1 - cpu0, loadS0, loadS1, at100, tcpdumpRss));
      traffic.forEach(CompletableFuture::join);

      // stop all 100 at once
      long ts = System.nanoTime();
      s.annotateAll(burstPods, null);
      Long[] allStopped =
          awaitAll(
              ts,
              60_000,
              () -> s.agent.children().isEmpty() ? System.nanoTime() : null,
              () -> burstPods.stream().allMatch(s::filesGone) ? System.nanoTime() : null,
              () -> s.deletedAt.keySet().containsAll(burstPods) ? System.nanoTime() : null);
      md.append(
          String.format(
              Locale.ROOT,
              "Removing the annotation from all %d Pods at once: every tcpdump gone "
                  + "after %s, every file deleted after %s, every PodCapture gone after %s.%n%n",
              BURST,
              opt(allStopped[0], ts),
              opt(allStopped[1], ts),
              opt(allStopped[2], ts)));
      double shutdown = s.agent.stop();
      md.append(
          String.format(Locale.ROOT, "The agent exited %.0f ms after SIGTERM.%n%n", shutdown));
    }
    return md.toString();
  }

  /** Status writes that changed nothing but the files' sizes since the write before them. */
  private static int sizeRefreshes(List<BenchApiServer.Call> calls) {
    int refreshes = 0;
    com.fasterxml.jackson.databind.JsonNode previous = null;
    for (BenchApiServer.Call c : calls) {
      if (!c.isWrite() || !"podcaptures/status".equals(c.resource()) || c.body() == null) {
        continue;
      }
      try {
        com.fasterxml.jackson.databind.node.ObjectNode status =
            (com.fasterxml.jackson.databind.node.ObjectNode)
                new ObjectMapper().readTree(c.body()).path("status");
        status.remove(List.of("files", "fileCount", "totalBytes"));
        if (status.equals(previous)) {
          refreshes++;
        }
        previous = status;
      } catch (IOException | ClassCastException e) {
        previous = null;
      }
    }
    return refreshes;
  }

  /** The phase, message and file sizes of a status write's body, to tell why it was written. */
  private static String statusOf(String body) {
    if (body == null) {
      return "";
    }
    try {
      com.fasterxml.jackson.databind.JsonNode status =
          new ObjectMapper().readTree(body).path("status");
      StringBuilder files = new StringBuilder();
      status.path("files").forEach(f -> files.append(f.path("sizeBytes").asText()).append(' '));
      return "("
          + status.path("phase").asText()
          + ", files "
          + files.toString().strip()
          + ", "
          + status.path("conditions").path(0).path("lastTransitionTime").asText()
          + ")";
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * {@link #rounds()} captures of one kind, one after the other, each on its own Pod: started, held
   * 200 ms, stopped; times taken as in the class comment, and the agent's requests about each
   * capture counted from its start until 300 ms after its PodCapture is gone.
   */
  private Rounds singleCaptures(Session s, CaptureKind kind) {
    List<Double> toTcpdump = new ArrayList<>();
    List<Double> toRunning = new ArrayList<>();
    List<Double> toGone = new ArrayList<>();
    List<Double> toFilesDeleted = new ArrayList<>();
    List<Double> toCrGone = new ArrayList<>();
    List<Map<String, Integer>> lifecycles = new ArrayList<>();
    int failures = 0;
    int otherCalls = 0;
    for (int r = 0; r < rounds(); r++) {
      if (failures == GIVE_UP_AFTER && toTcpdump.isEmpty()) {
        notes.add(
            kind.title()
                + ": the first "
                + GIVE_UP_AFTER
                + " captures did not complete, the other "
                + (rounds() - r)
                + " were not tried (see target/bench/logs/agent.log)");
        failures = rounds();
        break;
      }
      String pod = Workload.podName(r);
      String name = kind.captureName().apply(pod);
      long t0 = System.nanoTime();
      kind.start().accept(s, pod);
      Long[] started =
          awaitAll(
              t0,
              10_000,
              () -> s.ringStarted(name) ? System.nanoTime() : null,
              () -> s.runningAt.get(name));
      long pid = s.tcpdumpPid(name);
      AgentProcess.sleepMillis(200);
      long t1 = System.nanoTime();
      kind.stop().accept(s, pod);
      Long[] stopped =
          awaitAll(
              t1,
              10_000,
              () -> pid > 0 && !Processes.alive(pid) ? System.nanoTime() : null,
              () -> s.filesGone(name) ? System.nanoTime() : null,
              () -> s.deletedAt.get(name));
      AgentProcess.sleepMillis(300);
      long end = System.nanoTime();
      if (Stream.of(started).anyMatch(x -> x == null)
          || Stream.of(stopped).anyMatch(x -> x == null)
          || pid < 0) {
        failures++;
        log(
            "%s %d (%s) incomplete: started %s stopped %s pid %d",
            kind.title(), r, name, Arrays.toString(started), Arrays.toString(stopped), pid);
        continue;
      }
      toTcpdump.add(ms(started[0] - t0));
      toRunning.add(ms(started[1] - t0));
      toGone.add(ms(stopped[0] - t1));
      toFilesDeleted.add(ms(stopped[1] - t1));
      toCrGone.add(ms(stopped[2] - t1));
      List<BenchApiServer.Call> window = s.api.agentCalls(t0, end);
      // the capture's PodCapture, and Events about it or its Pod (the annotation's capture reports
      // on the Pod)
      List<BenchApiServer.Call> mine =
          window.stream().filter(c -> c.concerns(name) || c.concerns(pod)).toList();
      otherCalls += window.size() - mine.size();
      Map<String, Integer> counts = countByVerb(mine);
      int refreshes = sizeRefreshes(mine);
      if (refreshes > 0) {
        counts.put("update podcaptures/status, sizes only", refreshes);
        counts.merge("update podcaptures/status", -refreshes, Integer::sum);
      }
      lifecycles.add(counts);
      long writes = mine.stream().filter(BenchApiServer.Call::isWrite).count() - refreshes;
      if (writes > 6) {
        notes.add(
            kind.title()
                + " "
                + name
                + " made "
                + writes
                + " writes: "
                + mine.stream()
                    .map(
                        c ->
                            c.method()
                                + " "
                                + c.objectPath()
                                + " "
                                + c.code()
                                + (c.resource().endsWith("/status")
                                    ? " " + statusOf(c.body())
                                    : ""))
                    .collect(Collectors.joining("; ")));
      }
      if (r % 10 == 9) {
        log(
            "%s, round %d: start %s / %s, stop %s",
            kind.title(),
            r + 1,
            Stats.ms(toTcpdump.get(toTcpdump.size() - 1)),
            Stats.ms(toRunning.get(toRunning.size() - 1)),
            Stats.ms(toFilesDeleted.get(toFilesDeleted.size() - 1)));
      }
    }
    return new Rounds(
        kind,
        toTcpdump,
        toRunning,
        toGone,
        toFilesDeleted,
        toCrGone,
        lifecycles,
        otherCalls,
        failures);
  }

  private String apiPerLifecycle(Rounds rounds, String lifecycle) {
    StringBuilder md = new StringBuilder();
    Map<String, int[]> byVerb = new TreeMap<>();
    int maxWrites = 0;
    double writes = 0;
    double total = 0;
    for (Map<String, Integer> l : rounds.lifecycles()) {
      int w = 0;
      for (Map.Entry<String, Integer> e : l.entrySet()) {
        if (e.getValue() == 0) {
          continue;
        }
        int[] agg = byVerb.computeIfAbsent(e.getKey(), k -> new int[3]);
        agg[0] += e.getValue();
        agg[1] = Math.max(agg[1], e.getValue());
        total += e.getValue();
        if (isWrite(e.getKey()) && !e.getKey().endsWith("sizes only")) {
          w += e.getValue();
        }
      }
      maxWrites = Math.max(maxWrites, w);
      writes += w;
    }
    int n = Math.max(1, rounds.lifecycles().size());
    String title = rounds.kind().title();
    md.append("### ")
        .append(Character.toUpperCase(title.charAt(0)))
        .append(title.substring(1))
        .append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Requests the agent made per capture lifecycle (%s), over the %d single "
                + "captures above: %.2f in all, %.2f of them writes (at most %d in one lifecycle). Counted are the "
                + "requests about the capture's own PodCapture and the Events about it or its Pod; the agent made %d "
                + "requests about other things (Lease renewals, for one) during these lifecycles. No size refresh is due "
                + "inside a lifecycle this short.%n%n",
            lifecycle,
            rounds.lifecycles().size(),
            total / n,
            writes / n,
            maxWrites,
            rounds.otherCalls()));
    md.append("| request | write | mean per lifecycle | max |\n|---|---|---|---|\n");
    byVerb.forEach(
        (k, v) ->
            md.append(
                String.format(
                    Locale.ROOT,
                    "| %s | %s | %.2f | %d |%n",
                    k,
                    k.endsWith("sizes only") ? "yes, a size refresh" : isWrite(k) ? "yes" : "no",
                    v[0] / (double) n,
                    v[1])));
    md.append('\n');
    target(
        "≤ 6 writes per capture lifecycle, " + title + " (beyond size refreshes)",
        String.format(Locale.ROOT, "%.2f on average, at most %d", writes / n, maxWrites),
        !rounds.lifecycles().isEmpty() && maxWrites <= 6);
    return md.toString();
  }

  private String steadyState(
      List<BenchApiServer.Call> calls,
      long windowNanos,
      long cpuMillis,
      String load0,
      String load1,
      AgentProcess.Footprint at100,
      List<long[]> tcpdumpRss) {
    StringBuilder md = new StringBuilder();
    double minutes = windowNanos / 60e9;
    Map<String, Integer> byVerb = countByVerb(calls);
    Map<String, List<Long>> statusWrites = new TreeMap<>();
    for (BenchApiServer.Call c : calls) {
      if (c.isWrite() && "podcaptures/status".equals(c.resource())) {
        statusWrites.computeIfAbsent(c.name(), k -> new ArrayList<>()).add(c.nanos());
      }
    }
    List<String> trafficPods = IntStream.range(0, REAL_PODS).mapToObj(Workload::podName).toList();
    int idleWrites =
        statusWrites.entrySet().stream()
            .filter(e -> !trafficPods.contains(e.getKey()))
            .mapToInt(e -> e.getValue().size())
            .sum();
    double minGap = Double.MAX_VALUE;
    int maxPerCapture = 0;
    for (List<Long> times : statusWrites.values()) {
      maxPerCapture = Math.max(maxPerCapture, times.size());
      for (int i = 1; i < times.size(); i++) {
        minGap = Math.min(minGap, (times.get(i) - times.get(i - 1)) / 1e9);
      }
    }
    int allowed = (int) Math.ceil(windowNanos / 1e9 / REFRESH_SECONDS);
    boolean met = idleWrites == 0 && maxPerCapture <= allowed;
    md.append("## Steady state with 100 captures\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%d captures running, `STATUS_REFRESH_SECONDS=%d`; %d of the Pods "
                + "(real namespaces) ping 5 times a second so their files grow, the other %d see no traffic. Window of "
                + "%.0f s, starting %d s after the burst. Load %s → %s.%n%n",
            BURST,
            REFRESH_SECONDS,
            REAL_PODS,
            BURST - REAL_PODS,
            windowNanos / 1e9,
            REFRESH_SECONDS + 5,
            load0,
            load1));
    md.append("| request | write | per minute |\n|---|---|---|\n");
    byVerb.forEach(
        (k, v) ->
            md.append(
                String.format(
                    Locale.ROOT,
                    "| %s | %s | %.1f |%n",
                    k,
                    isWrite(k) ? "yes" : "no",
                    v / minutes)));
    md.append(String.format(Locale.ROOT, "| all | | %.1f |%n%n", calls.size() / minutes));
    md.append(
        String.format(
            Locale.ROOT,
            "Status writes: %d for the %d captures with traffic (at most %d for one "
                + "capture in the window, %s apart at the closest), %d for the %d captures without. Agent CPU: %.0f "
                + "millicores on average. Agent with 100 captures: RSS %s, heap used %s, %d threads; tcpdump %s "
                + "each; agent and tcpdumps together in their memory cgroup: %s.%n%n",
            statusWrites.entrySet().stream()
                .filter(e -> trafficPods.contains(e.getKey()))
                .mapToInt(e -> e.getValue().size())
                .sum(),
            REAL_PODS,
            maxPerCapture,
            minGap == Double.MAX_VALUE ? "n/a" : String.format(Locale.ROOT, "%.1f s", minGap),
            idleWrites,
            BURST - REAL_PODS,
            cpuMillis / (windowNanos / 1e9),
            mib(at100.rssKiB()),
            mib(at100.heapUsedKiB()),
            at100.threads(),
            rssRange(tcpdumpRss),
            mib(at100.cgroupKiB())));
    target(
        "steady state: ≤ 1 status write per capture per refresh, none when unchanged",
        String.format(
            Locale.ROOT,
            "%d writes for %d unchanged captures; at most %d per changing capture in %.0f s (≤ %d allowed); "
                + "%.1f requests/min in all",
            idleWrites,
            BURST - REAL_PODS,
            maxPerCapture,
            windowNanos / 1e9,
            allowed,
            calls.size() / minutes),
        met);
    return md.toString();
  }

  // ---- footprint: the agent process with each HTTP client and JVM flags
  // --------------------------------------

  record Variant(
      String client,
      String how,
      List<String> flags,
      List<String> launch,
      Map<String, String> env) {}

  private String footprint(Shipped shipped) throws Exception {
    List<Variant> variants = new ArrayList<>();
    List<String> jarLaunch = List.of("-jar", jar().toString());
    variants.add(new Variant("JDK", "shipped jar, JVM defaults", List.of(), jarLaunch, Map.of()));
    variants.add(
        new Variant("JDK", "shipped jar, flags before tuning", INITIAL_FLAGS, jarLaunch, Map.of()));
    variants.add(
        new Variant(
            "JDK", "shipped jar, shipped flags", shipped.flags(), jarLaunch, shipped.env()));
    Map<String, List<String>> classpaths =
        "shipped".equals(options.get("footprint")) ? Map.of() : clientClasspaths();
    if ("shipped".equals(options.get("footprint"))) {
      variants.removeIf(v -> !v.how().equals("shipped jar, shipped flags"));
      notes.add(
          "run with --footprint=shipped: only the shipped configuration's footprint was measured");
    }
    for (String client : List.of("JDK", "Vert.x", "OkHttp")) {
      List<String> cp = classpaths.get(client);
      if (cp == null) {
        notes.add(
            "HTTP client "
                + client
                + " not compared: its jars were not on the benchmark classpath "
                + "(run with -Pbench, as bench/run.sh does)");
        continue;
      }
      List<String> launch = List.of("-cp", String.join(":", cp), "io.podcapture.Main");
      if (!"JDK".equals(client)) {
        variants.add(new Variant(client, "classpath, JVM defaults", List.of(), launch, Map.of()));
      }
      variants.add(
          new Variant(client, "classpath, shipped flags", shipped.flags(), launch, shipped.env()));
    }
    StringBuilder md = new StringBuilder();
    md.append("## Footprint of the agent process\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%d Pods on the node; the agent started, read 5 s after ready with no "
                + "capture, then again 5 s after %d captures are Running. RSS is VmRSS, peak is VmHWM. Load at start: "
                + "%s.%n%n",
            PODS,
            FOOTPRINT_CAPTURES,
            Machine.loadAverage()));
    md.append(
        "| HTTP client | how | ready | CPU to ready | RSS, 0 captures | heap used | threads | RSS, 16 captures "
            + "| peak RSS | heap used | metaspace | threads | each tcpdump | cgroup, 0 / 16 captures (peak) |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Variant v : variants) {
      log("footprint: %s, %s", v.client(), v.how());
      try {
        md.append(footprintRow(v));
      } catch (Exception e) {
        log("footprint of %s, %s failed: %s", v.client(), v.how(), e);
        md.append("| ")
            .append(v.client())
            .append(" | ")
            .append(v.how())
            .append(" | failed: ")
            .append(String.valueOf(e.getMessage()).replace('|', '/'))
            .append(" |||||||||||\n");
      }
    }
    md.append('\n');
    md.append(
        "Flags: *JVM defaults* is no flag at all (on this machine the JVM then sizes its heap for "
            + Machine.read().memoryMiB()
            + " MiB of RAM; in a container it would size it for the limit); *before "
            + "tuning* is `"
            + String.join(" ", INITIAL_FLAGS)
            + "`; *shipped* is the Dockerfile's. *classpath* runs "
            + "the same classes unshaded with exactly one fabric8 HTTP client, to compare clients like for like.\n\n");
    md.append(String.format(Locale.ROOT, "Load at end: %s.%n%n", Machine.loadAverage()));
    return md.toString();
  }

  private String footprintRow(Variant v) throws Exception {
    String slug =
        (v.client() + "-" + v.how()).replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(Locale.ROOT);
    try (Session s =
        new Session(
            work.resolve("fp-" + slug),
            logs().resolve("footprint-" + slug + ".log"),
            podIps,
            v.flags(),
            v.launch(),
            v.env())) {
      podJsonBytesSeen = s.podJsonBytes;
      double readyMs = s.agent.awaitReady(60);
      long readyCpu = s.agent.cpuMillis();
      AgentProcess.sleepMillis(5000);
      AgentProcess.Footprint idle = s.agent.footprint();
      String idleDiagnosis = "";
      if (options.containsKey("diagnose")) {
        AgentProcess.run(
            List.of("jcmd", Long.toString(s.agent.pid()), "VM.native_memory", "baseline"));
        idleDiagnosis =
            AgentProcess.run(List.of("cat", "/proc/" + s.agent.pid() + "/smaps_rollup"));
      }
      List<String> pods =
          IntStream.range(0, FOOTPRINT_CAPTURES).mapToObj(Workload::podName).toList();
      s.annotateAll(pods, "5");
      long t0 = System.nanoTime();
      while (!s.runningAt.keySet().containsAll(pods)
          && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30)) {
        AgentProcess.sleepMillis(20);
      }
      if (!s.runningAt.keySet().containsAll(pods)) {
        throw new IllegalStateException(
            "not all " + FOOTPRINT_CAPTURES + " captures Running within 30 s");
      }
      AgentProcess.sleepMillis(5000);
      AgentProcess.Footprint busy = s.agent.footprint();
      List<long[]> tcpdumps = s.tcpdumpMemoryKiB();
      if (options.containsKey("diagnose")) {
        // for tuning by hand: what the JVM's memory is made of (needs
        // -XX:NativeMemoryTracking=summary in --flags)
        String report =
            idleDiagnosis
                + AgentProcess.run(
                    List.of(
                        "jcmd", Long.toString(s.agent.pid()), "VM.native_memory", "summary.diff"))
                + AgentProcess.run(List.of("jcmd", Long.toString(s.agent.pid()), "Thread.print"))
                + AgentProcess.run(List.of("cat", "/proc/" + s.agent.pid() + "/smaps"))
                + AgentProcess.run(
                        List.of("jcmd", Long.toString(s.agent.pid()), "GC.class_histogram"))
                    .lines()
                    .limit(40)
                    .collect(Collectors.joining("\n"))
                + AgentProcess.run(List.of("jcmd", Long.toString(s.agent.pid()), "GC.heap_info"))
                + AgentProcess.run(
                    List.of("jcmd", Long.toString(s.agent.pid()), "VM.classloader_stats"));
        Files.writeString(logs().resolve("diagnose-" + slug + ".txt"), report);
      }
      log(
          "  ready %.0f ms, RSS %s → %s (peak %s), heap %s → %s, threads %d → %d",
          readyMs,
          mib(idle.rssKiB()),
          mib(busy.rssKiB()),
          mib(busy.hwmKiB()),
          mib(idle.heapUsedKiB()),
          mib(busy.heapUsedKiB()),
          idle.threads(),
          busy.threads());
      boolean isShipped = "shipped jar, shipped flags".equals(v.how());
      if (isShipped) {
        target(
            "footprint: agent RSS ≤ 96 MiB with 110 Pods and 16 captures",
            "RSS "
                + mib(busy.rssKiB())
                + ", peak "
                + mib(busy.hwmKiB())
                + " (0 captures: "
                + mib(idle.rssKiB())
                + ")",
            busy.rssKiB() <= 96 * 1024 && busy.hwmKiB() <= 96 * 1024);
        target(
            "ready ≤ 3 s after process start",
            Stats.ms(readyMs)
                + " ("
                + s.agent.readySource()
                + "), using "
                + String.format(Locale.ROOT, "%.1f", readyCpu / 1000.0)
                + " s of CPU",
            readyMs <= 3000);
      }
      return String.format(
          Locale.ROOT,
          "| %s | %s | %s | %.1f s | %s | %s | %d | %s | %s | %s | %s | %d | %s | %s |%n",
          v.client(),
          isShipped ? "**" + v.how() + "**" : v.how(),
          Stats.ms(readyMs),
          readyCpu / 1000.0,
          mib(idle.rssKiB()),
          mib(idle.heapUsedKiB()),
          idle.threads(),
          isShipped ? "**" + mib(busy.rssKiB()) + "**" : mib(busy.rssKiB()),
          mib(busy.hwmKiB()),
          mib(busy.heapUsedKiB()),
          mib(busy.metaspaceUsedKiB()),
          busy.threads(),
          rssRange(tcpdumps),
          mib(idle.cgroupKiB()).replace(" MiB", "")
              + " / "
              + mib(busy.cgroupKiB())
              + " ("
              + mib(busy.cgroupPeakKiB())
              + ")");
    }
  }

  /** Classpaths with exactly one fabric8 HTTP client each, from the lists bench/run.sh wrote. */
  private Map<String, List<String>> clientClasspaths() throws IOException {
    Path runtime =
        Path.of(options.getOrDefault("runtime-classpath", "target/bench/runtime.classpath"));
    Path bench = Path.of(options.getOrDefault("bench-classpath", "target/bench/bench.classpath"));
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (!Files.exists(runtime) || !Files.exists(bench)) {
      return out;
    }
    List<String> base = new ArrayList<>();
    base.add(project.resolve("target/classes").toString());
    for (String e : Files.readString(runtime).strip().split(":")) {
      if (!e.contains("kubernetes-httpclient-")) {
        base.add(e);
      }
    }
    List<String> all = Arrays.asList(Files.readString(bench).strip().split(":"));
    Map<String, Pattern> clients =
        Map.of(
            "JDK", Pattern.compile("kubernetes-httpclient-jdk"),
            "Vert.x", Pattern.compile("kubernetes-httpclient-vertx|/io/vertx/|/io/netty/"),
            "OkHttp",
                Pattern.compile(
                    "kubernetes-httpclient-okhttp|/com/squareup/|/org/jetbrains/kotlin/"));
    for (String client : List.of("JDK", "Vert.x", "OkHttp")) {
      List<String> extra = all.stream().filter(e -> clients.get(client).matcher(e).find()).toList();
      if (extra.stream().anyMatch(e -> e.contains("kubernetes-httpclient-"))) {
        List<String> cp = new ArrayList<>(base);
        extra.stream().filter(e -> !cp.contains(e)).forEach(cp::add);
        out.put(client, cp);
      }
    }
    return out;
  }

  // ---- completeness: flood ping into tcpdump's ring
  // ----------------------------------------------------------

  private String completeness() throws Exception {
    NetnsPod pod = realPods.get(0);
    Path dir = work.resolve("flood");
    Files.createDirectories(dir);
    List<IpLiteral> ips = new ArrayList<>();
    for (String ip : pod.ips()) {
      ips.add(IpLiteral.parse(ip));
    }
    Path ring = dir.resolve("capture-flood.pcap");
    // the filter the agent runs on this machine: the Pod filter, without the node devices that
    // repeat Pod traffic
    String filter =
        PodFilter.of(ips, NodeInterfaces.read(NodeInterfaces.SYS_CLASS_NET).repeating());
    List<String> argv =
        TcpdumpCommand.of(CaptureConfig.of(dir)).argv(ring, FLOOD_RING_FILES, 1, filter);
    String load0 = Machine.loadAverage();
    Path stderrFile = work.resolve("flood-stderr.txt");
    Process tcpdump =
        new ProcessBuilder(argv)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(stderrFile.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    long t0 = System.nanoTime();
    while (!Files.exists(dir.resolve("capture-flood.pcap000")) && System.nanoTime() - t0 < 5e9) {
      AgentProcess.sleepMillis(1);
    }
    long cpu0 = AgentProcess.cpuMillis(tcpdump.pid());
    long idleRss = AgentProcess.procStatus(tcpdump.pid()).getOrDefault("VmRSS", -1L);
    log("completeness: flood ping for %d s", FLOOD_SECONDS);
    long f0 = System.nanoTime();
    PingResult ping =
        pod.ping(
            Ping.count(100_000_000)
                .flooding()
                .deadline(java.time.Duration.ofSeconds(FLOOD_SECONDS)));
    double floodSeconds = (System.nanoTime() - f0) / 1e9;
    // libpcap hands packets over in blocks, a block once full or after its timeout (tcpdump's 1 s):
    // stopping
    // sooner would leave the flood's last packets unread in the kernel ring, which is not what this
    // measures
    AgentProcess.sleepMillis(2500);
    Map<String, Long> status = AgentProcess.procStatus(tcpdump.pid());
    long cpu1 = AgentProcess.cpuMillis(tcpdump.pid());
    tcpdump.destroy();
    tcpdump.waitFor(10, TimeUnit.SECONDS);
    String err = Files.readString(stderrFile);
    long captured = counter(err, "packets captured");
    long byFilter = counter(err, "packets received by filter");
    long dropped = counter(err, "packets dropped by kernel");
    if (captured < 0 || dropped < 0) {
      notes.add(
          "tcpdump's counters were not found in its stderr: " + err.strip().replace('\n', ' '));
    }
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files =
          list.filter(p -> p.getFileName().toString().startsWith("capture-flood.pcap"))
              .sorted()
              .toList();
    }
    PcapRecords.Count ringCount = new PcapRecords.Count(0, 0);
    long bytes = 0;
    for (Path f : files) {
      ringCount = ringCount.plus(PcapRecords.count(f));
      bytes += Files.size(f);
    }
    long inRing = ringCount.echoes();
    Session.deleteTree(dir);
    String load1 = Machine.loadAverage();
    long expected = (long) ping.transmitted() + ping.received();
    double share = expected == 0 ? 0 : 100.0 * inRing / expected;
    boolean wrapped = files.size() >= FLOOD_RING_FILES;
    StringBuilder md = new StringBuilder();
    md.append("## Completeness under a flood ping\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`ping -f` from a namespace Pod to its host side for %.1f s, captured "
                + "by `%s`. Load %s → %s.%n%n",
            floodSeconds,
            String.join(" ", argv).replace(dir.toString(), "<dir>"),
            load0,
            load1));
    md.append("| | |\n|---|---|\n");
    md.append(
        String.format(
            Locale.ROOT,
            "| echo requests sent / replies received | %,d / %,d (%,.0f per second) |%n",
            ping.transmitted(),
            ping.received(),
            ping.transmitted() / floodSeconds));
    md.append(
        String.format(Locale.ROOT, "| pings on the wire (requests + replies) | %,d |%n", expected));
    md.append(String.format(Locale.ROOT, "| pings in the ring | %,d (%.3f%%) |%n", inRing, share));
    md.append(
        String.format(
            Locale.ROOT,
            "| all packets in the ring | %,d (the rest: neighbour discovery and such of "
                + "the Pod's addresses), %d files, %.0f MB%s |%n",
            ringCount.packets(),
            files.size(),
            bytes / 1e6,
            wrapped ? ", ring full: older files rotated away" : ""));
    md.append(
        String.format(
            Locale.ROOT,
            "| tcpdump: captured / received by filter / dropped by kernel | %,d / %,d "
                + "/ %,d |%n",
            captured,
            byFilter,
            dropped));
    md.append(
        String.format(
            Locale.ROOT,
            "| tcpdump RSS idle / under flood (peak) | %s / %s |%n",
            mib(idleRss),
            mib(status.getOrDefault("VmHWM", -1L))));
    md.append(
        String.format(
            Locale.ROOT,
            "| tcpdump CPU during the flood | %.0f%% of one core |%n%n",
            100.0 * (cpu1 - cpu0) / 1000 / floodSeconds));
    target(
        "completeness: 100% of sent packets in the ring, 0 dropped",
        String.format(
            Locale.ROOT,
            "%.3f%% (%,d of %,d pings), %d dropped by the kernel at %,.0f pings/s",
            share,
            inRing,
            expected,
            dropped,
            ping.transmitted() / floodSeconds),
        inRing == expected && dropped == 0 && !wrapped);
    return md.toString();
  }

  // ---- tcpdump's CPU time per packet, old filter and Pod filter side by side
  // ----------------------------------------

  private String cpuPerPacket() throws Exception {
    NetnsPod pod = realPods.get(0);
    List<IpLiteral> ips = new ArrayList<>();
    for (String ip : pod.ips()) {
      ips.add(IpLiteral.parse(ip));
    }
    Map<String, String> filters = new LinkedHashMap<>();
    filters.put("old: `host <ip>`", TcpdumpCommand.hostFilter(ips));
    filters.put(
        "Pod filter",
        PodFilter.of(ips, NodeInterfaces.read(NodeInterfaces.SYS_CLASS_NET).repeating()));
    Map<String, Process> tcpdumps = new LinkedHashMap<>();
    Map<String, Path> stderrFiles = new LinkedHashMap<>();
    Map<String, Path> dirs = new LinkedHashMap<>();
    int n = 0;
    for (Map.Entry<String, String> f : filters.entrySet()) {
      Path dir = Files.createDirectories(work.resolve("cpu-" + n));
      Path stderrFile = work.resolve("cpu-" + n + "-stderr.txt");
      List<String> argv =
          TcpdumpCommand.of(CaptureConfig.of(dir))
              .argv(dir.resolve("capture-cpu.pcap"), FLOOD_RING_FILES, 1, f.getValue());
      tcpdumps.put(
          f.getKey(),
          new ProcessBuilder(argv)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(stderrFile.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start());
      stderrFiles.put(f.getKey(), stderrFile);
      dirs.put(f.getKey(), dir);
      long t0 = System.nanoTime();
      while (!Files.exists(dir.resolve("capture-cpu.pcap000")) && System.nanoTime() - t0 < 5e9) {
        AgentProcess.sleepMillis(1);
      }
      n++;
    }
    String load0 = Machine.loadAverage();
    Map<String, Long> cpu0 = new LinkedHashMap<>();
    tcpdumps.forEach((name, p) -> cpu0.put(name, AgentProcess.cpuMillis(p.pid())));
    log("cpu per packet: flood ping for %d s into two tcpdumps", FLOOD_SECONDS);
    long f0 = System.nanoTime();
    PingResult ping =
        pod.ping(
            Ping.count(100_000_000)
                .flooding()
                .deadline(java.time.Duration.ofSeconds(FLOOD_SECONDS)));
    double floodSeconds = (System.nanoTime() - f0) / 1e9;
    // as for completeness: give libpcap its block timeout before stopping, so every packet is
    // processed
    AgentProcess.sleepMillis(2500);
    Map<String, Long> cpu1 = new LinkedHashMap<>();
    tcpdumps.forEach((name, p) -> cpu1.put(name, AgentProcess.cpuMillis(p.pid())));
    for (Process p : tcpdumps.values()) {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    String load1 = Machine.loadAverage();
    StringBuilder md = new StringBuilder();
    md.append("## tcpdump CPU time per packet: old filter and Pod filter\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Both at once on one `ping -f` from a namespace Pod to its host side for "
                + "%.1f s (%,d requests sent, %,d replies); the agent's argv with each filter. Load %s → %s.%n%n",
            floodSeconds,
            ping.transmitted(),
            ping.received(),
            load0,
            load1));
    md.append(
        "| filter | BPF instructions | packets captured | dropped by kernel | CPU (user + system) "
            + "| CPU per packet |\n|---|---|---|---|---|---|\n");
    Map<String, Double> perPacket = new LinkedHashMap<>();
    for (String name : filters.keySet()) {
      String err = Files.readString(stderrFiles.get(name));
      long captured = counter(err, "packets captured");
      long dropped = counter(err, "packets dropped by kernel");
      long cpuMillis = cpu1.get(name) - cpu0.get(name);
      double micros = captured > 0 ? 1000.0 * cpuMillis / captured : Double.NaN;
      perPacket.put(name, micros);
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %,d | %,d | %,d ms | %.2f µs |%n",
              name,
              bpfInstructions(filters.get(name)),
              captured,
              dropped,
              cpuMillis,
              micros));
      Session.deleteTree(dirs.get(name));
    }
    double ratio = perPacket.get("Pod filter") / perPacket.get("old: `host <ip>`");
    md.append(
        String.format(
            Locale.ROOT, "%nPod filter / old filter, CPU per packet: **%.2f**.%n%n", ratio));
    target(
        "tcpdump CPU per packet, Pod filter / old filter (same flood)",
        String.format(
            Locale.ROOT,
            "%.2f (%.2f µs / %.2f µs)",
            ratio,
            perPacket.get("Pod filter"),
            perPacket.get("old: `host <ip>`")),
        ratio < 1.5);
    return md.toString();
  }

  /**
   * The length of the BPF program tcpdump compiles {@code filter} to for link type LINUX_SLL2
   * ({@code any}).
   */
  private long bpfInstructions(String filter) throws Exception {
    Process p =
        new ProcessBuilder("tcpdump", "-d", "-r", "-", "--", filter)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (var stdin = p.getOutputStream()) {
      // an empty pcap file of link type LINUX_SLL2, as the agent compiles filters (FilterCompiler)
      stdin.write(
          java.util.HexFormat.of().parseHex("d4c3b2a10200040000000000000000000000040014010000"));
    }
    long lines =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
            .lines()
            .filter(l -> l.startsWith("("))
            .count();
    p.waitFor(10, TimeUnit.SECONDS);
    return lines;
  }

  private static long counter(String stderr, String what) {
    Matcher m = Pattern.compile("(\\d+) " + Pattern.quote(what)).matcher(stderr);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  // ---- helpers
  // -------------------------------------------------------------------------------------------------

  /** Agent logs of the last run, kept for a look after it. */
  private Path logs() {
    return project.resolve("target/bench/logs");
  }

  /**
   * Single captures of each kind: ROUNDS, or --rounds for a quick look by hand (the results then
   * say so).
   */
  private int rounds() {
    return Integer.parseInt(options.getOrDefault("rounds", Integer.toString(ROUNDS)));
  }

  private Path jar() {
    return project.resolve(options.getOrDefault("jar", "target/podcapture-agent.jar"));
  }

  /**
   * Polls every millisecond until every probe has given a time (System.nanoTime), or the timeout
   * passes.
   */
  @SafeVarargs
  private static Long[] awaitAll(long t0, long timeoutMillis, Supplier<Long>... probes) {
    Long[] at = new Long[probes.length];
    long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (int i = 0; i < probes.length; i++) {
        if (at[i] == null) {
          at[i] = probes[i].get();
          all &= at[i] != null;
        }
      }
      if (all) {
        break;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    return at;
  }

  private static Map<String, Integer> countByVerb(List<BenchApiServer.Call> calls) {
    Map<String, Integer> counts = new TreeMap<>();
    for (BenchApiServer.Call c : calls) {
      String key = c.verb() + " " + c.resource() + (c.code() >= 400 ? " (" + c.code() + ")" : "");
      counts.merge(key, 1, Integer::sum);
    }
    return counts;
  }

  private static boolean isWrite(String verbResource) {
    return !(verbResource.startsWith("get ")
        || verbResource.startsWith("list ")
        || verbResource.startsWith("watch "));
  }

  private static String summary(Map<String, Integer> counts) {
    return counts.entrySet().stream()
        .map(e -> e.getValue() + " " + e.getKey())
        .collect(Collectors.joining(", "));
  }

  private void target(String what, String measured, boolean met) {
    targets.add(new String[] {what, measured, met ? "met" : "**missed**"});
  }

  private static String row(String what, Stats s) {
    return String.format(
        Locale.ROOT,
        "| %s | %d | %s | %s | %s | %s |%n",
        what,
        s.n(),
        Stats.ms(s.p50()),
        Stats.ms(s.p90()),
        Stats.ms(s.p99()),
        Stats.ms(s.max()));
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static String opt(Long at, long t0) {
    return at == null ? "(not within 60 s)" : Stats.ms(ms(at - t0));
  }

  static String mib(long kib) {
    return kib < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", kib / 1024.0);
  }

  /** "RSS a–b MiB (PSS c–d MiB)" over the tcpdumps. */
  private static String rssRange(List<long[]> kib) {
    if (kib.isEmpty()) {
      return "n/a";
    }
    return "RSS "
        + range(kib.stream().mapToLong(k -> k[0]).toArray())
        + " (PSS "
        + range(kib.stream().mapToLong(k -> k[1]).toArray())
        + ")";
  }

  private static String range(long[] kib) {
    long min = Arrays.stream(kib).min().orElse(0);
    long max = Arrays.stream(kib).max().orElse(0);
    return Math.abs(max - min) < 103 ? mib(max) : mib(min).replace(" MiB", "") + "–" + mib(max);
  }

  private static void log(String format, Object... args) {
    System.out.printf(
        Locale.ROOT,
        "[bench %s] %s%n",
        java.time.LocalTime.now(java.time.ZoneOffset.UTC).withNano(0),
        String.format(Locale.ROOT, format, args));
  }

  /**
   * The JVM flags and environment the image ships, read from the Dockerfile so the benchmark runs
   * what ships.
   */
  record Shipped(List<String> flags, Map<String, String> env) {

    static Shipped read(Path dockerfile) throws IOException {
      List<String> lines = new ArrayList<>();
      StringBuilder current = new StringBuilder();
      for (String line : Files.readAllLines(dockerfile)) {
        String s = line.strip();
        if (s.startsWith("#") || (s.isEmpty() && current.length() == 0)) {
          continue;
        }
        boolean more = s.endsWith("\\");
        current.append(more ? s.substring(0, s.length() - 1) : s).append(' ');
        if (!more) {
          lines.add(current.toString().strip());
          current.setLength(0);
        }
      }
      int lastFrom = 0;
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).toUpperCase(Locale.ROOT).startsWith("FROM ")) {
          lastFrom = i;
        }
      }
      List<String> flags = null;
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : lines.subList(lastFrom, lines.size())) {
        if (line.startsWith("ENTRYPOINT ")) {
          List<String> argv =
              new ObjectMapper()
                  .readValue(
                      line.substring("ENTRYPOINT ".length()), new TypeReference<List<String>>() {});
          int jar = argv.indexOf("-jar");
          flags = List.copyOf(argv.subList(1, jar));
        } else if (line.startsWith("ENV ")) {
          for (String pair : line.substring(4).strip().split("\\s+")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
              env.put(pair.substring(0, eq), pair.substring(eq + 1).replace("\"", ""));
            }
          }
        }
      }
      if (flags == null) {
        throw new IllegalStateException("no ENTRYPOINT in " + dockerfile);
      }
      return new Shipped(flags, env);
    }
  }
}
