package io.podcapture.bench;

import io.podcapture.filesapi.TlsMaterial;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** The agent process's footprint with each HTTP client and set of JVM flags, idle and busy. */
final class FootprintPhase {
  static final int FOOTPRINT_CAPTURES = 16;
  static final String SHIPPED = "shipped jar, shipped flags";

  /**
   * The shipped configuration as a cluster with the files API runs it (issue 22): the agents'
   * Secret mounted, so the agent's file server is listening, and one HTTPS request (refused, 401)
   * has loaded its TLS and HTTP classes.
   */
  static final String SHIPPED_SERVING = "shipped jar, shipped flags, file server serving";

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

  /** One way to run the agent: an HTTP client, how it is launched, flags and environment. */
  record Variant(
      String client, String how, List<String> flags, List<String> launch, Map<String, String> env) {

    boolean shipped() {
      return SHIPPED.equals(how) || SHIPPED_SERVING.equals(how);
    }

    /** The port its file server listens on, or -1 for none. */
    int filesPort() {
      return Integer.parseInt(env.getOrDefault("FILES_PORT", "-1"));
    }
  }

  /** One variant's readings: 5 s after ready, and 5 s after the captures are Running. */
  record Reading(
      double readyMs,
      String readySource,
      long readyCpuMillis,
      AgentProcess.Footprint idle,
      AgentProcess.Footprint busy,
      List<long[]> tcpdumpKiB) {}

  /** A variant and its reading, or why it could not be read. */
  record Row(Variant variant, Reading reading, String failure) {}

  /** Every variant's row, with the load before and after. */
  record Result(String load0, String load1, long memoryMiB, List<Row> rows) {}

  private final Workbench bench;

  FootprintPhase(Workbench bench) {
    this.bench = bench;
  }

  Result measure(Shipped shipped) throws Exception {
    List<Variant> variants = variants(shipped);
    String load0 = Machine.loadAverage();
    List<Row> rows = new ArrayList<>();
    for (Variant v : variants) {
      Workbench.log("footprint: %s, %s", v.client(), v.how());
      try {
        rows.add(new Row(v, read(v), null));
      } catch (Exception e) {
        Workbench.log("footprint of %s, %s failed: %s", v.client(), v.how(), e);
        rows.add(new Row(v, null, String.valueOf(e.getMessage())));
      }
    }
    return new Result(load0, Machine.loadAverage(), Machine.read().memoryMiB(), rows);
  }

  private List<Variant> variants(Shipped shipped) throws Exception {
    List<Variant> variants = new ArrayList<>();
    List<String> jarLaunch = List.of("-jar", bench.jar().toString());
    variants.add(new Variant("JDK", "shipped jar, JVM defaults", List.of(), jarLaunch, Map.of()));
    variants.add(
        new Variant("JDK", "shipped jar, flags before tuning", INITIAL_FLAGS, jarLaunch, Map.of()));
    Map<String, String> noServer = new LinkedHashMap<>(shipped.env());
    noServer.put("FILES_TLS_DIR", bench.work.resolve("fp-no-tls").toString());
    variants.add(new Variant("JDK", SHIPPED, shipped.flags(), jarLaunch, noServer));
    Map<String, String> serving = new LinkedHashMap<>(shipped.env());
    serving.put("FILES_TLS_DIR", agentTls().toString());
    serving.put("FILES_PORT", Integer.toString(Session.freePort()));
    variants.add(new Variant("JDK", SHIPPED_SERVING, servingFlags(shipped), jarLaunch, serving));
    if ("shipped".equals(bench.options.get("footprint"))) {
      variants.removeIf(v -> !v.shipped());
      bench.notes.add(
          "run with --footprint=shipped: only the shipped configuration's footprint was measured");
      return variants;
    }
    List<String> classpath = unshadedClasspath();
    if (classpath == null) {
      bench.notes.add(
          "the classpath row was not measured: no runtime classpath (bench/run.sh writes it)");
    } else {
      variants.add(
          new Variant(
              "JDK",
              "classpath, shipped flags",
              shipped.flagsWithoutArchive(),
              List.of("-cp", String.join(":", classpath), "io.podcapture.Main"),
              shipped.env()));
    }
    return variants;
  }

  /**
   * The shipped flags, or with --classlist=FILE the flags that write the classes the agent loads to
   * FILE (without any class data archive, so every class is listed): what the image's archive is
   * made from ({@code bench/run.sh --phases=footprint --footprint=shipped --server=mock
   * --classlist=deploy/agent.classlist}). That row's figures are then without the archive.
   */
  private List<String> servingFlags(Shipped shipped) {
    String classList = bench.options.get("classlist");
    if (classList == null) {
      return shipped.flags();
    }
    List<String> flags = new ArrayList<>(shipped.flagsWithoutArchive());
    flags.add("-Xshare:off");
    flags.add("-XX:DumpLoadedClassList=" + bench.project.resolve(classList));
    bench.notes.add(
        "run with --classlist: the row *"
            + SHIPPED_SERVING
            + "* ran without a class data archive and wrote the classes it loaded to "
            + classList);
    return flags;
  }

  private Reading read(Variant v) throws Exception {
    String slug =
        (v.client() + "-" + v.how()).replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(Locale.ROOT);
    try (Session s =
        new Session(
            new BenchApiServer(true),
            bench.work.resolve("fp-" + slug),
            bench.logs().resolve("footprint-" + slug + ".log"),
            bench.podIps,
            v.flags(),
            v.launch(),
            v.env())) {
      bench.podJsonBytesSeen = s.podJsonBytes;
      double readyMs = s.agent.awaitReady(60);
      long readyCpu = s.agent.cpuMillis();
      if (v.filesPort() > 0) {
        refusedFileRequest(v.filesPort());
      }
      AgentProcess.sleepMillis(5000);
      AgentProcess.Footprint idle = s.agent.footprint();
      boolean diagnose = bench.options.containsKey("diagnose");
      String idleDiagnosis = diagnose ? Diagnosis.baseline(s.agent.pid()) : "";
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
      if (diagnose) {
        Files.writeString(
            bench.logs().resolve("diagnose-" + slug + ".txt"),
            idleDiagnosis + Diagnosis.busy(s.agent.pid()));
      }
      log(readyMs, idle, busy);
      return new Reading(readyMs, s.agent.readySource(), readyCpu, idle, busy, tcpdumps);
    }
  }

  /** The agents' Secret as a kubelet would mount it: a certificate and key made here. */
  private Path agentTls() throws Exception {
    Path dir = Files.createDirectories(bench.work.resolve("fp-agent-tls"));
    TlsMaterial material =
        TlsMaterial.selfSigned(
            "podcapture-agent", List.of("localhost"), List.of("127.0.0.1"), Instant.now());
    Files.writeString(dir.resolve("tls.crt"), material.certificatePem());
    Files.writeString(dir.resolve("tls.key"), material.keyPem());
    return dir;
  }

  /**
   * Waits for the file server (it looks for its Secret every 10 s) and sends it one request without
   * a token: a TLS handshake and a 401, as a probe or a misdirected client would.
   */
  private static void refusedFileRequest(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String code = "";
    while (System.nanoTime() < deadline) {
      code =
          AgentProcess.run(
                  List.of(
                      "curl",
                      "-sk",
                      "-o",
                      "/dev/null",
                      "-w",
                      "%{http_code}",
                      "https://127.0.0.1:" + port + "/namespaces/default/podcaptures/web/files"))
              .strip();
      if (code.equals("401")) {
        return;
      }
      AgentProcess.sleepMillis(200);
    }
    throw new IllegalStateException(
        "the agent's file server on port " + port + " did not answer 401 within 30 s: " + code);
  }

  private static void log(
      double readyMs, AgentProcess.Footprint idle, AgentProcess.Footprint busy) {
    Workbench.log(
        "  ready %.0f ms, RSS %s → %s (peak %s), heap %s → %s, threads %d → %d (%.2f per capture)",
        readyMs,
        Markdown.mib(idle.rssKiB()),
        Markdown.mib(busy.rssKiB()),
        Markdown.mib(busy.hwmKiB()),
        Markdown.mib(idle.heapUsedKiB()),
        Markdown.mib(busy.heapUsedKiB()),
        idle.threads(),
        busy.threads(),
        (busy.threads() - idle.threads()) / (double) FOOTPRINT_CAPTURES);
  }

  /**
   * For tuning by hand (--diagnose, with -XX:NativeMemoryTracking=summary in --flags): what the
   * JVM's memory is made of.
   */
  private static final class Diagnosis {
    private Diagnosis() {}

    static String baseline(long pid) {
      jcmd(pid, "VM.native_memory", "baseline");
      return AgentProcess.run(List.of("cat", "/proc/" + pid + "/smaps_rollup"))
          + jcmd(pid, "Thread.print");
    }

    static String busy(long pid) {
      return jcmd(pid, "VM.native_memory", "summary.diff")
          + jcmd(pid, "Thread.print")
          + AgentProcess.run(List.of("cat", "/proc/" + pid + "/smaps"))
          + jcmd(pid, "GC.class_histogram").lines().limit(40).collect(Collectors.joining("\n"))
          + jcmd(pid, "GC.heap_info")
          + jcmd(pid, "VM.classloader_stats");
    }

    private static String jcmd(long pid, String... command) {
      List<String> argv = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
      argv.addAll(Arrays.asList(command));
      return AgentProcess.run(argv);
    }
  }

  /** Classpaths with exactly one fabric8 HTTP client each, from the lists bench/run.sh wrote. */
  /** The jar's classes unshaded: target/classes and the runtime dependencies as their own jars. */
  private List<String> unshadedClasspath() throws IOException {
    Path runtime =
        Path.of(bench.options.getOrDefault("runtime-classpath", "target/bench/runtime.classpath"));
    if (!Files.exists(runtime)) {
      return null;
    }
    List<String> classpath = new ArrayList<>();
    classpath.add(bench.project.resolve("target/classes").toString());
    classpath.addAll(Arrays.asList(Files.readString(runtime).strip().split(":")));
    return classpath;
  }
}
