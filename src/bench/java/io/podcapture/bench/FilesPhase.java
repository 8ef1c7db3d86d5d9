package io.podcapture.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import io.podcapture.testing.AgentJvm;
import io.podcapture.testing.CertificateUser;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControlPlane.AgentIdentity;
import io.podcapture.testing.ControllerJvm;
import io.podcapture.testing.FilesApi;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.User;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Reading captures through the files API (issue 22), against the real control plane ({@link
 * ControlPlane}, kube-apiserver with its aggregator): a person who holds podcapture-viewer in the
 * namespace reads, through the API server, from the controller's files API, which reads from the
 * agent's file server, which reads the disk. The agent runs with the Dockerfile's JVM flags, the
 * controller with deploy/controller.yaml's. Measures:
 *
 * <ul>
 *   <li>download throughput of a 100 MB file through the API, beside a local copy of the same file
 *       on the same disk, in the same run, and with curl hop by hop (API server, controller,
 *       agent), so that the slow hop shows;
 *   <li>the agent's and the controller's RSS (VmRSS, and VmHWM reset just before) during a 1 GB
 *       download read as fast as the client can, and every process's CPU time in it;
 *   <li>how soon {@code stream} sends the pcap header, and the first packet while traffic flows,
 *       hop by hop too; and how long a stream stays open through the API server (its request
 *       timeout) beside one straight to the controller.
 * </ul>
 *
 * <p>The big file is the ring file of a running PodCapture of a silent Pod (filter {@code udp port
 * 9}, which nothing sends), grown by this class with valid pcap records of 1,500 bytes: tcpdump
 * writes nothing to it, and the agent serves it as that capture's file. Printed, and written to
 * target/bench/files.md; BENCHMARKS.md is not touched. Run on its own with {@link #main} or as
 * phase {@code files} of {@link Benchmark}.
 */
final class FilesPhase {
  private static final String NAMESPACE = "bench-files";
  private static final String NODE = "files-bench-node";
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** 1,500 bytes of packet behind each 16-byte record header, as a full Ethernet MTU would be. */
  private static final int PACKET_BYTES = 1_500;

  private static final int READ_BUFFER = 1 << 16;

  /**
   * One download (or local copy) of {@code bytes} in {@code nanos}; {@code error} says why it ended
   * early (null: it did not).
   */
  record Transfer(long bytes, long nanos, String error) {
    Transfer(long bytes, long nanos) {
      this(bytes, nanos, null);
    }

    double mbPerSecond() {
      return bytes / 1e6 / (nanos / 1e9);
    }
  }

  /** One repetition: the local copy and the downloads through the API of the same file. */
  record Round(Transfer local, Transfer jdk, Transfer kubectl, Hops curl) {}

  /**
   * The same file with curl, hop by hop: through the API server, straight to the controller's files
   * API (as the aggregator calls it: front-proxy certificate and user headers), straight to the
   * agent's file server (as the controller calls it: its ServiceAccount's token).
   */
  record Hops(Transfer apiServer, Transfer controller, Transfer agent) {}

  /** CPU seconds (user + system) a process spent during the big download. */
  record CpuDuring(String process, double seconds) {}

  /** A process's memory in kB: what /proc/PID/status says. */
  record Memory(long rssKb, long hwmKb) {}

  /** One process's memory around a big download. */
  record MemoryDuring(
      String process,
      long hwmSinceStartKb,
      long rssBeforeKb,
      long maxRssSampledKb,
      long hwmAfterResetKb,
      long rssAfterKb,
      int samples) {}

  /** One stream request: ms from sending it to the response head, the pcap header, a packet. */
  record StreamSample(double headMs, double headerMs, double packetMs, int linkType) {}

  /**
   * The stream requests: the JDK client's through the API server, and curl's (a new process and TLS
   * connection each, timed from its start) through the API server, to the controller and to the
   * agent; then one stream held open through the API server and one straight to the controller.
   */
  record StreamRun(
      List<StreamSample> api,
      List<StreamSample> curlApi,
      List<StreamSample> curlController,
      List<StreamSample> curlAgent,
      Held heldApi,
      Held heldController) {}

  /** A stream held open for up to {@code asked} s: how long it lasted, and how it ended. */
  record Held(String path, int askedSeconds, double seconds, long bytes, String end) {}

  record Result(
      String setting,
      long fileBytes,
      List<Round> rounds,
      long bigBytes,
      Transfer big,
      List<MemoryDuring> memory,
      List<CpuDuring> cpu,
      StreamRun stream,
      int pingIntervalMs,
      String loadBefore,
      String loadAfter,
      List<String> notes) {}

  private final ControlPlane plane;
  private final Path dir;
  private final Map<String, String> options;
  private final User admin;
  private final List<String> notes = new ArrayList<>();

  FilesPhase(ControlPlane plane, Path dir, Map<String, String> options) {
    this.plane = plane;
    this.dir = dir;
    this.options = options;
    this.admin = new User(plane.admin());
  }

  /**
   * Runs the phase if asked; true if nothing but phases that are printed beside the report were
   * asked (files, sets, controller), so that BENCHMARKS.md is not written again.
   */
  static boolean runIfAsked(Workbench bench, List<String> phases) throws Exception {
    if (!phases.contains("files")) {
      return false;
    }
    String md = run(bench.options);
    Path out = bench.project.resolve("target/bench/files.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, md);
    Workbench.log("files API:%n%s", md);
    return phases.stream().allMatch(p -> List.of("files", "sets", "controller").contains(p));
  }

  /**
   * {@code [--mb=100] [--big-mb=1000] [--repeats=3] [--stream-samples=10] [--out=FILE]}; for
   * diagnosis, {@code --agent-extra-flags="..."} and {@code --controller-extra-flags="..."} add JVM
   * flags after the shipped ones (the result then says so).
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("unknown argument " + arg + " (expected --name=value)");
      }
      options.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    String md = run(options);
    System.out.println(md);
    Path out =
        Path.of(
            options.getOrDefault(
                "out", MockApiServer.projectDir().resolve("target/bench/files.md").toString()));
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, md);
    System.exit(0);
  }

  /** Starts the control plane (the cluster tier's) and the scene, measures, returns Markdown. */
  static String run(Map<String, String> options) throws Exception {
    ControlPlane plane = ControlPlane.shared();
    Path dir = Files.createTempDirectory("podcapture-files-bench-");
    try {
      return markdown(new FilesPhase(plane, dir, options).measure());
    } finally {
      // the big file is 1 GB
      Session.deleteTree(dir);
    }
  }

  private int option(String name, int fallback) {
    return Integer.parseInt(options.getOrDefault(name, Integer.toString(fallback)));
  }

  /** The jar mvn -B package made, which the agent runs as in the image. */
  private static Path agentJar() {
    return MockApiServer.projectDir().resolve("target/podcapture-agent.jar");
  }

  Result measure() throws Exception {
    String loadBefore = Machine.loadAverage();
    Path project = MockApiServer.projectDir();
    Shipped agentFlags =
        Shipped.read(project.resolve("Dockerfile"))
            .withArchiveFor(agentJar(), project, dir.resolve("cds"));
    Shipped controllerFlags = ControllerFootprintPhase.deployedFlags(project);
    List<AutoCloseable> running = new ArrayList<>();
    try {
      plane.namespace(NAMESPACE);
      FilesApi filesApi = FilesApi.register(plane);
      running.add(filesApi);
      ControllerJvm controller = startController(filesApi, controllerFlags);
      running.add(controller);
      AgentIdentity identity = plane.agentIdentity(NODE, dir);
      plane.mountAgentTls(identity);
      Path captureDir = Files.createDirectories(dir.resolve("capture"));
      AgentJvm agent = startAgent(identity, captureDir, agentFlags);
      running.add(agent);

      NetnsPod quiet = NetnsPod.create();
      running.add(quiet);
      NetnsPod live = NetnsPod.create();
      running.add(live);
      plane.runningPod(ControlPlane.boundPod(NAMESPACE, "quiet", NODE).build(), quiet.ips());
      plane.runningPod(ControlPlane.boundPod(NAMESPACE, "live", NODE).build(), live.ips());
      CertificateUser reader = CertificateUser.create(plane, "bench-reader", List.of(), dir);
      plane
          .kubectl(
              "create",
              "rolebinding",
              "bench-reader-podcapture-viewer",
              "--clusterrole=podcapture-viewer",
              "--user=bench-reader",
              "--namespace=" + NAMESPACE)
          .orThrow();
      ApiClient client = ApiClient.of(plane, reader, dir);

      // The big file: the ring file of a capture of a Pod that sends nothing.
      capture("big", "quiet", 1, 1024, "udp port 9");
      Path ring = awaitRingFile(captureDir, "big");
      long fileBytes = grow(ring, option("mb", 100) * 1_000_000L);
      String pcap = path("big", "/pcap?file=" + ring.getFileName());
      awaitListed(client, "big", ring.getFileName().toString(), fileBytes);
      Workbench.log("files: %s is %,d bytes", ring, fileBytes);

      Curl curl = new Curl(plane, reader, filesApi.port(), identity.filesPort(), controllerToken());
      String agentPath = "/v1/captures/" + NAMESPACE + "/big/files/" + ring.getFileName();
      List<Round> rounds = new ArrayList<>();
      for (int r = 1; r <= option("repeats", 3); r++) {
        Transfer local = localCopy(ring, dir.resolve("copy.pcap"));
        Transfer jdk = client.download(pcap);
        Transfer kubectl = kubectlDownload(reader, pcap);
        Hops hops =
            new Hops(curl.viaApiServer(pcap), curl.toController(pcap), curl.toAgent(agentPath));
        for (Transfer t :
            List.of(jdk, kubectl, hops.apiServer(), hops.controller(), hops.agent())) {
          if (t.bytes() != fileBytes || t.error() != null) {
            throw new IllegalStateException(
                "downloaded " + t.bytes() + " bytes of a file of " + fileBytes + ": " + t.error());
          }
        }
        rounds.add(new Round(local, jdk, kubectl, hops));
        Workbench.log(
            "files: round %d: local %.0f MB/s, API (JDK) %.0f MB/s, API (kubectl) %.0f MB/s, "
                + "curl: API server %.0f, controller %.0f, agent %.0f MB/s",
            r,
            local.mbPerSecond(),
            jdk.mbPerSecond(),
            kubectl.mbPerSecond(),
            hops.apiServer().mbPerSecond(),
            hops.controller().mbPerSecond(),
            hops.agent().mbPerSecond());
      }

      long bigBytes = grow(ring, option("big-mb", 1000) * 1_000_000L);
      awaitListed(client, "big", ring.getFileName().toString(), bigBytes);
      Map<String, Long> pids = new java.util.LinkedHashMap<>();
      pids.put("agent", agent.pid());
      pids.put("controller", controller.pid());
      pids.put("kube-apiserver", apiServerPid());
      pids.put("client (this JVM)", ProcessHandle.current().pid());
      MemoryRun memoryRun = memoryDuring(client, pcap, pids);
      Transfer big = memoryRun.transfer();
      if (big.bytes() != bigBytes || big.error() != null) {
        notes.add(
            String.format(
                Locale.ROOT,
                "The %,d-byte download ended after %,d bytes and %.1f s: %s.",
                bigBytes,
                big.bytes(),
                big.nanos() / 1e9,
                big.error() == null ? "the body ended early" : big.error()));
      }
      admin.deletePodCapture(NAMESPACE, "big");

      int pingMs = 20;
      StreamRun stream = streamSamples(client, curl, captureDir, live, pingMs);
      admin.deletePodCapture(NAMESPACE, "live");

      String setting =
          String.format(
              Locale.ROOT,
              "agent JVM flags (Dockerfile) %s; controller JVM flags (deploy/controller.yaml) %s",
              agentFlags.shown(),
              controllerFlags.shown());
      return new Result(
          setting,
          fileBytes,
          rounds,
          bigBytes,
          memoryRun.transfer(),
          memoryRun.memory(),
          memoryRun.cpu(),
          stream,
          pingMs,
          loadBefore,
          Machine.loadAverage(),
          notes);
    } finally {
      for (int i = running.size() - 1; i >= 0; i--) {
        try {
          running.get(i).close();
        } catch (Exception e) {
          Workbench.log("files: closing %s: %s", running.get(i), e);
        }
      }
    }
  }

  // ---- the scene

  /**
   * The controller replica with deploy/controller.yaml's JVM flags: ControlPlane starts it with
   * test flags of its own on the command line (-XX:TieredStopAtLevel=1 among them); the shipped
   * ones come through _JAVA_OPTIONS, which the JVM reads after the command line, so they win.
   */
  private ControllerJvm startController(FilesApi filesApi, Shipped flags) throws Exception {
    Map<String, String> env = new HashMap<>(filesApi.controllerEnv());
    env.putAll(flags.env());
    env.put("_JAVA_OPTIONS", String.join(" ", flags.flags()));
    if (options.containsKey("controller-extra-flags")) {
      // for diagnosis by hand: after the shipped flags, so these win
      env.put(
          "_JAVA_OPTIONS",
          String.join(" ", flags.flags()) + " " + options.get("controller-extra-flags"));
      notes.add(
          "Run with --controller-extra-flags: the controller also had `"
              + options.get("controller-extra-flags")
              + "`, after deploy/controller.yaml's.");
    }
    ControllerJvm controller = plane.startLeadingController("files-bench-controller", dir, env);
    if (!controller.awaitLog("files API on port " + filesApi.port(), WAIT)) {
      throw new IllegalStateException("no files API:\n" + controller.log());
    }
    filesApi.awaitAvailable(WAIT);
    Workbench.log(
        "files: controller %d serves the files API on %d", controller.pid(), filesApi.port());
    return controller;
  }

  /**
   * The agent jar as {@link ControlPlane#startAgent} runs it, but with the Dockerfile's JVM flags
   * and environment (they follow the test kit's flags on the command line, so they win), and a disk
   * budget that admits a ring of one 1,024 MB file (it reserves twice the ring).
   */
  private AgentJvm startAgent(AgentIdentity identity, Path captureDir, Shipped flags)
      throws Exception {
    Map<String, String> env = new HashMap<>(flags.env());
    env.put("NODE_NAME", identity.node());
    env.put("POD_NAME", identity.podName());
    env.put("POD_NAMESPACE", ControlPlane.AGENT_NAMESPACE);
    env.put("FILES_PORT", String.valueOf(identity.filesPort()));
    env.put("FILES_TLS_DIR", identity.filesTlsDir().toString());
    env.put("DISK_BUDGET_MB", "4096");
    List<String> launch = new ArrayList<>(flags.flags());
    if (options.containsKey("agent-extra-flags")) {
      // for diagnosis by hand: flags after the shipped ones win (the result says so)
      launch.addAll(List.of(options.get("agent-extra-flags").strip().split("\\s+")));
      notes.add(
          "Run with --agent-extra-flags: the agent also had `"
              + options.get("agent-extra-flags")
              + "`, after the Dockerfile's.");
    }
    launch.addAll(List.of("-jar", agentJar().toString()));
    Path log = Files.createTempFile(dir, "agent-", ".log");
    AgentJvm agent = AgentJvm.start(launch, identity.kubeconfig(), captureDir, log, env);
    awaitLog(agent, "agent ready on node");
    // the agent looks for its certificate every 10 s
    awaitLog(agent, "files server on port " + identity.filesPort());
    Workbench.log("files: agent %d serves files on %d", agent.pid(), identity.filesPort());
    return agent;
  }

  private static void awaitLog(AgentJvm agent, String text) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!agent.log().contains(text)) {
      if (!agent.alive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("agent: no \"" + text + "\":\n" + agent.log());
      }
      Thread.sleep(100);
    }
  }

  private void capture(String name, String pod, int maxFiles, int fileSizeMB, String filter) {
    PodCapture capture = new PodCapture();
    capture.setMetadata(new ObjectMetaBuilder().withNamespace(NAMESPACE).withName(name).build());
    PodCaptureSpec spec = new PodCaptureSpec(pod, maxFiles, fileSizeMB);
    spec.setFilter(filter);
    capture.setSpec(spec);
    admin.createPodCapture(capture);
    admin.awaitPhase(NAMESPACE, name, Names.PHASE_RUNNING, WAIT);
  }

  /** The capture's ring file once tcpdump has written its pcap header (it does at once, -U). */
  private static Path awaitRingFile(Path captureDir, String capture) throws Exception {
    Path folder = captureDir.resolve(NAMESPACE);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.isDirectory(folder)) {
        try (var files = Files.list(folder)) {
          Path ring =
              files
                  .filter(
                      f -> f.getFileName().toString().startsWith("capture-" + capture + ".pcap"))
                  .findFirst()
                  .orElse(null);
          if (ring != null && Files.size(ring) >= 24) {
            return ring;
          }
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "no ring file of " + capture + " with a pcap header in " + folder);
  }

  /**
   * Appends pcap records of {@link #PACKET_BYTES} bytes, 1 µs (or ns) apart from now on, in the
   * file's byte order, until the file holds at least {@code bytes}; returns its size.
   */
  static long grow(Path ring, long bytes) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(24);
    try (FileChannel in = FileChannel.open(ring, StandardOpenOption.READ)) {
      in.read(header, 0);
    }
    int magic = header.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    ByteOrder order =
        magic == 0xa1b2c3d4 || magic == 0xa1b23c4d ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
    boolean nanos = magic == 0xa1b23c4d || Integer.reverseBytes(magic) == 0xa1b23c4d;
    int record = 16 + PACKET_BYTES;
    ByteBuffer chunk = ByteBuffer.allocate(record * 2_000).order(order);
    Instant t = Instant.now();
    long fraction = 0;
    try (FileChannel out =
        FileChannel.open(ring, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      long size = out.size();
      while (size < bytes) {
        chunk.clear();
        while (chunk.remaining() >= record && size + chunk.position() < bytes) {
          fraction++;
          long sub = nanos ? fraction % 1_000_000_000L : fraction % 1_000_000L;
          long seconds =
              t.getEpochSecond() + (nanos ? fraction / 1_000_000_000L : fraction / 1_000_000L);
          chunk.putInt((int) seconds).putInt((int) sub).putInt(PACKET_BYTES).putInt(PACKET_BYTES);
          chunk.position(chunk.position() + PACKET_BYTES);
        }
        chunk.flip();
        while (chunk.hasRemaining()) {
          size += out.write(chunk);
        }
      }
      return out.size();
    }
  }

  /** Waits until the API's listing shows the file at {@code bytes}. */
  private void awaitListed(ApiClient client, String capture, String file, long bytes)
      throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      last = client.text(path(capture, ""));
      for (JsonNode f : JSON.readTree(last).path("files")) {
        if (f.path("name").asText().equals(file) && f.path("sizeBytes").asLong() == bytes) {
          return;
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the API does not list " + file + " at " + bytes + ": " + last);
  }

  private static String path(String capture, String rest) {
    return FilesApi.PREFIX + "/namespaces/" + NAMESPACE + "/podcapturefiles/" + capture + rest;
  }

  // ---- throughput

  /** Files.copy of the file to another on the same disk, the copy deleted after. */
  private static Transfer localCopy(Path from, Path to) throws IOException {
    Files.deleteIfExists(to);
    long t0 = System.nanoTime();
    Files.copy(from, to);
    long nanos = System.nanoTime() - t0;
    long bytes = Files.size(to);
    Files.delete(to);
    return new Transfer(bytes, nanos);
  }

  /**
   * {@code kubectl get --raw PATH} as the reader, its output counted and dropped here; the time
   * includes kubectl's own start.
   */
  private Transfer kubectlDownload(CertificateUser user, String path) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(plane.kubectlBinary().toString(), "get", "--raw", path)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("kubectl.err").toFile()));
    builder.environment().put("KUBECONFIG", user.kubeconfig().toString());
    long t0 = System.nanoTime();
    Process process = builder.start();
    long bytes;
    try (InputStream in = process.getInputStream()) {
      bytes = discard(in);
    }
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(
          "kubectl get --raw " + path + ": " + Files.readString(dir.resolve("kubectl.err")));
    }
    return new Transfer(bytes, System.nanoTime() - t0);
  }

  static long discard(InputStream in) throws IOException {
    byte[] buffer = new byte[READ_BUFFER];
    long bytes = 0;
    int n;
    while ((n = in.read(buffer)) >= 0) {
      bytes += n;
    }
    return bytes;
  }

  // ---- memory

  record MemoryRun(Transfer transfer, List<MemoryDuring> memory, List<CpuDuring> cpu) {}

  /**
   * Resets the processes' VmHWM (clear_refs 5), samples their VmRSS every 100 ms for 2 s, during
   * the download of {@code path} (read and dropped as fast as the client can), and 2 s after.
   */
  private static MemoryRun memoryDuring(ApiClient client, String path, Map<String, Long> pids)
      throws Exception {
    Map<String, Long> hwmSinceStart = new HashMap<>();
    for (Map.Entry<String, Long> p :
        Map.of("agent", pids.get("agent"), "controller", pids.get("controller")).entrySet()) {
      hwmSinceStart.put(p.getKey(), memory(p.getValue()).hwmKb());
      Files.writeString(Path.of("/proc/" + p.getValue() + "/clear_refs"), "5");
    }
    Map<String, List<Memory>> before = new HashMap<>();
    Map<String, List<Memory>> during = new HashMap<>();
    Map<String, List<Memory>> after = new HashMap<>();
    sample(pids, before, Duration.ofSeconds(2), null);
    Map<String, Long> ticksBefore = new HashMap<>();
    pids.forEach((name, pid) -> ticksBefore.put(name, cpuTicks(pid)));
    AtomicBoolean downloading = new AtomicBoolean(true);
    CompletableFuture<Transfer> download =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return client.download(path);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              } finally {
                downloading.set(false);
              }
            });
    sample(pids, during, Duration.ofMinutes(10), downloading);
    Transfer transfer = download.get();
    List<CpuDuring> cpu = new ArrayList<>();
    pids.forEach(
        (name, pid) ->
            cpu.add(new CpuDuring(name, (cpuTicks(pid) - ticksBefore.get(name)) / CLOCK_TICKS)));
    Map<String, Long> hwmAfterReset = new HashMap<>();
    pids.forEach((name, pid) -> hwmAfterReset.put(name, memory(pid).hwmKb()));
    sample(pids, after, Duration.ofSeconds(2), null);
    List<MemoryDuring> memory = new ArrayList<>();
    for (String name : List.of("agent", "controller")) {
      List<Memory> b = before.get(name);
      List<Memory> d = during.get(name);
      List<Memory> a = after.get(name);
      memory.add(
          new MemoryDuring(
              name,
              hwmSinceStart.get(name),
              b.get(b.size() - 1).rssKb(),
              d.stream().mapToLong(Memory::rssKb).max().orElse(0),
              hwmAfterReset.get(name),
              a.get(a.size() - 1).rssKb(),
              d.size()));
    }
    return new MemoryRun(transfer, memory, cpu);
  }

  /** Samples every 100 ms for {@code atMost}, or while {@code whilst} holds. */
  private static void sample(
      Map<String, Long> pids, Map<String, List<Memory>> into, Duration atMost, AtomicBoolean whilst)
      throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    do {
      pids.forEach(
          (name, pid) -> into.computeIfAbsent(name, k -> new ArrayList<>()).add(memory(pid)));
      Thread.sleep(100);
    } while (System.nanoTime() < deadline && (whilst == null || whilst.get()));
  }

  /** USER_HZ, which /proc/PID/stat counts in (100 on every Linux architecture we run on). */
  private static final double CLOCK_TICKS = 100.0;

  /** utime + stime of a process, in clock ticks. */
  static long cpuTicks(long pid) {
    try {
      String stat = Files.readAllLines(Path.of("/proc/" + pid + "/stat")).get(0);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // fields 14 and 15 of stat(5); f[0] is field 3
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException e) {
      throw new IllegalStateException("process " + pid + " is gone", e);
    }
  }

  /** The kube-apiserver serving {@link ControlPlane#apiServerUrl()}: by its --secure-port. */
  private long apiServerPid() throws IOException {
    String port = URI.create(plane.apiServerUrl()).getPort() + "";
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String cmdline =
              new String(
                      Files.readAllBytes(proc.resolve("cmdline")),
                      java.nio.charset.StandardCharsets.UTF_8)
                  .replace('\0', ' ');
          if (cmdline.contains("kube-apiserver")
              && cmdline.contains("--secure-port=" + port + " ")) {
            return Long.parseLong(proc.getFileName().toString());
          }
        } catch (IOException e) {
          // gone meanwhile
        }
      }
    }
    throw new IllegalStateException("no kube-apiserver with --secure-port=" + port);
  }

  /** What the controller presents to agents: its ServiceAccount's token for them. */
  private String controllerToken() {
    return plane
        .admin()
        .serviceAccounts()
        .inNamespace(ControlPlane.AGENT_NAMESPACE)
        .withName(ControlPlane.CONTROLLER_SERVICE_ACCOUNT)
        .tokenRequest(
            new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder()
                .withNewSpec()
                .withAudiences("podcapture-agent")
                .withExpirationSeconds(600L)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  /**
   * curl, hop by hop: downloads with the output dropped and timed by curl itself (-w time_total);
   * streams read here.
   */
  record Curl(
      ControlPlane plane, CertificateUser user, int controllerPort, int agentPort, String token) {
    String viaApiServerUrl(String path) {
      return plane.apiServerUrl() + path;
    }

    List<String> viaApiServerOptions() {
      return List.of(
          "--cacert",
          plane.caCert().toString(),
          "--cert",
          user.certificate().toString(),
          "--key",
          user.key().toString());
    }

    String toControllerUrl(String path) {
      return "https://127.0.0.1:" + controllerPort + path;
    }

    /**
     * As the aggregator calls the controller: the front proxy's certificate, the user in headers.
     */
    List<String> toControllerOptions() {
      return List.of(
          "-k",
          "--cert",
          plane.pki().resolve("front-proxy-client.crt").toString(),
          "--key",
          plane.pki().resolve("front-proxy-client.key").toString(),
          "-H",
          "X-Remote-User: " + user.name(),
          "-H",
          "X-Remote-Group: system:authenticated");
    }

    String toAgentUrl(String path) {
      return "https://127.0.0.1:" + agentPort + path;
    }

    /** As the controller calls the agent: its ServiceAccount's token. */
    List<String> toAgentOptions() {
      return List.of("-k", "-H", "Authorization: Bearer " + token);
    }

    Transfer viaApiServer(String path) {
      return get(viaApiServerUrl(path), viaApiServerOptions());
    }

    Transfer toController(String path) {
      return get(toControllerUrl(path), toControllerOptions());
    }

    Transfer toAgent(String path) {
      return get(toAgentUrl(path), toAgentOptions());
    }

    private static Transfer get(String url, List<String> options) {
      List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--fail", "-o", "/dev/null"));
      argv.addAll(options);
      argv.addAll(List.of("-w", "%{size_download} %{time_total}", url));
      String out =
          ControlPlane.run(Duration.ofMinutes(10), Map.of(), argv).orThrow().output().strip();
      String[] f = out.substring(out.lastIndexOf('\n') + 1).split(" ");
      return new Transfer(Long.parseLong(f[0]), (long) (Double.parseDouble(f[1]) * 1e9));
    }

    private static Process stream(String url, List<String> options) throws IOException {
      List<String> argv = new ArrayList<>(List.of("curl", "-sS", "-N", "--fail"));
      argv.addAll(options);
      argv.add(url);
      return new ProcessBuilder(argv)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
    }

    /** A stream with a new curl: header and first packet, timed from the process's start. */
    StreamSample firstPacket(String url, List<String> options) throws Exception {
      long t0 = System.nanoTime();
      Process curl = stream(url, options);
      try (InputStream in = curl.getInputStream()) {
        StreamSample sample = readFirstPacket(in, t0, t0);
        return new StreamSample(
            Double.NaN, sample.headerMs(), sample.packetMs(), sample.linkType());
      } finally {
        curl.destroy();
        curl.waitFor(10, TimeUnit.SECONDS);
      }
    }

    /** Reads a stream with curl for up to {@code seconds}; how long it lasted. */
    Held hold(String name, String url, List<String> options, int seconds) {
      long t0 = System.nanoTime();
      long bytes = 0;
      String end;
      try {
        Process curl = stream(url, options);
        CompletableFuture<Long> read =
            CompletableFuture.supplyAsync(
                () -> {
                  try (InputStream in = curl.getInputStream()) {
                    return discard(in);
                  } catch (IOException e) {
                    return -1L;
                  }
                });
        if (curl.waitFor(seconds, TimeUnit.SECONDS)) {
          end = "the server ended it (curl exit " + curl.exitValue() + ")";
        } else {
          end = "still open after " + seconds + " s (closed by the client)";
          curl.destroy();
          curl.waitFor(10, TimeUnit.SECONDS);
        }
        bytes = read.get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        end = "failed: " + e;
      }
      return new Held(
          "curl straight to the " + name, seconds, (System.nanoTime() - t0) / 1e9, bytes, end);
    }
  }

  /** VmRSS and VmHWM of a process, in kB. */
  static Memory memory(long pid) {
    try {
      long rss = 0;
      long hwm = 0;
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = Long.parseLong(line.replaceAll("\\D", ""));
        } else if (line.startsWith("VmHWM:")) {
          hwm = Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
      return new Memory(rss, hwm);
    } catch (IOException e) {
      throw new IllegalStateException("process " + pid + " is gone", e);
    }
  }

  // ---- stream

  /**
   * A capture of a Pod that pings every {@code pingMs} ms, streamed again and again: each request
   * on a connection already open (a listing is read first on it, so the TLS handshake is not
   * counted), ended after the first packet.
   */
  private StreamRun streamSamples(
      ApiClient client, Curl curl, Path captureDir, NetnsPod live, int pingMs) throws Exception {
    capture("live", "live", 2, 10, null);
    awaitRingFile(captureDir, "live");
    int samples = option("stream-samples", 10);
    int hold = option("stream-hold", 75);
    Duration pinging = Duration.ofSeconds(20L + samples * 6L + hold);
    CompletableFuture<NetnsPod.PingResult> pings =
        CompletableFuture.supplyAsync(
            () ->
                live.ping(
                    Ping.count((int) (pinging.toMillis() / pingMs))
                        .interval(Duration.ofMillis(pingMs))
                        .deadline(pinging)));
    Thread.sleep(1_000);
    String stream = path("live", "/log");
    String follow = "/v1/captures/" + NAMESPACE + "/live/follow";
    List<StreamSample> api = new ArrayList<>();
    List<StreamSample> curlApi = new ArrayList<>();
    List<StreamSample> curlController = new ArrayList<>();
    List<StreamSample> curlAgent = new ArrayList<>();
    for (int i = 0; i < samples; i++) {
      client.text(path("live", ""));
      StreamSample sample = client.firstPacket(stream);
      api.add(sample);
      Thread.sleep(300);
      curlApi.add(curl.firstPacket(curl.viaApiServerUrl(stream), curl.viaApiServerOptions()));
      Thread.sleep(300);
      curlController.add(
          curl.firstPacket(curl.toControllerUrl(stream), curl.toControllerOptions()));
      Thread.sleep(300);
      curlAgent.add(curl.firstPacket(curl.toAgentUrl(follow), curl.toAgentOptions()));
      Workbench.log(
          "files: stream %d: JDK via API server: head %.1f ms, pcap header %.1f ms, first packet"
              + " %.1f ms; curl first packet via API server %.1f, controller %.1f, agent %.1f ms",
          i + 1,
          sample.headMs(),
          sample.headerMs(),
          sample.packetMs(),
          curlApi.get(i).packetMs(),
          curlController.get(i).packetMs(),
          curlAgent.get(i).packetMs());
      Thread.sleep(300);
    }
    // Both at once: does a stream outlive the API server's request timeout (60 s by default)?
    CompletableFuture<Held> heldController =
        CompletableFuture.supplyAsync(
            () ->
                curl.hold(
                    "controller", curl.toControllerUrl(stream), curl.toControllerOptions(), hold));
    Held heldApi = client.hold(stream, hold);
    Workbench.log("files: held %s", heldApi);
    pings.cancel(true);
    return new StreamRun(api, curlApi, curlController, curlAgent, heldApi, heldController.get());
  }

  // ---- the client

  /**
   * The JDK's HttpClient (HTTP/1.1) with a person's client certificate, against the API server's
   * URL.
   */
  record ApiClient(HttpClient http, String server) {
    static ApiClient of(ControlPlane plane, CertificateUser user, Path dir) throws Exception {
      Path p12 = dir.resolve(user.name() + ".p12");
      ControlPlane.run(
              Duration.ofSeconds(30),
              Map.of(),
              List.of(
                  "openssl",
                  "pkcs12",
                  "-export",
                  "-in",
                  user.certificate().toString(),
                  "-inkey",
                  user.key().toString(),
                  "-out",
                  p12.toString(),
                  "-passout",
                  "pass:bench"))
          .orThrow();
      KeyStore keys = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(p12)) {
        keys.load(in, "bench".toCharArray());
      }
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, "bench".toCharArray());
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      try (InputStream in = Files.newInputStream(plane.caCert())) {
        trust.setCertificateEntry(
            "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      HttpClient http =
          HttpClient.newBuilder()
              .sslContext(tls)
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      return new ApiClient(http, plane.apiServerUrl());
    }

    private HttpResponse<InputStream> open(String path) throws Exception {
      HttpResponse<InputStream> response =
          http.send(
              HttpRequest.newBuilder(URI.create(server + path)).GET().build(),
              HttpResponse.BodyHandlers.ofInputStream());
      if (response.statusCode() != 200) {
        String body;
        try (InputStream in = response.body()) {
          body = new String(in.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8);
        }
        throw new IllegalStateException(path + ": " + response.statusCode() + " " + body);
      }
      return response;
    }

    String text(String path) throws Exception {
      try (InputStream in = open(path).body()) {
        return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      }
    }

    /**
     * Reads the whole body and drops it; the time runs from sending to the last byte. A body that
     * breaks off is a Transfer with an error, so that how far it got is seen.
     */
    Transfer download(String path) throws Exception {
      long t0 = System.nanoTime();
      long bytes = 0;
      try (InputStream in = open(path).body()) {
        byte[] buffer = new byte[READ_BUFFER];
        int n;
        while ((n = in.read(buffer)) >= 0) {
          bytes += n;
        }
        return new Transfer(bytes, System.nanoTime() - t0);
      } catch (IOException e) {
        return new Transfer(bytes, System.nanoTime() - t0, e.toString());
      }
    }

    /** Opens a stream, reads the pcap header and the first packet, and closes it. */
    StreamSample firstPacket(String path) throws Exception {
      long t0 = System.nanoTime();
      HttpResponse<InputStream> response = open(path);
      long head = System.nanoTime();
      try (InputStream body = response.body()) {
        return readFirstPacket(body, t0, head);
      }
    }

    /** Reads a stream for up to {@code seconds}, dropping what comes; how long it lasted. */
    Held hold(String path, int seconds) {
      long t0 = System.nanoTime();
      long deadline = t0 + TimeUnit.SECONDS.toNanos(seconds);
      long bytes = 0;
      String end = "still open after " + seconds + " s (closed by the client)";
      try (InputStream in = open(path).body()) {
        byte[] buffer = new byte[READ_BUFFER];
        int n;
        while (System.nanoTime() < deadline) {
          n = in.read(buffer);
          if (n < 0) {
            end = "the server ended it (end of body)";
            break;
          }
          bytes += n;
        }
      } catch (Exception e) {
        end = "broken off: " + e;
      }
      return new Held(
          "JDK client through the API server", seconds, (System.nanoTime() - t0) / 1e9, bytes, end);
    }
  }

  /**
   * Reads a pcap stream's 24-byte header and its first packet; times in ms from {@code t0}, the
   * response head at {@code head}.
   */
  static StreamSample readFirstPacket(InputStream body, long t0, long head) throws IOException {
    DataInputStream in = new DataInputStream(body);
    byte[] header = new byte[24];
    in.readFully(header);
    long headerAt = System.nanoTime();
    int magic = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    ByteOrder order =
        magic == 0xa1b2c3d4 || magic == 0xa1b23c4d ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
    int linkType = ByteBuffer.wrap(header).order(order).getInt(20);
    byte[] record = new byte[16];
    in.readFully(record);
    int captured = ByteBuffer.wrap(record).order(order).getInt(8);
    in.readFully(new byte[captured]);
    long packetAt = System.nanoTime();
    return new StreamSample(ms(head - t0), ms(headerAt - t0), ms(packetAt - t0), linkType);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  // ---- Markdown

  static String markdown(Result r) {
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            Locale.ROOT,
            "Files API (issue 22) on %d cores, load average %s before and %s after. Path: client "
                + "-> kube-apiserver (aggregator) -> controller files API -> agent file server -> "
                + "disk, all on this machine's loopback, TLS on every hop; the reader holds "
                + "podcapture-viewer in the namespace (client certificate). %s.%n%n",
            Runtime.getRuntime().availableProcessors(),
            r.loadBefore(),
            r.loadAfter(),
            r.setting()));

    md.append(
        String.format(
            Locale.ROOT,
            "Download of a %,d-byte capture file (`podcapturefiles/pcap`), against Files.copy of "
                + "the same file to the same disk (page cache warm), in MB/s (10^6 bytes):%n%n",
            r.fileBytes()));
    md.append(
        "| run | local copy | API, JDK HttpClient | API, `kubectl get --raw` | API (JDK) / local |\n");
    md.append("|---|---:|---:|---:|---:|\n");
    List<Double> local = new ArrayList<>();
    List<Double> jdk = new ArrayList<>();
    List<Double> kubectl = new ArrayList<>();
    for (int i = 0; i < r.rounds().size(); i++) {
      Round round = r.rounds().get(i);
      local.add(round.local().mbPerSecond());
      jdk.add(round.jdk().mbPerSecond());
      kubectl.add(round.kubectl().mbPerSecond());
      md.append(
          String.format(
              Locale.ROOT,
              "| %d | %.0f | %.0f | %.0f | %.3f |%n",
              i + 1,
              round.local().mbPerSecond(),
              round.jdk().mbPerSecond(),
              round.kubectl().mbPerSecond(),
              round.jdk().mbPerSecond() / round.local().mbPerSecond()));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "| median | %.0f | %.0f | %.0f | %.3f |%n%n",
            median(local),
            median(jdk),
            median(kubectl),
            median(jdk) / median(local)));
    md.append(
        "\nThe same file with curl (output to /dev/null, time_total), hop by hop, in MB/s: "
            + "through the API server; straight to the controller's files API as the aggregator "
            + "calls it (front-proxy client certificate, user headers; still authorized by "
            + "SubjectAccessReview); straight to the agent's file server as the controller calls "
            + "it (the controller's ServiceAccount token):\n\n");
    md.append("| run | API server | controller | agent |\n|---|---:|---:|---:|\n");
    List<Double> viaApi = new ArrayList<>();
    List<Double> toController = new ArrayList<>();
    List<Double> toAgent = new ArrayList<>();
    for (int i = 0; i < r.rounds().size(); i++) {
      Hops hops = r.rounds().get(i).curl();
      viaApi.add(hops.apiServer().mbPerSecond());
      toController.add(hops.controller().mbPerSecond());
      toAgent.add(hops.agent().mbPerSecond());
      md.append(
          String.format(
              Locale.ROOT,
              "| %d | %.0f | %.0f | %.0f |%n",
              i + 1,
              hops.apiServer().mbPerSecond(),
              hops.controller().mbPerSecond(),
              hops.agent().mbPerSecond()));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "| median | %.0f | %.0f | %.0f |%n%n",
            median(viaApi),
            median(toController),
            median(toAgent)));
    md.append(
        "JDK HttpClient: HTTP/1.1, the body read into a 64 KiB buffer and dropped, timed from "
            + "sending the request to the last byte. kubectl: a new process per download, its "
            + "output piped here and dropped, timed from its start (so kubectl's start-up is in it). "
            + "Byte counts checked equal to the file's size.\n\n");

    md.append(
        String.format(
            Locale.ROOT,
            "Memory during a %,d-byte download (JDK client, read and dropped as fast as it can: "
                + "%.1f s, %.0f MB/s), from /proc/PID/status every 100 ms; VmHWM reset "
                + "(clear_refs 5) just before:%n%n",
            r.bigBytes(),
            r.big().nanos() / 1e9,
            r.big().mbPerSecond()));
    md.append(
        "| process | RSS before | highest RSS sampled during | VmHWM during | RSS 2 s after | VmHWM since start (before the reset) | samples |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|\n");
    for (MemoryDuring m : r.memory()) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %d |%n",
              m.process(),
              mib(m.rssBeforeKb()),
              mib(m.maxRssSampledKb()),
              mib(m.hwmAfterResetKb()),
              mib(m.rssAfterKb()),
              mib(m.hwmSinceStartKb()),
              m.samples()));
    }
    md.append("\nCPU time (user + system) during that download:\n\n");
    md.append("| process | CPU s | CPU s per GB |\n|---|---:|---:|\n");
    for (CpuDuring c : r.cpu()) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.1f | %.1f |%n",
              c.process(),
              c.seconds(),
              c.seconds() / (r.big().bytes() / 1e9)));
    }
    md.append('\n');

    StreamRun st = r.stream();
    md.append(
        String.format(
            Locale.ROOT,
            "First bytes of `podcapturefiles/log` of a running capture (link type %d), %d "
                + "requests per path, in ms from sending the request; the Pod pings every %d ms "
                + "throughout. JDK client: on a connection already open (a listing read on it "
                + "first, so no TLS handshake). curl: a new process and TLS connection each, timed "
                + "from its start; straight to the controller and to the agent as above (the "
                + "agent's `follow`):%n%n",
            st.api().isEmpty() ? -1 : st.api().get(0).linkType(),
            st.api().size(),
            r.pingIntervalMs()));
    md.append("| path | to | p50 | max |\n|---|---|---:|---:|\n");
    streamRow(
        md, "JDK, through the API server", "response head (200)", st.api(), StreamSample::headMs);
    streamRow(md, "JDK, through the API server", "pcap header", st.api(), StreamSample::headerMs);
    streamRow(md, "JDK, through the API server", "first packet", st.api(), StreamSample::packetMs);
    streamRow(
        md, "curl, through the API server", "pcap header", st.curlApi(), StreamSample::headerMs);
    streamRow(
        md, "curl, through the API server", "first packet", st.curlApi(), StreamSample::packetMs);
    streamRow(
        md, "curl, to the controller", "pcap header", st.curlController(), StreamSample::headerMs);
    streamRow(
        md, "curl, to the controller", "first packet", st.curlController(), StreamSample::packetMs);
    streamRow(md, "curl, to the agent", "pcap header", st.curlAgent(), StreamSample::headerMs);
    streamRow(md, "curl, to the agent", "first packet", st.curlAgent(), StreamSample::packetMs);
    md.append(
        String.format(
            Locale.ROOT,
            "%nJDK first packet, each request in order: %s ms.%n%n",
            st.api().stream()
                .map(x -> String.format(Locale.ROOT, "%.0f", x.packetMs()))
                .reduce((a, b) -> a + ", " + b)
                .orElse("")));
    md.append("A stream held open while the Pod pings, both at once:\n\n");
    md.append("| stream | held for | bytes | how it ended |\n|---|---:|---:|---|\n");
    for (Held h : List.of(st.heldApi(), st.heldController())) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s (up to %d s) | %.1f s | %,d | %s |%n",
              h.path(),
              h.askedSeconds(),
              h.seconds(),
              h.bytes(),
              h.end()));
    }
    for (String note : r.notes()) {
      md.append('\n').append(note).append('\n');
    }
    return md.toString();
  }

  private static void streamRow(
      StringBuilder md,
      String path,
      String to,
      List<StreamSample> samples,
      java.util.function.ToDoubleFunction<StreamSample> field) {
    Stats stats = Stats.of(samples.stream().map(x -> field.applyAsDouble(x)).toList());
    md.append(
        String.format(
            Locale.ROOT,
            "| %s | %s | %s | %s |%n",
            path,
            to,
            Stats.ms(stats.p50()),
            Stats.ms(stats.max())));
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String mib(long kb) {
    return String.format(Locale.ROOT, "%.1f MiB", kb / 1024.0);
  }
}
