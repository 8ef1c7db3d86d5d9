package io.podcapture.controller;

import static io.podcapture.controller.PodCaptureControllerMockTest.direct;
import static io.podcapture.testing.Pods.running;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher.Request;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two agents on two nodes against one API server: who answers for which PodCapture, and who hears
 * of it.
 */
@Tag("integration")
class TwoNodesMockTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private MockApiServer api;
  private FakePacketCapturer onA;
  private FakePacketCapturer onB;
  private AgentHarness a;
  private AgentHarness b;
  private final HeardPodCaptures heardByA = new HeardPodCaptures();
  private final HeardPodCaptures heardByB = new HeardPodCaptures();

  /** PodCapture events an agent's node informer received, counted per value of their node label. */
  private static final class HeardPodCaptures implements ControllerMetrics {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    @Override
    public void podCaptureEvent(String node) {
      counts.computeIfAbsent(String.valueOf(node), n -> new AtomicLong()).incrementAndGet();
    }

    Map<String, Long> byNode() {
      Map<String, Long> byNode = new TreeMap<>();
      counts.forEach((node, n) -> byNode.put(node, n.get()));
      return byNode;
    }
  }

  @BeforeEach
  void startTwoAgents() throws Exception {
    api = new MockApiServer();
    onA = new FakePacketCapturer();
    onB = new FakePacketCapturer();
    a = new AgentHarness(api, onA, Map.of());
    a.metrics = heardByA;
    a.start();
    b = new AgentHarness(api, onB, Map.of("NODE_NAME", "node-b", "POD_NAME", "agent-b"));
    b.metrics = heardByB;
    b.start();
  }

  @AfterEach
  void stop() {
    a.close();
    b.close();
    api.close();
  }

  private PodCapture awaitPhase(String name, String phase) {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              PodCapture cr = a.cr("default", name);
              return cr != null
                  && cr.getStatus() != null
                  && phase.equals(cr.getStatus().getPhase());
            });
    return a.cr("default", name);
  }

  @Test
  void podCaptureOfAMissingPodIsPendingWithThePodNamedWithinTenSeconds() {
    long created = System.nanoTime();
    a.createPodCapture(direct("ghost", "nobody"));

    PodCapture cr = awaitPhase("ghost", "Pending");
    long tookMillis = (System.nanoTime() - created) / 1_000_000;
    System.out.printf("missing Pod reported after %d ms%n", tookMillis);
    assertEquals(
        "Pod nobody not found in namespace default; the capture starts when it appears",
        cr.getStatus().getMessage());
    assertEquals(Names.REASON_POD_NOT_FOUND, cr.getStatus().getConditions().get(0).getReason());
    assertTrue(a.controller.leading() != b.controller.leading(), "exactly one agent is elected");
  }

  @Test
  void podCaptureOfAPodOnANodeWithoutAgentSaysSo() {
    a.create(running("default", "lonely", "node-c", null, "10.3.0.5"));
    a.createPodCapture(direct("lonely", "lonely"));

    awaitPhase("lonely", "Pending");
    await()
        .atMost(WAIT)
        .until(() -> a.cr("default", "lonely").getStatus().getMessage().contains("node-c"));
    PodCapture cr = a.cr("default", "lonely");
    assertEquals(Names.REASON_WAITING_FOR_AGENT, cr.getStatus().getConditions().get(0).getReason());
    assertTrue(
        cr.getStatus().getMessage().contains("no agent runs on node node-c"),
        cr.getStatus().getMessage());
    assertEquals("node-c", cr.getMetadata().getLabels().get(Names.LABEL_NODE));
  }

  @Test
  void eachAgentHearsOnlyOfItsOwnNodesPodCapturesAndTheLabelFollowsAMovedPod() {
    a.create(running("default", "web-a", "node-a", null, "10.1.0.5"));
    a.create(running("default", "web-b", "node-b", null, "10.2.0.5"));
    a.createPodCapture(direct("cap-a", "web-a"));
    a.createPodCapture(direct("cap-b", "web-b"));
    a.create(running("default", "db-b", "node-b", "2", "10.2.0.6"));

    assertEquals("node-a", awaitPhase("cap-a", "Running").getStatus().getNode());
    assertEquals("node-b", awaitPhase("cap-b", "Running").getStatus().getNode());
    assertEquals("node-b", awaitPhase("db-b", "Running").getStatus().getNode());
    assertEquals(
        List.of(new CaptureKey("default", "cap-a")),
        onA.starts.stream().map(CaptureRequest::key).toList());
    assertEquals(
        List.of(new CaptureKey("default", "cap-b"), new CaptureKey("default", "db-b")),
        onB.starts.stream()
            .map(CaptureRequest::key)
            .sorted(java.util.Comparator.comparing(CaptureKey::name))
            .toList());

    Map<String, Long> onNodeA = heardByA.byNode();
    Map<String, Long> onNodeB = heardByB.byNode();
    System.out.println(
        "PodCapture events heard, by node label: agent on node-a "
            + onNodeA
            + ", on node-b "
            + onNodeB);
    assertTrue(onNodeA.getOrDefault("node-a", 0L) > 0, onNodeA.toString());
    assertTrue(onNodeB.getOrDefault("node-b", 0L) > 0, onNodeB.toString());
    assertEquals(
        Map.of("node-a", onNodeA.get("node-a")), onNodeA, "node-a's agent heard only of node-a's");
    assertEquals(
        Map.of("node-b", onNodeB.get("node-b")), onNodeB, "node-b's agent heard only of node-b's");
    // And the API server was asked by each node agent for its own node's PodCaptures only.
    List<String> watches =
        api.dispatcher().requests().stream()
            .map(Request::path)
            .filter(p -> p.startsWith("/apis/tcpdump.antrea.io/v1alpha1/podcaptures?"))
            .toList();
    assertTrue(
        watches.stream()
            .allMatch(
                p ->
                    p.contains("labelSelector=tcpdump.antrea.io%2Fnode%3Dnode-a")
                        || p.contains("labelSelector=tcpdump.antrea.io%2Fnode%3Dnode-b")
                        || p.contains("labelSelector=%21tcpdump.antrea.io%2Fnode")),
        watches.toString());

    // web-a is re-created on node-b: its capture follows it there.
    a.deletePod("default", "web-a");
    await()
        .atMost(WAIT)
        .until(
            () ->
                a.cr("default", "cap-a").getMetadata().getLabels().get(Names.LABEL_NODE) == null
                    || !onA.captures().contains(new CaptureKey("default", "cap-a")));
    a.create(running("default", "web-a", "node-b", null, "10.2.0.7"));

    await()
        .atMost(WAIT)
        .until(
            () -> {
              PodCapture cr = a.cr("default", "cap-a");
              return "node-b".equals(cr.getMetadata().getLabels().get(Names.LABEL_NODE))
                  && cr.getStatus() != null
                  && "Running".equals(cr.getStatus().getPhase())
                  && "node-b".equals(cr.getStatus().getNode());
            });
    assertEquals(List.of("10.2.0.7"), a.cr("default", "cap-a").getStatus().getPodIPs());
    assertFalse(onA.captures().contains(new CaptureKey("default", "cap-a")), "stopped on node-a");
    assertTrue(onB.running(new CaptureKey("default", "cap-a")));
    assertFalse(heardByB.byNode().containsKey("node-a"), "node-b's agent never heard of node-a's");
  }
}
