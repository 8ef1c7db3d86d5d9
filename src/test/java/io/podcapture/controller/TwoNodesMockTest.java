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
import io.podcapture.testing.PodCaptureBuilder;
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
 * Two agents on two nodes against one API server: who answers for which PodCapture, who hears of
 * it, and that no agent takes part in an election.
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
  void eachAgentHearsOnlyOfItsOwnNodesPodCapturesAndNoAgentAsksAboutALease() {
    a.create(running("default", "web-a", "node-a", null, "10.1.0.5"));
    a.create(running("default", "web-b", "node-b", null, "10.2.0.5"));
    a.createPodCapture(direct("cap-a", "web-a"));
    a.createPodCapture(PodCaptureBuilder.direct("cap-b", "web-b").node("node-b").build());
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
                        || p.contains("labelSelector=tcpdump.antrea.io%2Fnode%3Dnode-b")),
        watches.toString());
    assertNoLeaseRequest();
    assertFalse(heardByB.byNode().containsKey("node-a"), "node-b's agent never heard of node-a's");
  }

  @Test
  void aPodCaptureLabelledWithTheWrongNodeIsHandedBackAndTheRightAgentRunsItOnceLabelled() {
    a.create(running("default", "web-b", "node-b", null, "10.2.0.5"));
    // Copied from another cluster with an older node label: node-a's agent hears of it.
    a.createPodCapture(direct("copied", "web-b"));

    await()
        .atMost(WAIT)
        .until(() -> PodCaptures.label(a.cr("default", "copied"), Names.LABEL_NODE) == null);
    assertTrue(onA.starts.isEmpty(), "nothing ran on node-a");
    assertTrue(onB.starts.isEmpty(), "node-b's agent does not watch unlabelled PodCaptures");

    // The cluster controller's part, played here: it labels it with the Pod's node.
    a.user
        .resources(PodCapture.class)
        .inNamespace("default")
        .withName("copied")
        .edit(
            cr -> {
              cr.getMetadata()
                  .setLabels(new java.util.HashMap<>(Map.of(Names.LABEL_NODE, "node-b")));
              return cr;
            });
    assertEquals("node-b", awaitPhase("copied", "Running").getStatus().getNode());
    assertEquals(
        List.of(new CaptureKey("default", "copied")),
        onB.starts.stream().map(CaptureRequest::key).toList());
    assertNoLeaseRequest();
  }

  /** No agent sent a single request about a Lease: agents take part in no election. */
  private void assertNoLeaseRequest() {
    List<String> leases =
        api.dispatcher().requests().stream()
            .map(r -> r.method() + " " + r.path())
            .filter(p -> p.contains("coordination.k8s.io") || p.contains("/leases"))
            .toList();
    assertEquals(List.of(), leases, "requests about a Lease");
    assertFalse(api.dispatcher().requests().isEmpty(), "the request log recorded the agents");
  }
}
