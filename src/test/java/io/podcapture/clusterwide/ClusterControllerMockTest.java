package io.podcapture.clusterwide;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.Names;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher.Request;
import io.podcapture.testing.PodCaptureBuilder;
import io.podcapture.testing.Pods;
import io.podcapture.testing.User;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The cluster controller against fabric8's mock API server: the Lease, the placement of PodCaptures
 * without a node or with a node label nobody answers to, and a standby replica that writes nothing.
 * Agents are their Pods only (presence); no agent runs here.
 */
@Tag("integration")
class ClusterControllerMockTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String AGENTS_NS = "kube-system";

  private MockApiServer api;
  private User user;
  private final List<KubernetesClient> clients = new ArrayList<>();
  private final List<ClusterController> controllers = new ArrayList<>();

  @BeforeEach
  void startServer() {
    api = new MockApiServer();
    user = new User(api.client());
    agentPod("node-a");
    agentPod("node-b");
  }

  @AfterEach
  void stop() {
    controllers.forEach(ClusterController::close);
    clients.forEach(KubernetesClient::close);
    user.client().close();
    api.close();
  }

  private static String userAgent(String replica) {
    return "podcapture-controller-test/" + replica;
  }

  private ClusterController controller(String replica) throws Exception {
    KubernetesClient client = api.client(userAgent(replica));
    clients.add(client);
    ControllerConfig config =
        ControllerConfig.fromEnvironment(Map.of("POD_NAME", replica, "HTTP_PORT", "0"));
    ClusterController controller =
        ClusterController.start(config, client, Clock.systemUTC(), List.of());
    controllers.add(controller);
    return controller;
  }

  private ClusterController leader(String replica) throws Exception {
    ClusterController controller = controller(replica);
    await().atMost(WAIT).until(controller::leading);
    return controller;
  }

  /** The DaemonSet's Pod on {@code node}, as the controller finds the agents. */
  private void agentPod(String node) {
    user.create(
        new PodBuilder(
                Pods.running(AGENTS_NS, "podcapture-agent-" + node, node, null, new String[0]))
            .editMetadata()
            .addToLabels("app.kubernetes.io/name", "podcapture-agent")
            .endMetadata()
            .build());
  }

  private void webPod(String name, String node) {
    user.create(Pods.running("default", name, node, null, "10.0.0.9"));
  }

  private static String nodeLabel(PodCapture cr) {
    return cr.getMetadata().getLabels() == null
        ? null
        : cr.getMetadata().getLabels().get(Names.LABEL_NODE);
  }

  private PodCapture awaitLabel(String name, String node) {
    await().atMost(WAIT).until(() -> node.equals(nodeLabel(user.cr("default", name))));
    return user.cr("default", name);
  }

  private PodCapture awaitReason(String name, String reason) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              PodCapture cr = user.cr("default", name);
              return cr.getStatus() != null && reason.equals(User.ready(cr).getReason());
            });
    return user.cr("default", name);
  }

  private List<Event> events(String involved, String reason) {
    return user.events("default").stream()
        .filter(e -> reason.equals(e.getReason()))
        .filter(e -> involved.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  @Test
  void theLeaderHoldsTheLeaseInItsNamespaceAndServesReadyAndMetrics() throws Exception {
    ClusterController one = leader("controller-1");
    Lease lease =
        user.client().leases().inNamespace(AGENTS_NS).withName(ClusterController.LEASE).get();
    assertEquals("controller-1", lease.getSpec().getHolderIdentity());
    assertEquals(15, lease.getSpec().getLeaseDurationSeconds());

    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + one.monitoringPort();
    assertEquals(
        200,
        http.send(
                HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString())
            .statusCode());
    await()
        .atMost(WAIT)
        .until(
            () -> {
              String metrics =
                  http.send(
                          HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                          HttpResponse.BodyHandlers.ofString())
                      .body();
              return metrics.contains("podcapture_controller_leading 1.0")
                  && metrics.contains("podcapture_controller_agent_nodes 2.0")
                  && metrics.contains("podcapture_controller_leadership_changes_total 1.0");
            });
  }

  @Test
  void anUnlabelledPodCaptureGetsItsPodsNodeLabelAndNoStatusFromTheController() throws Exception {
    leader("controller-1");
    webPod("web", "node-a");
    user.createPodCapture(PodCaptureBuilder.direct("cap", "web").build());

    PodCapture cr = awaitLabel("cap", "node-a");
    // node-a has an agent: the status is that agent's to write.
    assertNull(cr.getStatus());
    assertTrue(events("cap", "NodeLabelCorrected").isEmpty());
  }

  @Test
  void aWrongNodeLabelIsCorrectedWithAnEvent() throws Exception {
    leader("controller-1");
    webPod("web", "node-a");
    user.createPodCapture(PodCaptureBuilder.direct("copied", "web").node("node-b").build());

    awaitLabel("copied", "node-a");
    await().atMost(WAIT).until(() -> !events("copied", "NodeLabelCorrected").isEmpty());
    Event event = events("copied", "NodeLabelCorrected").get(0);
    assertEquals("Normal", event.getType());
    assertEquals(
        "node label tcpdump.antrea.io/node corrected from node-b to node-a: Pod web runs on node"
            + " node-a",
        event.getMessage());
    assertEquals(Names.CONTROLLER_COMPONENT, event.getSource().getComponent());
  }

  @Test
  void aPodOnANodeWithoutAgentIsExplainedAndLeftToTheAgentOnceOneAppears() throws Exception {
    leader("controller-1");
    webPod("web-c", "node-c");
    user.createPodCapture(PodCaptureBuilder.direct("on-c", "web-c").build());

    PodCapture cr = awaitReason("on-c", "NoAgentOnNode");
    assertEquals("node-c", nodeLabel(cr));
    assertEquals(Names.PHASE_PENDING, cr.getStatus().getPhase());
    assertEquals("node-c", cr.getStatus().getNode());
    assertTrue(cr.getStatus().getMessage().startsWith("no podcapture agent runs on node node-c"));
    await().atMost(WAIT).until(() -> !events("on-c", "NoAgentOnNode").isEmpty());
    assertEquals("Warning", events("on-c", "NoAgentOnNode").get(0).getType());

    // The agent arrives: the PodCapture is labelled for it, and the controller writes no more.
    agentPod("node-c");
    Thread.sleep(1000);
    api.dispatcher().clearRequests();
    user.client()
        .resources(PodCapture.class)
        .inNamespace("default")
        .withName("on-c")
        .edit(
            c -> {
              c.getMetadata().setAnnotations(Map.of("touched", "yes"));
              return c;
            });
    Thread.sleep(1500);
    assertEquals(
        List.of(),
        writesBy("controller-1").stream().filter(r -> r.path().contains("podcaptures")).toList());
    assertEquals("node-c", nodeLabel(user.cr("default", "on-c")));
  }

  @Test
  void aMissingPodIsExplainedPendingAndTheCaptureIsPlacedWhenThePodAppears() throws Exception {
    leader("controller-1");
    user.createPodCapture(PodCaptureBuilder.direct("early", "later").build());

    PodCapture cr = awaitReason("early", Names.REASON_POD_NOT_FOUND);
    assertEquals(Names.PHASE_PENDING, cr.getStatus().getPhase());
    assertEquals(
        "Pod later not found in namespace default; the capture starts when it appears",
        cr.getStatus().getMessage());
    assertNull(nodeLabel(cr));

    // Looked at again every 3 s: the Pod appears on node-b.
    webPod("later", "node-b");
    awaitLabel("early", "node-b");
  }

  @Test
  void replicaDutiesRunOnEveryReplicaFromStartToCloseAndAFailingOneStopsNothing() throws Exception {
    List<String> started = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> closed = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<ClusterController> replicas = new ArrayList<>();
    for (String replica : List.of("controller-1", "controller-2")) {
      KubernetesClient client = api.client(userAgent(replica));
      clients.add(client);
      ControllerConfig config =
          ControllerConfig.fromEnvironment(Map.of("POD_NAME", replica, "HTTP_PORT", "0"));
      LeaderDuties.Duty failing =
          (c, cfg, clock) -> {
            throw new IllegalStateException("no RBAC");
          };
      LeaderDuties.Duty recording =
          (c, cfg, clock) -> {
            started.add(cfg.podName());
            return () -> closed.add(cfg.podName());
          };
      ClusterController controller =
          ClusterController.start(
              config, client, Clock.systemUTC(), List.of(), List.of(failing, recording));
      controllers.add(controller);
      replicas.add(controller);
    }
    assertEquals(List.of("controller-1", "controller-2"), started);
    await().atMost(WAIT).until(() -> replicas.stream().anyMatch(ClusterController::leading));
    replicas.forEach(ClusterController::close);
    assertEquals(List.of("controller-1", "controller-2"), closed);
  }

  @Test
  void theStandbyReplicaWritesNothingButTheLease() throws Exception {
    leader("controller-1");
    ClusterController standby = controller("controller-2");
    webPod("web", "node-a");
    webPod("web-c", "node-c");
    user.createPodCapture(PodCaptureBuilder.direct("one", "web").node("node-b").build());
    user.createPodCapture(PodCaptureBuilder.direct("two", "web-c").build());
    user.createPodCapture(PodCaptureBuilder.direct("three", "missing").build());
    awaitLabel("one", "node-a");
    awaitReason("two", "NoAgentOnNode");
    awaitReason("three", Names.REASON_POD_NOT_FOUND);
    // The standby tries the Lease every 2 s: give it a few tries.
    Thread.sleep(4500);

    assertTrue(!standby.leading());
    List<Request> standbyRequests =
        api.dispatcher().requests().stream()
            .filter(r -> userAgent("controller-2").equals(r.userAgent()))
            .toList();
    assertTrue(!standbyRequests.isEmpty(), "the standby reads the Lease");
    assertEquals(
        List.of(),
        standbyRequests.stream()
            .filter(r -> !r.path().contains("/leases/" + ClusterController.LEASE))
            .map(r -> r.method() + " " + r.path())
            .toList(),
        "the standby's requests other than the Lease");
    assertEquals(
        List.of(),
        standbyRequests.stream()
            .filter(r -> !r.method().equals("GET"))
            .map(r -> r.method() + " " + r.path())
            .toList(),
        "the standby's writes");
  }

  @Test
  void whenTheLeaderStopsTheStandbyTakesTheLeaseAtOnceAndPlaces() throws Exception {
    ClusterController first = leader("controller-1");
    ClusterController second = controller("controller-2");
    first.close();
    long stopped = System.nanoTime();
    await().atMost(WAIT).until(second::leading);
    System.out.printf(
        "mock: controller-2 leads %d ms after controller-1 stopped%n",
        (System.nanoTime() - stopped) / 1_000_000);
    webPod("web", "node-a");
    user.createPodCapture(PodCaptureBuilder.direct("after", "web").build());
    awaitLabel("after", "node-a");
  }

  private List<Request> writesBy(String replica) {
    return api.dispatcher().requests().stream()
        .filter(r -> userAgent(replica).equals(r.userAgent()))
        .filter(r -> !r.method().equals("GET"))
        .filter(r -> !r.path().contains("/leases/"))
        .toList();
  }
}
