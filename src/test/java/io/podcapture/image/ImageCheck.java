package io.podcapture.image;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.deploy.Dockerfile;
import io.podcapture.testing.Command;
import io.podcapture.testing.Kubeconfig;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Pods;
import io.podcapture.testing.Processes;
import io.podcapture.testing.User;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The image test's checks, run by {@code deploy/image-test.sh} once it has built the image: what
 * the image holds, and the agent in a container made as the kubelet makes it from {@code
 * deploy/daemonset.yaml} (read by {@link WorkloadRun}), capturing a network-namespace Pod's real
 * traffic for the project's test API server on the host, and stopping cleanly on {@code podman
 * stop}, during start-up and while capturing; then the same image in controller mode, made from
 * {@code deploy/controller.yaml} (not root, no capability), taking its Lease and handing it back on
 * {@code podman stop}; and an unknown mode refused with exit code 2.
 *
 * <pre>java -cp ... io.podcapture.image.ImageCheck IMAGE PROJECT_DIR WORK_DIR CONTAINER_NAME_PREFIX
 * </pre>
 */
public final class ImageCheck {
  private static final String NODE = "image-test-node";
  private static final String AGENT_POD = "podcapture-agent-image-test";
  private static final String CONTROLLER_POD = "podcapture-controller-image-test";
  private static final String CONTROLLER_LEASE = "podcapture-controller";

  /**
   * The annotation and phase of the contract (docs/api.md): the same for every controller behind
   * them.
   */
  private static final String KUBECONFIG_IN_CONTAINER = "/var/run/podcapture/kubeconfig";

  private static final int PINGS = 20;
  private static final Logger QUIET = Logger.getLogger("io.fabric8.mockwebserver");

  private final String image;
  private final Path work;
  private final WorkloadRun daemonSet;
  private final WorkloadRun controller;
  private final Dockerfile dockerfile;
  private final List<String> containers = new ArrayList<>();
  private final String prefix;

  private ImageCheck(String image, Path project, Path work, String prefix) {
    this.image = image;
    this.prefix = prefix;
    this.work = work;
    this.daemonSet = WorkloadRun.read(project.resolve("deploy/daemonset.yaml"));
    this.controller = WorkloadRun.read(project.resolve("deploy/controller.yaml"));
    this.dockerfile = Dockerfile.read(project.resolve("Dockerfile"));
  }

  public static void main(String[] args) throws Exception {
    // The mock API server logs every request at INFO through java.util.logging: the checks' lines
    // are the story.
    QUIET.setLevel(Level.WARNING);
    if (args.length != 4) {
      System.err.println("usage: ImageCheck IMAGE PROJECT_DIR WORK_DIR CONTAINER_NAME_PREFIX");
      System.exit(2);
    }
    ImageCheck check = new ImageCheck(args[0], Path.of(args[1]), Path.of(args[2]), args[3]);
    int exit = 0;
    try {
      check.contents();
      check.streamWatchdog();
      check.unknownMode();
      check.classDataArchive();
      check.captureAndStop();
      check.stopDuringStartUp();
      check.controllerMode();
      say("all checks passed");
    } catch (AssertionError | RuntimeException e) {
      System.err.println("image test FAILED: " + e.getMessage());
      e.printStackTrace();
      exit = 1;
    } finally {
      check.removeContainers();
    }
    // MockApiServer and the client leave non-daemon threads: end here, after the clean-up above.
    System.exit(exit);
  }

  // ---- the image

  /**
   * tcpdump, tar (for kubectl cp) and a JRE; no JDK, compiler or build tool; the Dockerfile's
   * ENTRYPOINT.
   */
  private void contents() {
    List<String> entrypoint = Podman.imageConfigList(image, "Entrypoint");
    check(
        entrypoint.equals(dockerfile.entrypoint()),
        "the image's ENTRYPOINT is the Dockerfile's: " + entrypoint);

    // Each tool's path, or "-" where the image has none; no network, no volumes, nothing else
    // needed.
    List<String> present = List.of("tcpdump", "tar", "java", "podcapture-watchdog");
    List<String> absent = List.of("javac", "jar", "mvn", "gradle", "gcc", "cc", "make", "git");
    String script =
        "for t in \"$@\"; do p=$(command -v \"$t\") || p=-; echo \"$t $p\"; done; java -version 2>&1";
    List<String> run =
        new ArrayList<>(
            List.of(
                "run",
                "--rm",
                "--network=none",
                "--entrypoint=/bin/sh",
                image,
                "-c",
                script,
                "sh"));
    run.addAll(present);
    run.addAll(absent);
    String output = Podman.run(run);
    Map<String, String> paths = new HashMap<>();
    output
        .lines()
        .map(l -> l.split(" ", 2))
        .filter(p -> p.length == 2 && (present.contains(p[0]) || absent.contains(p[0])))
        .forEach(p -> paths.put(p[0], p[1]));
    for (String tool : present) {
      check(
          !"-".equals(paths.getOrDefault(tool, "-")),
          "the image has " + tool + " (" + paths.get(tool) + ")");
    }
    for (String tool : absent) {
      check("-".equals(paths.getOrDefault(tool, "?")), "the image has no " + tool);
    }
    check(
        output.contains("version \"17."),
        "the JRE is Java 17: "
            + output.lines().filter(l -> l.contains("version")).findFirst().orElse(output));
    long size = Long.parseLong(Podman.run("image", "inspect", "--format", "{{.Size}}", image));
    say("image size: " + size / 1_000_000 + " MB (" + image + ")");
  }

  /**
   * The watchdog {@code kubectl podcapture stream} runs around tcpdump, as the image runs it: it
   * passes its command's exit status on while its input stays open, and ends its command at the end
   * of its input (kubectl exec gone) long before its limit.
   */
  private void streamWatchdog() {
    String script =
        "sleep 8 | podcapture-watchdog 5 sh -c 'exit 3'; echo \"status $?\"; "
            + "start=$(date +%s); podcapture-watchdog 30 sleep 600 </dev/null; "
            + "echo \"ended $? after $(( $(date +%s) - start )) s\"";
    String output =
        Podman.run("run", "--rm", "--network=none", "--entrypoint=/bin/sh", image, "-c", script);
    check(
        output.contains("status 3"),
        "the image's podcapture-watchdog passes its command's exit status on",
        output);
    Matcher ended = Pattern.compile("ended 0 after (\\d+) s").matcher(output);
    check(
        ended.find() && Integer.parseInt(ended.group(1)) <= 3,
        "the image's podcapture-watchdog ends its command at the end of its input",
        output);
  }

  // ---- a real capture

  private void captureAndStop() throws Exception {
    Path captureDir = Files.createDirectories(work.resolve("capture"));
    try (MockApiServer api = new MockApiServer();
        NetnsPod web = NetnsPod.create();
        KubernetesClient user = api.client()) {
      String ns = "default";
      String podName = "web";
      new User(user).create(Pods.running(ns, podName, NODE, "2", web.ipv4()));

      long started = System.nanoTime();
      Container agent = start("capture", "http://localhost:" + api.port(), captureDir);
      waitFor(
          Duration.ofSeconds(60),
          () -> "Running".equals(phase(user, ns, podName)),
          agent,
          "PodCapture " + ns + "/" + podName + " Running");
      say(
          "PodCapture "
              + ns
              + "/"
              + podName
              + " Running "
              + millisSince(started)
              + " ms after podman run");
      check(
          agent.http("/healthz") == 200 && agent.http("/readyz") == 200,
          "/healthz and /readyz answer 200 on " + "port " + agent.httpPort);
      check(
          agent
              .jvmArgv()
              .subList(0, dockerfile.entrypoint().size())
              .equals(dockerfile.entrypoint()),
          "the JVM runs with the Dockerfile's flags: " + agent.jvmArgv());
      List<Long> tcpdumps = agent.tcpdumps();
      check(tcpdumps.size() == 1, "one tcpdump in the container: " + tcpdumps);

      NetnsPod.PingResult ping = web.ping(NetnsPod.Ping.count(PINGS));
      check(ping.received() == PINGS, "the Pod's " + PINGS + " pings answered", ping.output());
      Path dir = captureDir.resolve(ns);
      waitFor(
          Duration.ofSeconds(15),
          () -> echoes(dir, podName, web.ipv4()) >= 2 * PINGS,
          agent,
          "the pings in the pcap files");
      check(
          echoes(dir, podName, web.ipv4()) == 2 * PINGS,
          "the pcap files hold each echo request and reply "
              + "once: "
              + echoes(dir, podName, web.ipv4())
              + " of "
              + 2 * PINGS
              + " in "
              + files(dir, podName));

      User.annotate(user, ns, podName, null);
      waitFor(
          Duration.ofSeconds(30),
          () ->
              files(dir, podName).isEmpty()
                  && phase(user, ns, podName) == null
                  && agent.tcpdumps().isEmpty(),
          agent,
          "files, PodCapture and tcpdump gone after the annotation is removed");
      say("annotation removed: PodCapture, pcap files and tcpdump gone");

      // Capturing again, then podman stop: SIGTERM, then SIGKILL after the grace period.
      User.annotate(user, ns, podName, "2");
      waitFor(
          Duration.ofSeconds(30),
          () -> "Running".equals(phase(user, ns, podName)) && agent.tcpdumps().size() == 1,
          agent,
          "capturing again");
      web.ping(NetnsPod.Ping.count(5));
      List<Long> capturing = agent.tcpdumps();
      // The highest the container's memory cgroup has been since podman run, start-up and both
      // captures included.
      long peak = agent.memoryPeakBytes();
      long limit = daemonSet.memoryLimitBytes();
      check(
          peak > 0 && peak < limit,
          "memory peak "
              + mib(peak)
              + " under the "
              + mib(limit)
              + " limit "
              + "(the container's cgroup, page cache included)");
      agent.stop("while capturing", "stopping");
      check(
          capturing.stream().noneMatch(Processes::alive),
          "tcpdump ended with the agent: " + capturing);
      check(!files(dir, podName).isEmpty(), "the pcap files are kept for the next agent");
      for (Path file : files(dir, podName)) {
        Command.Result read = Command.run("tcpdump", "-r", file.toString(), "-n");
        check(read.ok(), file.getFileName() + " reads back whole with tcpdump -r", read.output());
      }
    }
  }

  private static String phase(KubernetesClient user, String ns, String name) {
    PodCapture cr = user.resources(PodCapture.class).inNamespace(ns).withName(name).get();
    return cr == null ? null : cr.getStatus() == null ? "" : cr.getStatus().getPhase();
  }

  /**
   * The capture's files: {@code capture-<pod>.pcap<k>}, exactly (not {@code capture-<pod>-2...}).
   */
  private static List<Path> files(Path dir, String podName) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.filter(
              f -> f.getFileName().toString().matches("capture-" + podName + "\\.pcap\\d*"))
          .sorted()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * ICMP echo requests from and replies to {@code ip} in the capture's files, read back with
   * tcpdump -r.
   */
  private static long echoes(Path dir, String podName, String ip) {
    return Pcap.packets(files(dir, podName)).stream()
        .filter(
            l ->
                (l.contains("IP " + ip + " > ") && l.contains("ICMP echo request"))
                    || l.contains(" > " + ip + ": ICMP echo reply"))
        .count();
  }

  // ---- stopping during start-up

  /**
   * An API server that refuses connections keeps the agent in start-up (the client retries for
   * about 20 s).
   */
  private void stopDuringStartUp() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Container agent =
        start(
            "startup",
            "http://localhost:" + closedPort,
            Files.createDirectories(work.resolve("capture-startup")));
    waitFor(
        Duration.ofSeconds(30),
        () -> agent.logs().contains("monitoring on port"),
        agent,
        "start-up begun");
    check(agent.http("/readyz") == 503, "/readyz answers 503 while starting");
    agent.stop("during start-up", "SIGTERM during start-up");
  }

  // ---- the other mode, and a mode that is none

  /** PODCAPTURE_MODE takes agent or controller; anything else ends the process at once. */
  private void unknownMode() {
    Command.Result result =
        Command.run(
            Duration.ofMinutes(1),
            List.of(
                "podman", "run", "--rm", "--network=none", "--env=PODCAPTURE_MODE=bogus", image));
    check(
        result.exitCode() == 2 && result.output().contains("PODCAPTURE_MODE"),
        "PODCAPTURE_MODE=bogus exits 2 with a line naming the setting",
        "exit code " + result.exitCode() + ", output:\n" + result.output());
  }

  /**
   * The class data archive the image's build made ({@code -XX:SharedArchiveFile} in the ENTRYPOINT)
   * is one the JVM can use with the image's jar: with {@code -Xshare:on} a JVM that cannot map it
   * stops at once, where the ENTRYPOINT's JVM would go on silently without it. The run gets as far
   * as the mode check (exit 2).
   */
  private void classDataArchive() {
    List<String> entrypoint = dockerfile.entrypoint();
    String archive =
        entrypoint.stream()
            .filter(a -> a.startsWith("-XX:SharedArchiveFile="))
            .findFirst()
            .orElse(null);
    check(archive != null, "the ENTRYPOINT names a class data archive", entrypoint.toString());
    List<String> run =
        new ArrayList<>(
            List.of(
                "podman",
                "run",
                "--rm",
                "--network=none",
                "--env=PODCAPTURE_MODE=bogus",
                "--entrypoint=" + entrypoint.get(0),
                image,
                "-Xshare:on"));
    run.addAll(entrypoint.subList(1, entrypoint.size()));
    Command.Result result = Command.run(Duration.ofMinutes(1), run);
    check(
        result.exitCode() == 2 && result.output().contains("PODCAPTURE_MODE"),
        "the JVM maps the class data archive " + archive.substring(archive.indexOf('=') + 1),
        "with -Xshare:on: exit code " + result.exitCode() + ", output:\n" + result.output());
  }

  /**
   * The image in controller mode as deploy/controller.yaml runs it (uid 65534, no capability, a
   * read-only root): it gets ready, takes the Lease in its namespace as its Pod, runs no tcpdump,
   * and on podman stop exits 0 within its grace period, having released the Lease.
   */
  private void controllerMode() throws Exception {
    try (MockApiServer api = new MockApiServer();
        KubernetesClient user = api.client()) {
      long started = System.nanoTime();
      Container replica =
          start(
              controller, CONTROLLER_POD, "controller", "http://localhost:" + api.port(), Map.of());
      waitFor(
          Duration.ofSeconds(60),
          () -> replica.http("/healthz") == 200 && replica.http("/readyz") == 200,
          replica,
          "the controller's /healthz and /readyz answer 200");
      say("controller ready " + millisSince(started) + " ms after podman run");
      String namespace = controller.environment(NODE, CONTROLLER_POD).get("POD_NAMESPACE");
      waitFor(
          Duration.ofSeconds(30),
          () -> CONTROLLER_POD.equals(leaseHolder(user, namespace)),
          replica,
          "the controller holds Lease " + namespace + "/" + CONTROLLER_LEASE);
      List<String> command = controller.command();
      check(
          replica.jvmArgv().subList(0, command.size()).equals(command),
          "the controller's JVM runs with deploy/controller.yaml's command (its flags)",
          "argv: " + replica.jvmArgv());
      check(replica.tcpdumps().isEmpty(), "no tcpdump in the controller's container");
      check(
          Podman.inspect(replica.name, "{{.Config.User}}").startsWith("65534"),
          "the controller runs as uid 65534, as deploy/controller.yaml says");
      replica.stopped("of the controller");
      // fabric8's release keeps the holder's name and shortens the Lease to 1 s, so a standby
      // takes it at its next try (every 2 s) instead of after the 15 s a crashed holder leaves.
      Lease released = user.leases().inNamespace(namespace).withName(CONTROLLER_LEASE).get();
      check(
          released != null
              && released.getSpec() != null
              && (!CONTROLLER_POD.equals(released.getSpec().getHolderIdentity())
                  || released.getSpec().getLeaseDurationSeconds() <= 1),
          "the stopped controller released its Lease (a standby takes over at its next try)",
          "Lease: " + (released == null ? null : released.getSpec()));
      Podman.run("rm", replica.name);
      containers.remove(replica.name);
    }
  }

  private static String leaseHolder(KubernetesClient user, String namespace) {
    Lease lease = user.leases().inNamespace(namespace).withName(CONTROLLER_LEASE).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  // ---- the container

  /**
   * Starts the agent's container for {@code apiServer}, with its capture volume in {@code
   * captureDir}.
   */
  private Container start(String scenario, String apiServer, Path captureDir) throws IOException {
    return start(daemonSet, AGENT_POD, scenario, apiServer, Map.of("capture", captureDir));
  }

  /** Starts a container of {@code workload}'s Pod as {@code podName}, for {@code apiServer}. */
  private Container start(
      WorkloadRun workload,
      String podName,
      String scenario,
      String apiServer,
      Map<String, Path> volumeDirs)
      throws IOException {
    Path kubeconfig = Kubeconfig.write(work.resolve("kubeconfig-" + scenario), apiServer);
    Map<String, String> env = workload.environment(NODE, podName);
    int httpPort = Integer.parseInt(env.get("HTTP_PORT"));
    if (listening(httpPort)) {
      // Host network: the DaemonSet's port is a port of this machine, and something else holds it
      // here.
      int free;
      try (ServerSocket socket = new ServerSocket(0)) {
        free = socket.getLocalPort();
      }
      say("port " + httpPort + " is taken on this machine: HTTP_PORT=" + free + " instead");
      env.put("HTTP_PORT", Integer.toString(free));
      httpPort = free;
    }
    // In a cluster the client finds the API server from the service account; here a kubeconfig says
    // where.
    env.put("KUBECONFIG", KUBECONFIG_IN_CONTAINER);
    String name = prefix + scenario;
    List<String> run = new ArrayList<>(List.of("run", "--detach", "--name=" + name));
    run.addAll(workload.options(volumeDirs, env));
    run.add("--volume=" + kubeconfig.toAbsolutePath() + ":" + KUBECONFIG_IN_CONTAINER + ":ro");
    run.add(image);
    containers.add(name);
    Podman.run(run);
    return new Container(name, httpPort, workload.terminationGraceSeconds());
  }

  private final class Container {
    final String name;
    final int httpPort;
    final int graceSeconds;

    Container(String name, int httpPort, int graceSeconds) {
      this.name = name;
      this.httpPort = httpPort;
      this.graceSeconds = graceSeconds;
    }

    String logs() {
      return Podman.logs(name);
    }

    boolean running() {
      return "running".equals(Podman.inspect(name, "{{.State.Status}}"));
    }

    long hostPid() {
      return Long.parseLong(Podman.inspect(name, "{{.State.Pid}}"));
    }

    List<String> jvmArgv() throws IOException {
      return Processes.argv(hostPid());
    }

    /** The tcpdump processes among the JVM's children (host pids). */
    List<Long> tcpdumps() {
      List<Long> out = new ArrayList<>();
      ProcessHandle.of(hostPid())
          .ifPresent(
              jvm ->
                  jvm.children()
                      .forEach(
                          child -> {
                            if ("tcpdump".equals(Processes.comm(child.pid()))
                                && Processes.alive(child.pid())) {
                              out.add(child.pid());
                            }
                          }));
      return out;
    }

    /** The highest memory use of the container's cgroup (cgroup v1 or v2), page cache included. */
    long memoryPeakBytes() throws IOException {
      for (String line : Processes.read(hostPid(), "cgroup").lines().toList()) {
        String[] parts = line.split(":", 3);
        if (parts[1].equals("memory")) {
          return Long.parseLong(
              Files.readString(
                      Path.of("/sys/fs/cgroup/memory", parts[2], "memory.max_usage_in_bytes"))
                  .strip());
        }
        if (parts[0].equals("0")
            && parts[1].isEmpty()
            && Files.exists(Path.of("/sys/fs/cgroup", parts[2], "memory.peak"))) {
          return Long.parseLong(
              Files.readString(Path.of("/sys/fs/cgroup", parts[2], "memory.peak")).strip());
        }
      }
      throw new IllegalStateException("no memory cgroup for container " + name);
    }

    int http(String path) {
      try {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        return client
            .send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + path))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.discarding())
            .statusCode();
      } catch (IOException e) {
        return -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return -1;
      }
    }

    /**
     * podman stop: SIGTERM, SIGKILL after the grace period. The agent must end by itself, with exit
     * code 0, having logged {@code expected} on its way out.
     */
    void stop(String when, String expected) {
      stopped(when);
      String log = logs();
      check(
          log.contains(expected) && log.contains("agent stopped"),
          "the agent's shutdown path ran to its end",
          log);
      Podman.run("rm", name);
      containers.remove(name);
    }

    /**
     * podman stop, and the process ended by itself with exit code 0 within its Pod's grace period.
     */
    void stopped(String when) {
      long sent = System.nanoTime();
      Podman.run("stop", name);
      long took = millisSince(sent);
      String exit = Podman.inspect(name, "{{.State.ExitCode}} {{.State.OOMKilled}}");
      check(
          exit.equals("0 false"),
          "podman stop " + when + ": the process exits 0",
          "exit code and OOM killed: " + exit + "; its log:\n" + logs());
      check(took < TimeUnit.SECONDS.toMillis(graceSeconds), "stopped within the grace period");
      say("podman stop " + when + ": exit code 0 after " + took + " ms");
    }
  }

  private void removeContainers() {
    for (String name : List.copyOf(containers)) {
      Podman.removeQuietly(name);
    }
  }

  // ---- helpers

  private static void waitFor(
      Duration timeout, BooleanSupplier condition, Container agent, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline || !agent.running()) {
        throw new AssertionError(
            "not reached in "
                + timeout.toSeconds()
                + " s: "
                + what
                + "; the container's log:\n"
                + agent.logs());
      }
      Thread.sleep(200);
    }
  }

  private static boolean listening(int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new InetSocketAddress("localhost", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void check(boolean condition, String what) {
    check(condition, what, "");
  }

  /** Says "ok: what", or fails with what and the detail that explains the failure. */
  private static void check(boolean condition, String what, String detail) {
    if (!condition) {
      throw new AssertionError(what + (detail.isEmpty() ? "" : "\n" + detail));
    }
    say("ok: " + what);
  }

  private static void say(String line) {
    System.out.println("image test: " + line);
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  private static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / 1048576.0);
  }
}
