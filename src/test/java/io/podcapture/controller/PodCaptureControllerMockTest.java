package io.podcapture.controller;

import static io.podcapture.testing.Pods.running;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Condition;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher;
import io.podcapture.testing.PodCaptureBuilder;
import io.podcapture.testing.Pods;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The agent's reconcile cases against fabric8's CRUD mock API server, with a fake capture layer.
 */
@Tag("integration")
class PodCaptureControllerMockTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final CaptureKey WEB = new CaptureKey("default", "web");

  private MockApiServer api;
  private FakePacketCapturer capturer;
  private AgentHarness agent;

  @BeforeEach
  void startAgent() throws Exception {
    api = new MockApiServer();
    capturer = new FakePacketCapturer();
    agent = new AgentHarness(api, capturer, Map.of("MAX_FILES", "64")).start();
  }

  @AfterEach
  void stopAgent() {
    agent.close();
    api.close();
  }

  private PodCapture awaitPhase(String namespace, String name, String phase) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              PodCapture cr = agent.cr(namespace, name);
              return cr != null
                  && cr.getStatus() != null
                  && phase.equals(cr.getStatus().getPhase());
            });
    return agent.cr(namespace, name);
  }

  private static Condition ready(PodCapture cr) {
    return cr.getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void annotatingPodCreatesPodCaptureAndStartsCapture() {
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5", "fd00::5"));

    PodCapture cr = awaitPhase("default", "web", "Running");
    assertEquals(
        List.of(new CaptureRequest(WEB, List.of("10.1.0.5", "fd00::5"), 5, 1)), capturer.starts);
    assertEquals("web", cr.getSpec().getPodName());
    assertEquals(5, cr.getSpec().getMaxFiles());
    assertEquals(1, cr.getSpec().getFileSizeMB());
    assertEquals("podcapture-agent", cr.getMetadata().getLabels().get(Names.LABEL_MANAGED_BY));
    assertEquals("node-a", cr.getMetadata().getLabels().get(Names.LABEL_NODE));
    assertEquals(List.of(Names.FINALIZER), cr.getMetadata().getFinalizers());
    assertEquals("Pod", cr.getMetadata().getOwnerReferences().get(0).getKind());
    assertEquals(
        agent.getPod("default", "web").getMetadata().getUid(),
        cr.getMetadata().getOwnerReferences().get(0).getUid());
    assertEquals("node-a", cr.getStatus().getNode());
    assertEquals("kube-system/agent-a", cr.getStatus().getAgentPod());
    assertEquals(List.of("10.1.0.5", "fd00::5"), cr.getStatus().getPodIPs());
    assertEquals("host 10.1.0.5 or host fd00::5", cr.getStatus().getFilter());
    assertEquals(1, cr.getStatus().getFileCount());
    assertEquals(1000L, cr.getStatus().getTotalBytes());
    assertEquals("/capture/default/capture-web.pcap0", cr.getStatus().getFiles().get(0).getPath());
    assertNotNull(cr.getStatus().getStartTime());
    assertEquals("True", ready(cr).getStatus());
    assertEquals(Names.REASON_RUNNING, ready(cr).getReason());
    await().atMost(WAIT).until(() -> agent.hasEvent("default", "Pod", "web", Names.REASON_STARTED));
  }

  @Test
  void startUpRemovesLeftoversAndResumesWantedCaptures() throws Exception {
    agent.stopAgent();
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));
    agent.create(running("default", "idle", "node-a", null, "10.1.0.6"));
    agent.create(running("default", "far", "node-b", "5", "10.2.0.5"));

    agent.start();

    // Before any worker ran, the capture layer was told which captures' files to keep: the
    // annotated Pods here.
    assertEquals(Set.of(WEB), capturer.leftoverCalls.get(capturer.leftoverCalls.size() - 1));
    awaitPhase("default", "web", "Running");
    assertEquals(Set.of(WEB), capturer.captures());
  }

  @Test
  void changingAnnotationRestartsCaptureWithNewFileCount() {
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));
    awaitPhase("default", "web", "Running");

    agent.annotate("default", "web", "7");

    await().atMost(WAIT).until(() -> agent.cr("default", "web").getSpec().getMaxFiles() == 7);
    await().atMost(WAIT).until(() -> capturer.starts.size() == 2);
    assertEquals(7, capturer.starts.get(1).maxFiles());
    assertTrue(capturer.running(WEB));
    awaitPhase("default", "web", "Running");
  }

  @Test
  void removingAnnotationStopsCaptureAndDeletesPodCapture() {
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));
    awaitPhase("default", "web", "Running");

    agent.removeAnnotation("default", "web");

    await().atMost(WAIT).until(() -> agent.cr("default", "web") == null);
    assertEquals(List.of(WEB), capturer.removals);
    assertTrue(capturer.captures().isEmpty());
    await().atMost(WAIT).until(() -> agent.hasEvent("default", "web", Names.REASON_STOPPED));
  }

  @Test
  void deletingPodCaptureStopsCaptureAndRemovesAnnotation() {
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));
    awaitPhase("default", "web", "Running");

    agent.deletePodCapture("default", "web");

    await().atMost(WAIT).until(() -> agent.cr("default", "web") == null);
    await()
        .atMost(WAIT)
        .until(() -> PodCaptures.annotation(agent.getPod("default", "web")) == null);
    assertEquals(List.of(WEB), capturer.removals);
    // Nothing is recreated afterwards.
    await()
        .during(Duration.ofMillis(1500))
        .atMost(WAIT)
        .until(() -> agent.cr("default", "web") == null);
    assertEquals(1, capturer.starts.size());
  }

  @Test
  void deletingPodStopsCaptureAndDeletesPodCapture() {
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));
    awaitPhase("default", "web", "Running");

    agent.deletePod("default", "web");

    // The mock has no garbage collector: the agent itself deletes the PodCapture. The
    // annotation's capture keeps its old behaviour: its files go with the Pod.
    await().atMost(WAIT).until(() -> agent.cr("default", "web") == null);
    assertEquals(List.of(WEB), capturer.removals);
    assertTrue(capturer.stops.isEmpty(), "not stopped with its files kept");
  }

  @Test
  void directPodCaptureRunsWithoutAnnotationAndItsDeleteStopsItAndLeavesThePodAlone() {
    agent.create(running("default", "web", "node-a", null, "10.1.0.5"));
    PodCapture direct = direct("tls-only", "web");
    direct.getSpec().setFilter("tcp port 443");
    agent.createPodCapture(direct);

    PodCapture cr = awaitPhase("default", "tls-only", "Running");
    CaptureKey key = new CaptureKey("default", "tls-only");
    assertEquals(
        List.of(new CaptureRequest(key, List.of("10.1.0.5"), 1, 1, "tcp port 443", null, null, 0)),
        capturer.starts);
    assertEquals("(host 10.1.0.5) and (tcp port 443)", cr.getStatus().getFilter());
    assertEquals(
        "node-a",
        cr.getMetadata().getLabels().get(Names.LABEL_NODE),
        "the node label it was created with");
    assertNull(cr.getMetadata().getLabels().get(Names.LABEL_MANAGED_BY), "not the annotation's");
    assertEquals(List.of(Names.FINALIZER), cr.getMetadata().getFinalizers());
    await()
        .atMost(WAIT)
        .until(() -> agent.hasEvent("default", "PodCapture", "tls-only", Names.REASON_STARTED));

    agent.deletePodCapture("default", "tls-only");

    await().atMost(WAIT).until(() -> agent.cr("default", "tls-only") == null);
    assertEquals(List.of(key), capturer.removals);
    assertNull(PodCaptures.annotation(agent.getPod("default", "web")));
    assertEquals(1, agent.user.pods().inNamespace("default").list().getItems().size());
  }

  @Test
  void twoPodCapturesOfOnePodRunAndStopApart() {
    agent.create(running("default", "web", "node-a", null, "10.1.0.5"));
    agent.createPodCapture(direct("all", "web"));
    agent.createPodCapture(direct("dns", "web"));
    awaitPhase("default", "all", "Running");
    awaitPhase("default", "dns", "Running");

    agent.deletePodCapture("default", "dns");

    await().atMost(WAIT).until(() -> agent.cr("default", "dns") == null);
    assertEquals(List.of(new CaptureKey("default", "dns")), capturer.removals);
    assertTrue(capturer.running(new CaptureKey("default", "all")));
  }

  @Test
  void annotatingPodAdoptsTheDirectPodCaptureNamedAfterIt() {
    agent.create(running("default", "web", "node-a", null, "10.1.0.5"));
    agent.createPodCapture(direct("web", "web"));
    awaitPhase("default", "web", "Running");

    agent.annotate("default", "web", "3");

    await().atMost(WAIT).until(() -> agent.cr("default", "web").getSpec().getMaxFiles() == 3);
    PodCapture cr = awaitPhase("default", "web", "Running");
    assertEquals("podcapture-agent", cr.getMetadata().getLabels().get(Names.LABEL_MANAGED_BY));
    assertEquals(List.of(Names.FINALIZER), cr.getMetadata().getFinalizers());
    await()
        .atMost(WAIT)
        .until(() -> capturer.starts.size() == 2 && capturer.starts.get(1).maxFiles() == 3);

    // Adopted, it now goes with the annotation.
    agent.removeAnnotation("default", "web");
    await().atMost(WAIT).until(() -> agent.cr("default", "web") == null);
  }

  @Test
  void directPodCaptureWhosePodIsDeletedWhileItRunsEndsCompletedAndKeepsItsFilesUntilDeleted() {
    agent.create(running("default", "web", "node-a", null, "10.1.0.5"));
    agent.createPodCapture(direct("web", "web"));
    awaitPhase("default", "web", "Running");

    agent.deletePod("default", "web");

    // The capture is the evidence: tcpdump stops, the files stay, and the PodCapture says why.
    PodCapture cr = awaitPhase("default", "web", "Completed");
    assertEquals(Names.REASON_POD_DELETED, ready(cr).getReason());
    assertEquals(
        "Pod web was deleted while the capture ran; tcpdump was stopped and its 1 file(s) are"
            + " kept until the PodCapture is deleted",
        cr.getStatus().getMessage());
    assertEquals(1, cr.getStatus().getFileCount());
    assertNotNull(cr.getStatus().getCompletionTime());
    assertEquals("node-a", cr.getMetadata().getLabels().get(Names.LABEL_NODE), "not handed back");
    assertEquals(List.of(WEB), capturer.stops);
    assertTrue(capturer.removals.isEmpty(), "files kept");
    await()
        .atMost(WAIT)
        .until(() -> agent.hasEvent("default", "PodCapture", "web", Names.REASON_POD_DELETED));
    assertTrue(
        agent.events("default").stream()
            .filter(e -> Names.REASON_POD_DELETED.equals(e.getReason()))
            .allMatch(e -> "Normal".equals(e.getType())));

    // A Pod of that name coming back does not start it again: the capture ended.
    agent.create(running("default", "web", "node-a", null, "10.1.0.8"));
    await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> capturer.starts.size() == 1);
    assertEquals(Names.PHASE_COMPLETED, agent.cr("default", "web").getStatus().getPhase());

    agent.deletePodCapture("default", "web");
    await().atMost(WAIT).until(() -> agent.cr("default", "web") == null);
    assertEquals(List.of(WEB), capturer.removals);
  }

  @Test
  void podCaptureLabelledWithThisNodeWhosePodIsElsewhereOrMissingIsHandedBack() {
    agent.create(running("default", "remote", "node-b", null, "10.2.0.5"));
    agent.createPodCapture(direct("elsewhere", "remote"));
    agent.createPodCapture(direct("ghost", "nobody"));

    await()
        .atMost(WAIT)
        .until(
            () ->
                nodeLabel(agent.cr("default", "elsewhere")) == null
                    && nodeLabel(agent.cr("default", "ghost")) == null);
    for (String name : List.of("elsewhere", "ghost")) {
      PodCapture cr = agent.cr("default", name);
      assertNull(
          cr.getStatus(), name + ": the cluster controller writes its status, not this agent");
      assertTrue(
          cr.getMetadata().getFinalizers() == null || cr.getMetadata().getFinalizers().isEmpty(),
          name + ": no finalizer of this agent's left");
    }
    assertTrue(capturer.starts.isEmpty(), "nothing ran here");
    // The agent asked the API server for each Pod before giving the PodCapture back.
    List<String> gets =
        api.dispatcher().requests().stream()
            .filter(r -> "GET".equals(r.method()))
            .map(NodeAwareCrudDispatcher.Request::path)
            .toList();
    assertTrue(gets.contains("/api/v1/namespaces/default/pods/remote"), gets.toString());
    assertTrue(gets.contains("/api/v1/namespaces/default/pods/nobody"), gets.toString());
  }

  private static String nodeLabel(PodCapture cr) {
    return cr.getMetadata().getLabels() == null
        ? null
        : cr.getMetadata().getLabels().get(Names.LABEL_NODE);
  }

  @Test
  void annotationIsRefusedWhenThePodCaptureOfItsNameCapturesAnotherPod() {
    agent.create(running("default", "db", "node-a", null, "10.1.0.6"));
    agent.createPodCapture(direct("web", "db"));
    awaitPhase("default", "web", "Running");

    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));

    await()
        .atMost(WAIT)
        .until(() -> agent.hasEvent("default", "Pod", "web", Names.REASON_NAME_TAKEN));
    PodCapture cr = agent.cr("default", "web");
    assertEquals("db", cr.getSpec().getPodName());
    assertNull(cr.getMetadata().getLabels().get(Names.LABEL_MANAGED_BY));
    assertEquals(1, capturer.starts.size());
    assertEquals("5", PodCaptures.annotation(agent.getPod("default", "web")));
  }

  @Test
  void completedCaptureKeepsItsFilesUntilItsTtlDeletesIt() {
    agent.create(running("default", "web", "node-a", null, "10.1.0.5"));
    PodCapture direct = direct("ten", "web");
    direct.getSpec().setPacketCount(10);
    direct.getSpec().setTtlSecondsAfterFinished(2);
    agent.createPodCapture(direct);
    awaitPhase("default", "ten", "Running");
    CaptureKey key = new CaptureKey("default", "ten");

    capturer.complete(key);

    PodCapture cr = awaitPhase("default", "ten", "Completed");
    assertNotNull(cr.getStatus().getCompletionTime());
    assertEquals(1, cr.getStatus().getFileCount());
    assertTrue(capturer.removals.isEmpty(), "files kept");
    assertEquals(1, capturer.starts.size());
    await().atMost(WAIT).until(() -> agent.cr("default", "ten") == null);
    assertEquals(List.of(key), capturer.removals);
  }

  /**
   * A PodCapture as a user writes it (name, Pod), labelled with this agent's node as the cluster
   * controller would label it (no controller runs in this tier).
   */
  static PodCapture direct(String name, String pod) {
    return PodCaptureBuilder.direct(name, pod).node(Pods.NODE).build();
  }

  @Test
  void sameNamedPodsInTwoNamespacesAreCapturedApart() {
    agent
        .user
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName("shop")
                .endMetadata()
                .build())
        .create();
    agent.create(running("default", "web", "node-a", "2", "10.1.0.5"));
    agent.create(running("shop", "web", "node-a", "3", "10.1.0.6"));

    PodCapture a = awaitPhase("default", "web", "Running");
    PodCapture b = awaitPhase("shop", "web", "Running");
    assertEquals("host 10.1.0.5", a.getStatus().getFilter());
    assertEquals("host 10.1.0.6", b.getStatus().getFilter());
    assertEquals("/capture/shop/capture-web.pcap0", b.getStatus().getFiles().get(0).getPath());

    agent.removeAnnotation("shop", "web");

    await().atMost(WAIT).until(() -> agent.cr("shop", "web") == null);
    assertTrue(capturer.running(WEB));
    assertEquals("Running", agent.cr("default", "web").getStatus().getPhase());
  }

  @Test
  void podOfAnotherNodeIsIgnored() {
    agent.create(running("default", "far", "node-b", "5", "10.2.0.5"));
    agent.create(running("default", "near", "node-a", "5", "10.1.0.5"));

    awaitPhase("default", "near", "Running");
    await()
        .during(Duration.ofMillis(500))
        .atMost(WAIT)
        .until(() -> agent.cr("default", "far") == null);
    assertEquals(1, capturer.starts.size());
    // The agent asked the API server for its own node's Pods only.
    assertTrue(
        api.dispatcher().requests().stream()
            .map(NodeAwareCrudDispatcher.Request::path)
            .filter(p -> p.startsWith("/api/v1/pods"))
            .allMatch(p -> p.contains("fieldSelector=spec.nodeName%3Dnode-a")));
  }

  @Test
  void statusIsWrittenOnlyWhenItChanges() throws Exception {
    agent.create(running("default", "web", "node-a", "5", "10.1.0.5"));
    awaitPhase("default", "web", "Running");
    Thread.sleep(500);
    api.dispatcher().clearRequests();

    // Nothing changes for three refresh intervals: no writes at all.
    Thread.sleep(3000);
    assertEquals(0, statusWrites());

    // Files grow: sizes are refreshed, at most once per interval (1 s here).
    capturer.fileSize = 5000;
    await()
        .atMost(WAIT)
        .until(() -> agent.cr("default", "web").getStatus().getTotalBytes() == 5000L);
    capturer.fileSize = 6000;
    Thread.sleep(200);
    capturer.fileSize = 7000;
    Thread.sleep(2500);
    long writes = statusWrites();
    assertTrue(writes >= 2 && writes <= 4, "status writes: " + writes);
    assertEquals(7000L, agent.cr("default", "web").getStatus().getTotalBytes());
  }

  private long statusWrites() {
    return api.dispatcher().requests().stream()
        .filter(
            r ->
                !r.method().equals("GET")
                    && r.path().contains("/podcaptures/")
                    && r.path().contains("/status"))
        .count();
  }
}
