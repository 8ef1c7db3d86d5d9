package io.podcapture.sets;

import static io.podcapture.sets.SetFixtures.children;
import static io.podcapture.sets.SetFixtures.inPhase;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetStatus;
import io.podcapture.api.v1alpha1.SetChildren;
import io.podcapture.capture.CaptureKey;
import io.podcapture.controller.Names;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher.Request;
import io.podcapture.testing.Pods;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The set controller against the mock API server, with two node agents (their controllers, each
 * with a capture layer that writes one file per capture into its node's directory).
 */
@Tag("integration")
class SetMockTest {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String CONTROLLER_AGENT = "podcapture-set-controller";
  private static final String NS = "default";

  @TempDir Path tmp;
  private MockApiServer api;
  private FileCapturer onA;
  private FileCapturer onB;
  private AgentHarness a;
  private AgentHarness b;
  private KubernetesClient controllerClient;
  private SetController controller;

  @BeforeEach
  void start() throws Exception {
    api = new MockApiServer();
    onA = new FileCapturer(Files.createDirectories(tmp.resolve("node-a")));
    onB = new FileCapturer(Files.createDirectories(tmp.resolve("node-b")));
    a = new AgentHarness(api, onA, Map.of());
    SetFixtures.registerCrd(a.user);
    a.start();
    b = new AgentHarness(api, onB, Map.of("NODE_NAME", "node-b", "POD_NAME", "agent-b")).start();
    controllerClient = api.client(CONTROLLER_AGENT);
    controller =
        SetController.start(controllerClient, new SetConfig(20, "controller-0"), Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.close();
    }
    controllerClient.close();
    a.close();
    b.close();
    onA.close();
    onB.close();
    api.close();
  }

  private Pod pod(String name, String app, String node, String ip) {
    Pod pod = Pods.running(NS, name, node, null, ip);
    pod.getMetadata().setLabels(Map.of("app", app));
    return a.create(pod);
  }

  private PodCaptureSet set(String name) {
    return SetFixtures.get(a.user, NS, name);
  }

  private PodCaptureSetStatus awaitStatus(
      String name, java.util.function.Predicate<PodCaptureSetStatus> p) {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              PodCaptureSet s = set(name);
              return s != null && s.getStatus() != null && p.test(s.getStatus());
            });
    return set(name).getStatus();
  }

  @Test
  void aSetOverThreePodsOnTwoNodesCapturesAllThree() {
    pod("web-1", "web", "node-a", "10.1.0.1");
    pod("web-2", "web", "node-b", "10.2.0.2");
    pod("web-3", "web", "node-a", "10.1.0.3");
    pod("db-1", "db", "node-b", "10.2.0.9");

    PodCaptureSet created =
        SetFixtures.create(a.user, SetFixtures.set(NS, "web", "web", null, 300));

    await()
        .atMost(WAIT)
        .until(() -> inPhase(children(a.user, NS, "web"), Names.PHASE_RUNNING) == 3);
    PodCaptureSetStatus status =
        awaitStatus("web", s -> s.getChildren() != null && s.getChildren().getRunning() == 3);
    assertEquals(Names.PHASE_RUNNING, status.getPhase());
    assertEquals(3, status.getMatchedPods());
    assertEquals(3, status.getCapturedPods());
    assertEquals(new SetChildren(0, 3, 0, 0), status.getChildren());
    assertEquals(List.of("node-a", "node-b"), status.getNodes());
    assertEquals(2, status.getNodeCount());
    assertEquals(3 * "fake pcap".length(), status.getBytes().intValue());
    assertEquals(0, status.getPodsOverMaxPods());
    assertEquals("True", status.getConditions().get(0).getStatus());
    assertEquals(List.of(Names.FINALIZER), set("web").getMetadata().getFinalizers());

    for (PodCapture child : children(a.user, NS, "web")) {
      String pod = child.getSpec().getPodName();
      String node = "web-2".equals(pod) ? "node-b" : "node-a";
      assertEquals("web-" + pod, child.getMetadata().getName());
      assertEquals(node, child.getStatus().getNode(), pod);
      assertEquals(
          Map.of(
              Names.LABEL_SET,
              "web",
              Names.LABEL_NODE,
              node,
              Names.LABEL_MANAGED_BY,
              Names.CONTROLLER_COMPONENT),
          child.getMetadata().getLabels());
      OwnerReference owner = child.getMetadata().getOwnerReferences().get(0);
      assertEquals("PodCaptureSet", owner.getKind());
      assertEquals(created.getMetadata().getUid(), owner.getUid());
      assertEquals(Boolean.TRUE, owner.getController());
      assertTrue(child.getSpec().getDurationSeconds() <= 300, "the set's window");
      FileCapturer on = "node-a".equals(node) ? onA : onB;
      assertTrue(Files.exists(on.file(new CaptureKey(NS, child.getMetadata().getName()))));
    }
    assertEquals(2, onA.running().size());
    assertEquals(1, onB.running().size());
    await().atMost(WAIT).until(() -> a.hasEvent(NS, "web", SetDecision.EVENT_STARTED));
    await().atMost(WAIT).until(() -> a.hasEvent(NS, "web", SetDecision.EVENT_CHILD_CREATED));
  }

  @Test
  void aPodCreatedLaterGetsAChildThatEndsWithTheSetsWindow() {
    pod("web-1", "web", "node-a", "10.1.0.1");
    SetFixtures.create(a.user, SetFixtures.set(NS, "web", "web", null, 8));
    await()
        .atMost(WAIT)
        .until(() -> inPhase(children(a.user, NS, "web"), Names.PHASE_RUNNING) == 1);
    Instant windowEnd = Instant.parse(set("web").getStatus().getWindowEnd());
    await().pollDelay(Duration.ofSeconds(2)).until(() -> true);

    Instant before = Instant.now();
    pod("web-late", "web", "node-b", "10.2.0.7");
    await().atMost(WAIT).until(() -> "Running".equals(a.phase(NS, "web-web-late")));
    Instant after = Instant.now();
    PodCapture late = a.cr(NS, "web-web-late");
    int duration = late.getSpec().getDurationSeconds();
    long leftAfter = Duration.between(after, windowEnd).toSeconds();
    long leftBefore = Duration.between(before, windowEnd).toSeconds() + 1;
    assertTrue(
        duration >= leftAfter && duration <= leftBefore,
        duration + " s is what was left of the window (" + leftAfter + ".." + leftBefore + ")");
    assertTrue(duration < 8, "less than the whole window");
    assertTrue(onB.running().contains(new CaptureKey(NS, "web-web-late")));

    // Both children end with the window, and the set is Completed then.
    PodCaptureSetStatus done = awaitStatus("web", s -> Names.PHASE_COMPLETED.equals(s.getPhase()));
    await()
        .atMost(WAIT)
        .until(() -> inPhase(children(a.user, NS, "web"), Names.PHASE_COMPLETED) == 2);
    for (PodCapture child : children(a.user, NS, "web")) {
      Instant completed = Instant.parse(child.getStatus().getCompletionTime());
      long off = Math.abs(Duration.between(windowEnd, completed).toMillis());
      assertTrue(off <= 2_000, child.getMetadata().getName() + " completed " + off + " ms off");
    }
    assertEquals(2, done.getCapturedPods());
    assertEquals(SetDecision.REASON_WINDOW_CLOSED, done.getConditions().get(0).getReason());
    await().atMost(WAIT).until(() -> a.hasEvent(NS, "web", SetDecision.EVENT_COMPLETED));
    // No Pod watch is left once the window closed.
    await().atMost(WAIT).until(() -> controller.podWatches() == 0);

    // A Pod matching after the window gets no child.
    pod("web-too-late", "web", "node-a", "10.1.0.8");
    await().pollDelay(Duration.ofSeconds(1)).until(() -> true);
    assertNull(a.cr(NS, "web-web-too-late"));
  }

  @Test
  void aPodWithoutAnIpYetGetsItsChildAndTheChildRunsOnceThePodHasOne() {
    Pod noIp = Pods.running(NS, "web-new", "node-b", null, new String[0]);
    noIp.getMetadata().setLabels(Map.of("app", "web"));
    noIp.getStatus().setPhase("Pending");
    a.create(noIp);
    SetFixtures.create(a.user, SetFixtures.set(NS, "web", "web", null, null));
    await().atMost(WAIT).until(() -> "Pending".equals(a.phase(NS, "web-web-new")));

    Pod withIp = a.getPod(NS, "web-new");
    withIp.getStatus().setPhase("Running");
    withIp.getStatus().setPodIP("10.2.0.9");
    withIp.getStatus().setPodIPs(List.of(new io.fabric8.kubernetes.api.model.PodIP("10.2.0.9")));
    a.user.pods().inNamespace(NS).resource(withIp).updateStatus();
    await().atMost(WAIT).until(() -> "Running".equals(a.phase(NS, "web-web-new")));
    assertEquals(List.of("10.2.0.9"), a.cr(NS, "web-web-new").getStatus().getPodIPs());
  }

  @Test
  void maxPodsHolds() {
    for (int i = 1; i <= 5; i++) {
      pod("web-" + i, "web", i % 2 == 0 ? "node-b" : "node-a", "10.1.0." + i);
    }
    SetFixtures.create(a.user, SetFixtures.set(NS, "web", "web", 2, null));

    PodCaptureSetStatus status =
        awaitStatus("web", s -> s.getChildren() != null && s.getChildren().getRunning() == 2);
    assertEquals(5, status.getMatchedPods());
    assertEquals(2, status.getCapturedPods());
    assertEquals(3, status.getPodsOverMaxPods());
    assertTrue(
        status.getMessage().contains("maxPods reached: 3 Pods left out"), status.getMessage());
    await().atMost(WAIT).until(() -> a.hasEvent(NS, "web", SetDecision.EVENT_MAX_PODS_REACHED));

    // A sixth Pod changes nothing but the counts.
    pod("web-6", "web", "node-a", "10.1.0.6");
    awaitStatus("web", s -> s.getMatchedPods() == 6 && s.getPodsOverMaxPods() == 4);
    assertEquals(2, children(a.user, NS, "web").size());
    assertEquals(2, onA.running().size() + onB.running().size());
  }

  @Test
  void deletingTheSetDeletesEveryChildWithItsFilesAndThenTheSet() {
    pod("web-1", "web", "node-a", "10.1.0.1");
    pod("web-2", "web", "node-b", "10.2.0.2");
    pod("web-3", "web", "node-a", "10.1.0.3");
    SetFixtures.create(a.user, SetFixtures.set(NS, "web", "web", null, null));
    await()
        .atMost(WAIT)
        .until(() -> inPhase(children(a.user, NS, "web"), Names.PHASE_RUNNING) == 3);
    assertEquals(2, onA.filesOnDisk());
    assertEquals(1, onB.filesOnDisk());

    a.user.resources(PodCaptureSet.class).inNamespace(NS).withName("web").delete();

    await().atMost(WAIT).until(() -> set("web") == null);
    assertEquals(List.of(), children(a.user, NS, "web"));
    assertEquals(0, onA.filesOnDisk(), "no file left on node-a");
    assertEquals(0, onB.filesOnDisk(), "no file left on node-b");
    assertEquals(0, onA.running().size() + onB.running().size(), "no tcpdump left");
    assertEquals(0, controller.podWatches());
    // Deleted explicitly, by the set controller: the mock has no garbage collector.
    List<Request> deletes =
        api.dispatcher().requests().stream()
            .filter(r -> "DELETE".equals(r.method()) && r.path().contains("/podcaptures/"))
            .toList();
    // A pass that ran before the cache saw a deletion may delete a child twice: harmless.
    assertEquals(3, deletes.stream().map(Request::path).distinct().count(), deletes.toString());
    assertTrue(deletes.stream().allMatch(r -> CONTROLLER_AGENT.equals(r.userAgent())));
  }

  @Test
  void badSpecsAreRefusedInTheStatusAndAnEventWithNoChildAndMaxPodsOverTheCapIsLowered() {
    pod("web-1", "web", "node-a", "10.1.0.1");
    PodCaptureSet longName = SetFixtures.set(NS, "s".repeat(64), "web", null, null);
    PodCaptureSet badSelector = SetFixtures.set(NS, "bad-selector", "web", null, null);
    badSelector
        .getSpec()
        .setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "a b")).build());
    SetFixtures.create(a.user, longName);
    SetFixtures.create(a.user, badSelector);

    Map<String, String> says =
        Map.of(
            "s".repeat(64),
            "characters long; its children carry it in the label",
            "bad-selector",
            "label value \"a b\" is invalid");
    says.forEach(
        (name, message) -> {
          PodCaptureSetStatus status =
              awaitStatus(name, s -> Names.PHASE_FAILED.equals(s.getPhase()));
          assertTrue(status.getMessage().contains(message), status.getMessage());
          assertEquals(Names.REASON_INVALID_SPEC, status.getConditions().get(0).getReason());
          await().atMost(WAIT).until(() -> a.hasEvent(NS, name, Names.REASON_INVALID_SPEC));
        });
    assertEquals(List.of(), a.crs());
    assertEquals(0, controller.podWatches(), "a refused set watches no Pod");

    // Fixed, the set starts.
    PodCaptureSet fixed = set("bad-selector");
    fixed
        .getSpec()
        .setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "web")).build());
    a.user.resources(PodCaptureSet.class).inNamespace(NS).resource(fixed).update();
    await().atMost(WAIT).until(() -> "Running".equals(a.phase(NS, "bad-selector-web-1")));
    awaitStatus("bad-selector", s -> Names.PHASE_RUNNING.equals(s.getPhase()));

    // maxPods above the admin's cap (20 here) is not refused: the cap applies, and says so.
    SetFixtures.create(a.user, SetFixtures.set(NS, "too-many", "web", 50, null));
    await().atMost(WAIT).until(() -> "Running".equals(a.phase(NS, "too-many-web-1")));
    PodCaptureSetStatus lowered =
        awaitStatus("too-many", s -> Names.PHASE_RUNNING.equals(s.getPhase()));
    assertTrue(lowered.getMessage().contains("(maxPods 20, lowered from 50"), lowered.getMessage());
  }

  @Test
  void podsAreWatchedMetadataOnlyThroughTheSetsSelectorsAndTheStoreDropsSpecAndStatus()
      throws Exception {
    pod("web-1", "web", "node-a", "10.1.0.1");
    pod("db-1", "db", "node-b", "10.2.0.1");
    SetFixtures.create(a.user, SetFixtures.set(NS, "web", "web", null, null));
    SetFixtures.create(a.user, SetFixtures.set(NS, "web-again", "web", null, null));
    await().atMost(WAIT).until(() -> "Running".equals(a.phase(NS, "web-again-web-1")));
    assertEquals(1, controller.podWatches(), "two sets with one selector share one watch");
    assertEquals(1, controller.watchedPods());

    // The mock sends whole Pods whatever the Accept header says: the store keeps metadata only.
    List<GenericKubernetesResource> stored = controller.storedPods();
    assertEquals(1, stored.size());
    GenericKubernetesResource pod = stored.get(0);
    assertEquals("web-1", pod.getMetadata().getName());
    assertEquals(Map.of("app", "web"), pod.getMetadata().getLabels());
    assertNotNull(pod.getMetadata().getUid());
    assertNull(pod.getAdditionalProperties().get("spec"));
    assertNull(pod.getAdditionalProperties().get("status"));

    List<String> podRequests =
        api.dispatcher().requests().stream()
            .filter(r -> CONTROLLER_AGENT.equals(r.userAgent()))
            .map(Request::path)
            .filter(p -> p.matches("/api/v1/(namespaces/[^/]+/)?pods(\\?.*)?"))
            .toList();
    assertTrue(podRequests.size() >= 2, "a list and a watch: " + podRequests);
    assertTrue(
        podRequests.stream()
            .allMatch(
                p ->
                    p.startsWith("/api/v1/namespaces/default/pods?")
                        && p.contains("labelSelector=app%3Dweb")),
        podRequests.toString());

    // The watch stops with the last set that uses it.
    a.user.resources(PodCaptureSet.class).inNamespace(NS).withName("web").delete();
    a.user.resources(PodCaptureSet.class).inNamespace(NS).withName("web-again").delete();
    await().atMost(WAIT).until(() -> controller.podWatches() == 0);
  }
}
