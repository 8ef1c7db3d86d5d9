package io.podcapture.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.podcapture.Agent;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.CaptureFile;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureConfig;
import io.podcapture.mock.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Requirements;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent wiring (informers, queue, reconciler, CaptureManager) against the mock API server, with real
 * tcpdump, bounded to the DaemonSet's capabilities, capturing network-namespace "Pods" that really ping.
 */
class AgentEndToEndTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path captureDir;
  private NetnsPod web;
  private NetnsPod other;
  private MockApiServer api;
  private KubernetesClient user;
  private KubernetesClient agentClient;
  private Agent agent;

  @BeforeEach
  void start() throws Exception {
    Requirements.realCapture();
    web = NetnsPod.create();
    other = NetnsPod.create();
    api = new MockApiServer();
    user = api.client();
    agentClient = api.client();
    user.pods().inNamespace("default").resource(pod("web", web)).create();
    user.pods().inNamespace("default").resource(pod("other", other)).create();
    AgentConfig config = AgentConfig.fromEnvironment(Map.of("NODE_NAME", "node-a", "POD_NAME", "agent-a",
        "CAPTURE_DIR", captureDir.toString(), "STATUS_REFRESH_SECONDS", "1", "HTTP_PORT", "0"));
    agent = Agent.start(config, agentClient, Agent.captureConfig(config)
        .withLauncher(CaptureConfig.MINIMAL_CAPABILITIES));
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    for (AutoCloseable c : new AutoCloseable[] {agentClient, user, api, web, other}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort: each resource is closed on its own
      }
    }
  }

  private static Pod pod(String name, NetnsPod netns) {
    PodBuilder b = new PodBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
        .withNewSpec().withNodeName("node-a").addNewContainer().withName("c").withImage("busybox").endContainer()
        .endSpec().withNewStatus().withPhase("Running").withPodIP(netns.ipv4()).endStatus();
    for (String ip : netns.ips()) {
      b.editStatus().addNewPodIP().withIp(ip).endPodIP().endStatus();
    }
    return b.build();
  }

  private PodCapture cr() {
    return user.resources(PodCapture.class).inNamespace("default").withName("web").get();
  }

  private void annotate(String value) {
    String json = value == null ? "null" : "\"" + value + "\"";
    user.pods().inNamespace("default").withName("web").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":" + json + "}}}");
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://localhost:" + agent.monitoringPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The value of one sample line of /metrics, e.g. {@code podcapture_captures_running}. */
  private double metric(String sample) throws Exception {
    return get("/metrics").body().lines().filter(l -> l.startsWith(sample + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(sample.length() + 1).trim())).findFirst().orElse(0);
  }

  @Test
  void annotationStartsARealCaptureOfThePodAndRemovingItCleansUp() throws Exception {
    assertEquals(200, get("/healthz").statusCode());
    assertEquals(200, get("/readyz").statusCode());
    assertEquals(0, metric("podcapture_captures_running"));

    annotate("3");

    await().atMost(WAIT).until(() -> cr() != null && cr().getStatus() != null
        && "Running".equals(cr().getStatus().getPhase()));
    Path namespaceDir = captureDir.resolve("default");
    List<Long> pids = Pcap.processesWritingInto(namespaceDir);
    assertEquals(1, pids.size(), "one tcpdump for the capture");
    PodCapture running = cr();
    assertTrue(running.getStatus().getFilter().contains("(inbound and (src host " + web.ipv4() + " or src host "
        + web.ipv6() + ")) or (outbound and (dst host " + web.ipv4() + " or dst host " + web.ipv6() + " or "),
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
    assertTrue(packets.stream().anyMatch(p -> p.contains(web.ipv4()) && p.contains("ICMP echo request")),
        "web's pings are in the capture");
    assertFalse(packets.stream().anyMatch(p -> p.contains(other.ipv4())), "other's pings are not");

    annotate(null);

    await().atMost(WAIT).until(() -> cr() == null);
    await().atMost(WAIT).until(() -> Pcap.processesWritingInto(namespaceDir).isEmpty());
    pids.forEach(pid -> assertFalse(Pcap.alive(pid), "tcpdump " + pid + " is gone"));
    try (Stream<Path> left = Files.exists(namespaceDir) ? Files.list(namespaceDir) : Stream.empty()) {
      assertEquals(List.of(), left.toList(), "no capture file is left");
    }
    assertEquals(0, metric("podcapture_captures_running"));
    assertEquals(1, metric("podcapture_capture_starts_total"));
    assertEquals(1, metric("podcapture_capture_stops_total{reason=\"AnnotationRemoved\"}"));
    assertEquals(0, metric("podcapture_capture_bytes{node=\"node-a\"}"));
    assertTrue(metric("podcapture_reconcile_duration_seconds_count{result=\"success\"}") >= 3);
  }
}
