package io.podcapture.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.CaptureFile;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.capture.CaptureConfig;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.Command;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.PodCaptureBuilder;
import io.podcapture.testing.Pods;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import io.podcapture.testing.User;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real agent wiring (informers, queue, reconciler, CaptureManager) against the mock API server,
 * with real tcpdump, bounded to the DaemonSet's capabilities, capturing network-namespace "Pods"
 * that really ping.
 */
@Tag("real-capture")
class AgentEndToEndTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path captureDir;
  private NetnsPod web;
  private NetnsPod other;
  private MockApiServer api;
  private KubernetesClient user;
  private User kubectl;
  private AgentHarness agent;

  @BeforeEach
  void start() throws Exception {
    Requirements.realCapture();
    web = NetnsPod.create();
    other = NetnsPod.create();
    api = new MockApiServer();
    user = api.client();
    kubectl = new User(user);
    kubectl.create(
        Pods.running("default", "web", Pods.NODE, null, web.ips().toArray(String[]::new)));
    kubectl.create(
        Pods.running("default", "other", Pods.NODE, null, other.ips().toArray(String[]::new)));
    startAgent(Map.of());
  }

  private void startAgent(Map<String, String> env) throws Exception {
    agent =
        AgentHarness.wholeAgent(
            api, captureDir, env, c -> c.withLauncher(CaptureConfig.MINIMAL_CAPABILITIES));
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    for (AutoCloseable c : new AutoCloseable[] {user, api, web, other}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort: each resource is closed on its own
      }
    }
  }

  private PodCapture cr() {
    return kubectl.cr("default", "web");
  }

  private void annotate(String value) {
    kubectl.annotate("default", "web", value);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://localhost:" + agent.agent.monitoringPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** The value of one sample line of /metrics, e.g. {@code podcapture_captures_running}. */
  private double metric(String sample) throws Exception {
    return get("/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith(sample + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(sample.length() + 1).trim()))
        .findFirst()
        .orElse(0);
  }

  @Test
  void annotationStartsARealCaptureOfThePodAndRemovingItCleansUp() throws Exception {
    assertEquals(200, get("/healthz").statusCode());
    assertEquals(200, get("/readyz").statusCode());
    assertEquals(0, metric("podcapture_captures_running"));

    annotate("3");

    await()
        .atMost(WAIT)
        .until(
            () ->
                cr() != null
                    && cr().getStatus() != null
                    && "Running".equals(cr().getStatus().getPhase()));
    Path namespaceDir = captureDir.resolve("default");
    List<Long> pids = Processes.writingInto(namespaceDir);
    assertEquals(1, pids.size(), "one tcpdump for the capture");
    PodCapture running = cr();
    assertTrue(
        running
            .getStatus()
            .getFilter()
            .contains(
                "(inbound and (src host "
                    + web.ipv4()
                    + " or src host "
                    + web.ipv6()
                    + ")) or (outbound and (dst host "
                    + web.ipv4()
                    + " or dst host "
                    + web.ipv6()
                    + " or "),
        running.getStatus().getFilter());
    assertEquals(web.ips(), running.getStatus().getPodIPs());
    assertEquals("node-a", running.getStatus().getNode());
    long before = running.getStatus().getTotalBytes();
    assertEquals(1, metric("podcapture_captures_running"));
    assertEquals(1, metric("podcapture_capture_starts_total"));

    // Both Pods ping; only web's packets belong in web's capture.
    assertEquals(0, web.ping(Ping.count(20).interval(Duration.ofMillis(20))).exitCode());
    assertEquals(0, other.ping(Ping.count(20).interval(Duration.ofMillis(20))).exitCode());

    // The status follows the files as they grow.
    await().atMost(WAIT).until(() -> cr().getStatus().getTotalBytes() > before + 20 * 98);
    CaptureFile file = cr().getStatus().getFiles().get(0);
    assertEquals("capture-web.pcap0", file.getName());
    Path pcap = Path.of(file.getPath());
    assertEquals(namespaceDir.resolve("capture-web.pcap0"), pcap);

    List<String> packets = Pcap.packets(pcap);
    assertTrue(
        packets.stream().anyMatch(p -> p.contains(web.ipv4()) && p.contains("ICMP echo request")),
        "web's pings are in the capture");
    assertFalse(packets.stream().anyMatch(p -> p.contains(other.ipv4())), "other's pings are not");

    annotate(null);

    await().atMost(WAIT).until(() -> cr() == null);
    await().atMost(WAIT).until(() -> Processes.writingInto(namespaceDir).isEmpty());
    pids.forEach(pid -> assertFalse(Processes.alive(pid), "tcpdump " + pid + " is gone"));
    try (Stream<Path> left =
        Files.exists(namespaceDir) ? Files.list(namespaceDir) : Stream.empty()) {
      assertEquals(List.of(), left.toList(), "no capture file is left");
    }
    assertEquals(0, metric("podcapture_captures_running"));
    assertEquals(1, metric("podcapture_capture_starts_total"));
    assertEquals(1, metric("podcapture_capture_stops_total{reason=\"AnnotationRemoved\"}"));
    assertEquals(0, metric("podcapture_capture_bytes{node=\"node-a\"}"));
    assertTrue(metric("podcapture_reconcile_duration_seconds_count{result=\"success\"}") >= 3);
  }

  // --- PodCaptures created directly

  private PodCapture cr(String name) {
    return kubectl.cr("default", name);
  }

  private PodCapture create(
      String name, String pod, java.util.function.Consumer<PodCaptureSpec> spec) {
    // Labelled with the Pod's node as the cluster controller would (no controller runs here).
    return kubectl.createPodCapture(
        PodCaptureBuilder.direct(name, pod).node(Pods.NODE).spec(spec).build());
  }

  private void delete(String name) {
    kubectl.deletePodCapture("default", name);
  }

  private PodCapture awaitPhase(String name, String phase) {
    return kubectl.awaitPhase("default", name, phase, WAIT);
  }

  /**
   * tcpdumps writing a file of this capture (the capture-<name>.pcap prefix, never a prefix of
   * another name).
   */
  private List<Long> tcpdumpsOf(String name) {
    Path dir = captureDir.resolve("default");
    return Processes.writingInto(dir).stream()
        .filter(
            pid ->
                ProcessHandle.of(pid)
                    .flatMap(h -> h.info().arguments())
                    .map(a -> String.join(" ", a))
                    .orElse("")
                    .contains("/capture-" + name + ".pcap"))
        .toList();
  }

  private List<String> filesOf(String name) throws Exception {
    Path dir = captureDir.resolve("default");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .map(p -> p.getFileName().toString())
          .filter(f -> f.startsWith("capture-" + name + ".pcap"))
          .sorted()
          .toList();
    }
  }

  private List<String> packetsOf(PodCapture cr) {
    return Pcap.packets(cr.getStatus().getFiles().stream().map(f -> Path.of(f.getPath())).toList());
  }

  /**
   * UDP datagrams from inside web's namespace to the host side, port 9999 (nobody listens: fire and
   * forget).
   */
  private void sendUdp(int count) {
    Command.Result sent =
        Command.run(
            "ip",
            "netns",
            "exec",
            web.netns(),
            "bash",
            "-c",
            "for i in $(seq "
                + count
                + "); do echo podcapture > /dev/udp/"
                + web.hostIpv4()
                + "/9999; sleep 0.02; done");
    assertTrue(sent.ok(), sent.output());
  }

  @Test
  void directPodCaptureRunsWithoutAnnotationAndItsDeleteLeavesNoProcessAndNoFile()
      throws Exception {
    create("web-all", "web", spec -> {});

    PodCapture running = awaitPhase("web-all", "Running");
    // One file: tcpdump appends no ring index.
    assertEquals(List.of("capture-web-all.pcap"), filesOf("web-all"));
    assertEquals(1, tcpdumpsOf("web-all").size());
    assertEquals(web.ips(), running.getStatus().getPodIPs());
    assertEquals(0, web.ping(Ping.count(5).interval(Duration.ofMillis(20))).exitCode());
    await()
        .atMost(WAIT)
        .until(
            () ->
                packetsOf(cr("web-all")).stream()
                        .filter(p -> p.contains("ICMP echo request"))
                        .count()
                    == 5);
    assertNull(
        user.pods()
            .inNamespace("default")
            .withName("web")
            .get()
            .getMetadata()
            .getAnnotations()
            .get("tcpdump.antrea.io"),
        "no annotation was involved");

    delete("web-all");

    await().atMost(WAIT).until(() -> cr("web-all") == null);
    assertEquals(List.of(), tcpdumpsOf("web-all"));
    assertEquals(List.of(), filesOf("web-all"));
  }

  @Test
  void twoPodCapturesOnOnePodRunAtOnceAndDeletingOneLeavesTheOtherRunning() throws Exception {
    create("web-one", "web", spec -> {});
    create("web-two", "web", spec -> spec.setMaxFiles(2));
    awaitPhase("web-one", "Running");
    awaitPhase("web-two", "Running");
    assertEquals(1, tcpdumpsOf("web-one").size());
    assertEquals(1, tcpdumpsOf("web-two").size());

    delete("web-one");

    await().atMost(WAIT).until(() -> cr("web-one") == null);
    assertEquals(List.of(), tcpdumpsOf("web-one"));
    assertEquals(List.of(), filesOf("web-one"));
    assertEquals(1, tcpdumpsOf("web-two").size());
    assertEquals(List.of("capture-web-two.pcap0"), filesOf("web-two"));
    assertEquals(0, web.ping(Ping.count(3).interval(Duration.ofMillis(20))).exitCode());
    await()
        .atMost(WAIT)
        .until(
            () ->
                packetsOf(cr("web-two")).stream()
                        .filter(p -> p.contains("ICMP echo request"))
                        .count()
                    == 3);
    assertEquals("Running", cr("web-two").getStatus().getPhase());
  }

  @Test
  void filterRecordsTheDatagramsItNamesAndNoIcmp() throws Exception {
    create("web-udp", "web", spec -> spec.setFilter("udp port 9999"));
    PodCapture running = awaitPhase("web-udp", "Running");
    assertTrue(
        running.getStatus().getFilter().endsWith("and (udp port 9999)"),
        running.getStatus().getFilter());

    sendUdp(5);
    assertEquals(0, web.ping(Ping.count(5).interval(Duration.ofMillis(20))).exitCode());

    await()
        .atMost(WAIT)
        .until(
            () ->
                packetsOf(cr("web-udp")).stream().filter(p -> p.contains(".9999: UDP")).count()
                    == 5);
    List<String> packets = packetsOf(cr("web-udp"));
    assertEquals(5, packets.size(), packets.toString());
    assertFalse(packets.stream().anyMatch(p -> p.contains("ICMP")), packets.toString());
  }

  @Test
  void durationEndsTheCaptureAsCompletedWithItsFilesKeptAndListed() throws Exception {
    create("web-3s", "web", spec -> spec.setDurationSeconds(3));
    awaitPhase("web-3s", "Running");
    assertEquals(0, web.ping(Ping.count(5).interval(Duration.ofMillis(20))).exitCode());

    PodCapture done = awaitPhase("web-3s", "Completed");

    assertNotNull(done.getStatus().getCompletionTime());
    assertEquals(
        List.of("capture-web-3s.pcap"),
        done.getStatus().getFiles().stream().map(CaptureFile::getName).toList());
    assertEquals(List.of("capture-web-3s.pcap"), filesOf("web-3s"));
    assertEquals(List.of(), tcpdumpsOf("web-3s"));
    assertEquals(5, packetsOf(done).stream().filter(p -> p.contains("ICMP echo request")).count());
    // It stays Completed: no restart.
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(4))
        .until(
            () ->
                tcpdumpsOf("web-3s").isEmpty()
                    && "Completed".equals(cr("web-3s").getStatus().getPhase()));

    delete("web-3s");
    await().atMost(WAIT).until(() -> cr("web-3s") == null);
    assertEquals(List.of(), filesOf("web-3s"));
  }

  @Test
  void packetCountLeavesExactlyThatManyPackets() throws Exception {
    create("web-10", "web", spec -> spec.setPacketCount(10));
    awaitPhase("web-10", "Running");

    assertEquals(0, web.ping(Ping.count(20).interval(Duration.ofMillis(20))).exitCode());

    PodCapture done = awaitPhase("web-10", "Completed");
    assertEquals(10, packetsOf(done).size(), packetsOf(done).toString());
    assertEquals(List.of(), tcpdumpsOf("web-10"));
  }

  @Test
  void ttlDeletesTheFinishedPodCaptureAndItsFiles() throws Exception {
    create(
        "web-ttl",
        "web",
        spec -> {
          spec.setDurationSeconds(1);
          spec.setTtlSecondsAfterFinished(2);
        });
    awaitPhase("web-ttl", "Completed");
    assertEquals(List.of("capture-web-ttl.pcap"), filesOf("web-ttl"));

    await().atMost(WAIT).until(() -> cr("web-ttl") == null);
    assertEquals(List.of(), filesOf("web-ttl"));
    assertEquals(List.of(), tcpdumpsOf("web-ttl"));
  }

  /**
   * Filters the API server accepts and tcpdump does not. (One over 1024 characters never reaches
   * the agent: the CRD's rule refuses it, CrdClusterTest; the agent's own limit is
   * UserFilterTest's.)
   */
  static Stream<String> badFilters() {
    return Stream.of("-z /bin/sh", "icmp and and", "$(reboot)");
  }

  @ParameterizedTest
  @MethodSource("badFilters")
  void badFilterFailsWithAMessageAndNeverStartsTcpdump(String filter) throws Exception {
    create("web-bad", "web", spec -> spec.setFilter(filter));

    PodCapture failed = awaitPhase("web-bad", "Failed");

    assertEquals("InvalidFilter", failed.getStatus().getConditions().get(0).getReason());
    assertNotNull(failed.getStatus().getMessage());
    assertFalse(failed.getStatus().getMessage().isBlank());
    assertEquals(List.of(), tcpdumpsOf("web-bad"));
    assertEquals(List.of(), filesOf("web-bad"));
    assertEquals(0, metric("podcapture_capture_starts_total"), "tcpdump never started");
    await()
        .atMost(WAIT)
        .until(
            () ->
                user.v1().events().inNamespace("default").list().getItems().stream()
                    .anyMatch(
                        e ->
                            "InvalidFilter".equals(e.getReason())
                                && "web-bad".equals(e.getInvolvedObject().getName())));
  }

  @Test
  void hostNetworkPodIsRefusedAndCapturedOnlyWithTheOptIn() throws Exception {
    user.pods()
        .inNamespace("default")
        .withName("other")
        .edit(
            p -> {
              p.getSpec().setHostNetwork(true);
              return p;
            });
    create("node-traffic", "other", spec -> {});

    PodCapture refused = awaitPhase("node-traffic", "Failed");
    assertEquals("HostNetworkPod", refused.getStatus().getConditions().get(0).getReason());
    assertTrue(
        refused.getStatus().getMessage().contains("ALLOW_HOST_NETWORK=true"),
        refused.getStatus().getMessage());
    assertEquals(List.of(), tcpdumpsOf("node-traffic"));
    assertEquals(0, metric("podcapture_capture_starts_total"));
    await()
        .atMost(WAIT)
        .until(
            () ->
                user.v1().events().inNamespace("default").list().getItems().stream()
                    .anyMatch(
                        e ->
                            "HostNetworkPod".equals(e.getReason())
                                && "Warning".equals(e.getType())));

    agent.close();
    startAgent(Map.of("ALLOW_HOST_NETWORK", "true"));

    awaitPhase("node-traffic", "Running");
    assertEquals(1, tcpdumpsOf("node-traffic").size());
  }
}
