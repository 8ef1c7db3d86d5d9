package io.podcapture.controller;

import static io.podcapture.controller.PodCaptureControllerMockTest.direct;
import static io.podcapture.testing.Pods.running;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The API writes one capture costs the agents over its whole life, from the request to its end,
 * counted at the API server (the Lease renewals of the election aside, which do not grow with
 * captures).
 */
@Tag("integration")
class WritesPerCaptureMockTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private MockApiServer api;
  private AgentHarness agent;

  @BeforeEach
  void start() throws Exception {
    api = new MockApiServer();
    // A long refresh: file sizes that change add writes of their own, not counted here.
    agent =
        new AgentHarness(api, new FakePacketCapturer(), Map.of("STATUS_REFRESH_SECONDS", "3600"))
            .start();
  }

  @AfterEach
  void stop() {
    agent.close();
    api.close();
  }

  private List<String> agentWrites() {
    return api.dispatcher().requests().stream()
        .filter(
            r ->
                AgentHarness.AGENT_USER_AGENT.equals(r.userAgent())
                    && !"GET".equals(r.method())
                    && !r.path().contains("/leases"))
        .map(r -> r.method() + " " + r.path().replaceFirst("/events/[^/?]+", "/events/*"))
        .toList();
  }

  private void awaitPhase(String name, String phase) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              PodCapture cr = agent.cr("default", name);
              return cr != null
                  && cr.getStatus() != null
                  && phase.equals(cr.getStatus().getPhase());
            });
  }

  /** Waits until the writes stop coming (Events are sent on a thread of their own). */
  private List<String> settledWrites() {
    await()
        .pollDelay(Duration.ofMillis(500))
        .atMost(WAIT)
        .until(
            () -> {
              int before = agentWrites().size();
              Thread.sleep(700);
              return agentWrites().size() == before;
            });
    return agentWrites();
  }

  @Test
  void anAnnotationCaptureCostsSixWrites() {
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));
    awaitPhase("web", "Running");
    agent.removeAnnotation("default", "web");
    await().atMost(WAIT).until(() -> agent.cr("default", "web") == null);

    List<String> writes = settledWrites();
    System.out.println("annotation capture, API writes: " + writes.size() + " " + writes);
    String cr = "/apis/tcpdump.antrea.io/v1alpha1/namespaces/default/podcaptures";
    assertEquals(
        sorted(
            List.of(
                "POST " + cr, // the annotation's PodCapture
                "PUT " + cr + "/web/status", // Running
                "POST /api/v1/namespaces/default/events", // CaptureStarted, on the Pod
                "DELETE " + cr + "/web", // the annotation went
                "POST /api/v1/namespaces/default/events", // CaptureStopped, on the Pod
                "PATCH " + cr + "/web")), // finalizer released
        sorted(writes));
  }

  @Test
  void aDirectPodCaptureLabelledWithItsNodeCostsTheAgentFourWrites() {
    agent.create(running("default", "web", "node-a", null, "10.1.0.5"));
    agent.createPodCapture(direct("web-all", "web"));
    awaitPhase("web-all", "Running");
    agent.deletePodCapture("default", "web-all");
    await().atMost(WAIT).until(() -> agent.cr("default", "web-all") == null);

    List<String> writes = settledWrites();
    System.out.println(
        "direct PodCapture, API writes by the agents: " + writes.size() + " " + writes);
    String cr = "/apis/tcpdump.antrea.io/v1alpha1/namespaces/default/podcaptures/web-all";
    assertEquals(
        sorted(
            List.of(
                "PATCH " + cr, // the node agent: finalizer, before tcpdump starts
                "PUT " + cr + "/status", // the node agent: Running
                "POST /api/v1/namespaces/default/events", // CaptureStarted
                "PATCH " + cr)), // the node agent: finalizer released after the delete
        sorted(writes));
  }

  private static List<String> sorted(List<String> writes) {
    return writes.stream().sorted().toList();
  }
}
