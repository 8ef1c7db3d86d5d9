package io.podcapture.sets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.api.v1alpha1.PodCaptureSetStatus;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.api.v1alpha1.SetChildren;
import io.podcapture.controller.Names;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The set controller's decisions, called directly with a fixed clock. */
class SetDecisionTest {
  private static final Instant T0 = Instant.parse("2026-12-05T07:00:00Z");
  private static final int CAP = 100;

  static PodCaptureSet set(String name, Integer maxPods, Integer durationSeconds) {
    PodCaptureSet set = new PodCaptureSet();
    set.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace("default")
            .withUid("uid-" + name)
            .withGeneration(1L)
            .build());
    PodCaptureSetSpec spec = new PodCaptureSetSpec();
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "web")).build());
    spec.setMaxPods(maxPods);
    spec.setDurationSeconds(durationSeconds);
    spec.setFilter("tcp port 80");
    spec.setMaxFiles(3);
    set.setSpec(spec);
    return set;
  }

  static MatchedPod pod(String name, int createdSecond) {
    return new MatchedPod(name, T0.minusSeconds(100).plusSeconds(createdSecond), false);
  }

  static PodCapture child(PodCaptureSet set, String pod, String node, String phase) {
    PodCapture child =
        Children.child(set, ChildNames.of(set.getMetadata().getName(), pod), pod, node, 60);
    if (phase != null) {
      PodCaptureStatus status = new PodCaptureStatus();
      status.setPhase(phase);
      status.setNode(node);
      status.setTotalBytes(1000L);
      child.setStatus(status);
    }
    return child;
  }

  private static SetInputs inputs(
      PodCaptureSet set, List<MatchedPod> pods, List<PodCapture> children, Instant now) {
    int before =
        set.getStatus() == null || set.getStatus().getCapturedPods() == null
            ? 0
            : set.getStatus().getCapturedPods();
    return new SetInputs(set, pods, children, before, CAP, now);
  }

  @Test
  void everyMatchingPodGetsAChildOldestFirstWithTheWholeWindow() {
    PodCaptureSet set = set("web", 10, 300);
    SetInputs in =
        inputs(set, List.of(pod("web-b", 2), pod("web-a", 1), pod("web-c", 3)), List.of(), T0);

    SetPlan plan = SetDecision.decide(in);

    assertNull(plan.invalid());
    assertEquals(List.of("web-a", "web-b", "web-c"), plan.podsToCapture());
    assertEquals(300, plan.window().childDuration(T0));
    assertEquals(Duration.ofSeconds(300).plusMillis(100), plan.lookAgain());
    assertEquals(0, plan.podsOverMaxPods());
  }

  @Test
  void aPodThatMatchesLaterGetsWhatIsLeftOfTheWindowRoundedUp() {
    PodCaptureSet set = set("web", 10, 300);
    PodCaptureSetStatus started = new PodCaptureSetStatus();
    started.setStartTime(T0.toString());
    started.setCapturedPods(1);
    set.setStatus(started);
    Instant later = T0.plusSeconds(120).plusMillis(300);

    SetPlan plan =
        SetDecision.decide(
            inputs(
                set,
                List.of(pod("web-a", 1), pod("web-new", 150)),
                List.of(child(set, "web-a", "node-a", "Running")),
                later));

    assertEquals(List.of("web-new"), plan.podsToCapture());
    assertEquals(180, plan.window().childDuration(later), "179.7 s left, rounded up");
    assertEquals(T0.plusSeconds(300), plan.window().end());
  }

  @Test
  void maxPodsCountsChildrenEverMadeAndTheRestAreOverMaxPods() {
    PodCaptureSet set = set("web", 2, null);
    List<MatchedPod> five =
        List.of(pod("p1", 1), pod("p2", 2), pod("p3", 3), pod("p4", 4), pod("p5", 5));

    SetPlan first = SetDecision.decide(inputs(set, five, List.of(), T0));
    assertEquals(List.of("p1", "p2"), first.podsToCapture());
    assertEquals(3, first.podsOverMaxPods());

    // p1's child was deleted (its TTL passed): it still counts, so p3 gets none.
    PodCaptureSetStatus written = new PodCaptureSetStatus();
    written.setStartTime(T0.toString());
    written.setCapturedPods(2);
    set.setStatus(written);
    SetPlan later =
        SetDecision.decide(
            inputs(set, five, List.of(child(set, "p2", "node-a", "Running")), T0.plusSeconds(5)));
    assertEquals(List.of(), later.podsToCapture());
    assertEquals(4, later.podsOverMaxPods());
  }

  @Test
  void aPodThatStopsMatchingKeepsItsChildAndStillCounts() {
    PodCaptureSet set = set("web", 10, null);
    SetInputs in =
        inputs(set, List.of(), List.of(child(set, "relabelled", "node-a", "Running")), T0);

    SetPlan plan = SetDecision.decide(in);
    PodCaptureSetStatus status = SetDecision.status(in, plan, List.of(), List.of());

    assertEquals(List.of(), plan.podsToCapture());
    assertEquals(0, status.getMatchedPods());
    assertEquals(1, status.getCapturedPods());
    assertEquals(new SetChildren(0, 1, 0, 0), status.getChildren());
  }

  @Test
  void terminatingPodsGetNoChild() {
    PodCaptureSet set = set("web", 10, null);
    SetPlan plan =
        SetDecision.decide(
            inputs(
                set, List.of(new MatchedPod("going", T0, true), pod("staying", 1)), List.of(), T0));
    assertEquals(List.of("staying"), plan.podsToCapture());
  }

  @Test
  void afterTheWindowNoChildIsMadeAndTheSetIsCompleted() {
    PodCaptureSet set = set("web", 10, 60);
    PodCaptureSetStatus running = new PodCaptureSetStatus();
    running.setStartTime(T0.toString());
    running.setPhase(Names.PHASE_RUNNING);
    running.setCapturedPods(1);
    set.setStatus(running);
    SetInputs in =
        inputs(
            set,
            List.of(pod("web-a", 1), pod("web-late", 2)),
            List.of(child(set, "web-a", "node-a", "Completed")),
            T0.plusSeconds(60));

    SetPlan plan = SetDecision.decide(in);
    PodCaptureSetStatus status = SetDecision.status(in, plan, List.of(), List.of());

    assertEquals(List.of(), plan.podsToCapture());
    assertNull(plan.lookAgain());
    assertEquals(Names.PHASE_COMPLETED, status.getPhase());
    assertEquals("2026-12-05T07:01:00Z", status.getWindowEnd());
    assertEquals("False", status.getConditions().get(0).getStatus());
    assertEquals(SetDecision.REASON_WINDOW_CLOSED, status.getConditions().get(0).getReason());
    assertEquals(
        List.of(new SetDecision.SetEvent(false, SetDecision.EVENT_COMPLETED, status.getMessage())),
        SetDecision.events(running, status));
  }

  @Test
  void theStatusCountsChildrenByPhaseNodesBytesAndFullNodes() {
    PodCaptureSet set = set("web", 10, 300);
    PodCapture waiting = child(set, "p4", "node-b", "Pending");
    waiting
        .getStatus()
        .setConditions(
            List.of(
                new ConditionBuilder()
                    .withType("Ready")
                    .withStatus("False")
                    .withReason(Names.REASON_WAITING_FOR_SLOT)
                    .build()));
    List<PodCapture> children =
        new ArrayList<>(
            List.of(
                child(set, "p1", "node-a", "Running"),
                child(set, "p2", "node-b", "Running"),
                child(set, "p3", "node-a", "Completed"),
                waiting));
    List<MatchedPod> pods =
        List.of(pod("p1", 1), pod("p2", 2), pod("p3", 3), pod("p4", 4), pod("p5", 5));
    SetInputs in = new SetInputs(set, pods, children, 4, CAP, T0);
    SetPlan plan = SetDecision.decide(in);
    assertEquals(List.of("p5"), plan.podsToCapture());
    PodCapture made = child(set, "p5", "node-c", null);

    PodCaptureSetStatus status = SetDecision.status(in, plan, List.of(made), List.of());

    assertEquals(Names.PHASE_RUNNING, status.getPhase());
    assertEquals(new SetChildren(2, 2, 1, 0), status.getChildren());
    assertEquals(5, status.getMatchedPods());
    assertEquals(5, status.getCapturedPods());
    assertEquals(0, status.getPodsOverMaxPods());
    assertEquals(1, status.getPodsOnFullNodes());
    assertEquals(List.of("node-a", "node-b", "node-c"), status.getNodes());
    assertEquals(3, status.getNodeCount());
    assertEquals(4000L, status.getBytes());
    assertEquals(1L, status.getObservedGeneration());
    assertEquals(T0.toString(), status.getStartTime());
    assertEquals("True", status.getConditions().get(0).getStatus());
    assertEquals(
        "5 of 5 matching Pods captured on 3 nodes (maxPods 10); the window closes at"
            + " 2026-12-05T07:05:00Z",
        status.getMessage());
  }

  @Test
  void theFirstPassStartsTheSetAndReportsMaxPodsReachedOnce() {
    PodCaptureSet set = set("web", 1, 60);
    SetInputs in = inputs(set, List.of(pod("a", 1), pod("b", 2)), List.of(), T0);
    SetPlan plan = SetDecision.decide(in);
    PodCaptureSetStatus first =
        SetDecision.status(in, plan, List.of(child(set, "a", "node-a", null)), List.of());

    List<SetDecision.SetEvent> events = SetDecision.events(null, first);
    assertEquals(
        List.of(SetDecision.EVENT_STARTED, SetDecision.EVENT_MAX_PODS_REACHED),
        events.stream().map(SetDecision.SetEvent::reason).toList());
    assertTrue(first.getMessage().contains("maxPods reached: 1 Pod left out"), first.getMessage());
    assertEquals(List.of(), SetDecision.events(first, first), "nothing new, nothing said");
  }

  @Test
  void theReadyConditionKeepsItsTransitionTimeWhileItHolds() {
    PodCaptureSet set = set("web", 10, null);
    SetInputs in = inputs(set, List.of(pod("a", 1)), List.of(), T0);
    PodCaptureSetStatus first =
        SetDecision.status(in, SetDecision.decide(in), List.of(), List.of());
    set.setStatus(first);
    SetInputs later = inputs(set, List.of(pod("a", 1)), List.of(), T0.plusSeconds(30));
    PodCaptureSetStatus second =
        SetDecision.status(later, SetDecision.decide(later), List.of(), List.of());
    assertEquals(
        first.getConditions().get(0).getLastTransitionTime(),
        second.getConditions().get(0).getLastTransitionTime());
    assertEquals("runs until deleted", second.getMessage().replaceAll(".*; ", ""));
  }

  @Test
  void anUnscheduledPodIsNamedInTheMessage() {
    PodCaptureSet set = set("web", 10, null);
    SetInputs in = inputs(set, List.of(pod("a", 1)), List.of(), T0);
    SetPlan plan = SetDecision.decide(in);
    PodCaptureSetStatus status = SetDecision.status(in, plan, List.of(), List.of("a"));
    assertTrue(status.getMessage().contains("waiting for a to be scheduled"), status.getMessage());
    assertEquals(0, status.getCapturedPods());
  }

  @Test
  void aNameTooLongForALabelValueIsRefused() {
    PodCaptureSet set = set("s".repeat(64), 10, null);
    assertRefused(set, "64 characters long");
  }

  @Test
  void maxPodsAboveTheCapIsLoweredToTheCapAndTheStatusSaysSo() {
    PodCaptureSet set = set("web", CAP + 5, null);
    List<MatchedPod> pods = new ArrayList<>();
    for (int i = 0; i < CAP + 3; i++) {
      pods.add(pod("p" + i, i));
    }
    SetInputs in = inputs(set, pods, List.of(), T0);
    SetPlan plan = SetDecision.decide(in);
    assertFalse(plan.isInvalid());
    assertEquals(CAP, plan.maxPods());
    assertEquals(CAP, plan.podsToCapture().size());
    assertEquals(3, plan.podsOverMaxPods());
    PodCaptureSetStatus status = SetDecision.status(in, plan, List.of(), List.of());
    assertTrue(
        status.getMessage().contains("(maxPods " + CAP + ", lowered from " + (CAP + 5)),
        status.getMessage());
  }

  @Test
  void aSelectorThatDoesNotParseIsRefused() {
    PodCaptureSet set = set("web", 10, null);
    set.getSpec()
        .setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "a b")).build());
    assertRefused(set, "label value \"a b\" is invalid");
  }

  private static void assertRefused(PodCaptureSet set, String says) {
    SetInputs in = inputs(set, List.of(pod("a", 1)), List.of(), T0);
    SetPlan plan = SetDecision.decide(in);
    assertTrue(plan.isInvalid());
    assertTrue(plan.invalid().contains(says), plan.invalid());
    assertEquals(List.of(), plan.podsToCapture());
    PodCaptureSetStatus status = SetDecision.status(in, plan, List.of(), List.of());
    assertEquals(Names.PHASE_FAILED, status.getPhase());
    assertEquals(plan.invalid(), status.getMessage());
    assertEquals(Names.REASON_INVALID_SPEC, status.getConditions().get(0).getReason());
    assertNull(status.getStartTime(), "a refused set never started its window");
    List<SetDecision.SetEvent> events = SetDecision.events(null, status);
    assertEquals(
        List.of(new SetDecision.SetEvent(true, Names.REASON_INVALID_SPEC, plan.invalid())), events);
    assertFalse(SetDecision.events(status, status).iterator().hasNext(), "said once");
  }
}
