package io.podcapture.clusterwide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.clusterwide.PlacementDecision.Note;
import io.podcapture.clusterwide.PlacementDecision.Plan;
import io.podcapture.controller.Names;
import io.podcapture.testing.PodCaptureBuilder;
import io.podcapture.testing.Pods;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The placement decision called directly: PodCapture, Pod, agents and clock in, plan out. */
class PlacementDecisionTest {
  private static final Instant NOW = Instant.parse("2026-12-05T07:00:00Z");

  /** Agents serve node-a and node-b; node-c has none. */
  private static final Predicate<String> AGENTS = Set.of("node-a", "node-b")::contains;

  private static PodCaptureBuilder capture() {
    return PodCaptureBuilder.direct("cap", "web").stored("uid-1", 1, "10");
  }

  private static Pod webOn(String node) {
    return Pods.running("default", "web", node, null, new String[0]);
  }

  private static Plan decide(PodCapture cr, Pod pod) {
    return PlacementDecision.decide(cr, pod, AGENTS, NOW);
  }

  private static String reason(PodCaptureStatus status) {
    return status.getConditions().get(0).getReason();
  }

  @Test
  void anUnlabelledCaptureIsLabelledWithItsPodsNodeAndLeftToThatAgent() {
    PodCapture cr = capture().build();
    assertTrue(PlacementDecision.needsPod(cr, AGENTS));
    Plan plan = decide(cr, webOn("node-a"));
    assertEquals("node-a", plan.label());
    assertNull(plan.status(), "the agent of node-a writes the status");
    assertEquals(List.of(), plan.notes());
    assertNull(plan.requeueAfter());
  }

  @Test
  void aLabelNamingAnotherNodeIsCorrectedWithANormalEvent() {
    PodCapture cr = capture().node("node-b").build();
    assertTrue(PlacementDecision.needsPod(cr, AGENTS), "nobody has answered for it yet");
    Plan plan = decide(cr, webOn("node-a"));
    assertEquals("node-a", plan.label());
    assertNull(plan.status());
    assertEquals(
        List.of(
            new Note(
                false,
                "NodeLabelCorrected",
                "node label tcpdump.antrea.io/node corrected from node-b to node-a: Pod web runs"
                    + " on node node-a")),
        plan.notes());
  }

  @Test
  void aLabelHandedBackByTheWrongNodesAgentIsStillReportedAsCorrected() {
    // The agent of node-b removed the label (the Pod is not there) before the controller looked.
    Plan plan = PlacementDecision.decide(capture().build(), webOn("node-a"), AGENTS, "node-b", NOW);
    assertEquals("node-a", plan.label());
    assertEquals(
        "node label tcpdump.antrea.io/node corrected from node-b to node-a: Pod web runs on node"
            + " node-a",
        plan.notes().get(0).message());
    assertEquals(
        List.of(),
        PlacementDecision.decide(capture().build(), webOn("node-a"), AGENTS, "node-a", NOW)
            .notes());
  }

  @Test
  void aLabelNamingANodeWithoutAgentIsCorrectedToThePodsNode() {
    Plan plan = decide(capture().node("node-c").build(), webOn("node-b"));
    assertEquals("node-b", plan.label());
    assertNull(plan.status());
    assertEquals("NodeLabelCorrected", plan.notes().get(0).reason());
  }

  @Test
  void aPodOnANodeWithoutAgentIsLabelledAndExplainedPending() {
    Plan plan = decide(capture().build(), webOn("node-c"));
    assertEquals("node-c", plan.label());
    assertEquals(Names.PHASE_PENDING, plan.status().getPhase());
    assertEquals("node-c", plan.status().getNode());
    assertEquals("NoAgentOnNode", reason(plan.status()));
    assertEquals(
        "no podcapture agent runs on node node-c, where Pod web runs: the agents' DaemonSet does"
            + " not cover that node (check its nodeSelector, tolerations and its Pod there); the"
            + " capture starts when an agent runs there",
        plan.status().getMessage());
    assertEquals(
        "2026-12-05T07:00:00Z", plan.status().getConditions().get(0).getLastTransitionTime());
    assertEquals(List.of("NoAgentOnNode"), plan.notes().stream().map(Note::reason).toList());
    assertTrue(plan.notes().get(0).warning());
    assertNull(plan.requeueAfter(), "looked at again when agent Pods change");
  }

  @Test
  void aCorrectLabelOnANodeWithoutAgentGetsTheExplanationOnlyOnce() {
    PodCapture labelled = capture().node("node-c").build();
    Plan first = decide(labelled, webOn("node-c"));
    assertNull(first.label());
    assertEquals("NoAgentOnNode", reason(first.status()));

    PodCapture explained = capture().node("node-c").status(first.status()).build();
    assertTrue(PlacementDecision.needsPod(explained, AGENTS), "no agent answers for node-c");
    Plan again = PlacementDecision.decide(explained, webOn("node-c"), AGENTS, NOW.plusSeconds(60));
    assertTrue(again.nothing(), "same explanation: no write, no Event: " + again);
  }

  @Test
  void onceAnAgentServesTheNodeTheControllerLeavesItToIt() {
    PodCapture explained =
        capture()
            .node("node-c")
            .status(decide(capture().node("node-c").build(), webOn("node-c")).status())
            .build();
    Predicate<String> nowServed = Set.of("node-a", "node-b", "node-c")::contains;
    assertFalse(PlacementDecision.needsPod(explained, nowServed));
    assertTrue(PlacementDecision.decide(explained, webOn("node-c"), nowServed, NOW).nothing());
  }

  @Test
  void aMissingPodIsExplainedPendingAndLookedAtAgain() {
    Plan plan = decide(capture().build(), null);
    assertNull(plan.label());
    assertEquals(Names.PHASE_PENDING, plan.status().getPhase());
    assertNull(plan.status().getNode());
    assertEquals(Names.REASON_POD_NOT_FOUND, reason(plan.status()));
    assertEquals(
        "Pod web not found in namespace default; the capture starts when it appears",
        plan.status().getMessage());
    assertEquals(Duration.ofSeconds(3), plan.requeueAfter());
    assertEquals(
        List.of(Names.REASON_POD_NOT_FOUND), plan.notes().stream().map(Note::reason).toList());

    // Looked at again, still missing: no write, no new Event, but looked at again.
    PodCapture explained = capture().status(plan.status()).build();
    Plan again = PlacementDecision.decide(explained, null, AGENTS, NOW.plusSeconds(3));
    assertNull(again.status());
    assertEquals(List.of(), again.notes());
    assertEquals(Duration.ofSeconds(3), again.requeueAfter());
  }

  @Test
  void anUnscheduledPodIsExplainedWithANormalEvent() {
    Pod pending = new PodBuilder(webOn("node-a")).editSpec().withNodeName(null).endSpec().build();
    Plan plan = decide(capture().build(), pending);
    assertNull(plan.label());
    assertEquals(Names.REASON_POD_NOT_SCHEDULED, reason(plan.status()));
    assertFalse(plan.notes().get(0).warning());
    assertEquals(Duration.ofSeconds(3), plan.requeueAfter());
  }

  @Test
  void aMissingPodOnALabelWithoutAgentIsExplainedToo() {
    Plan plan = decide(capture().node("node-c").build(), null);
    assertNull(plan.label());
    assertEquals(Names.REASON_POD_NOT_FOUND, reason(plan.status()));
  }

  @Test
  void aLabelWithAnAgentIsThatAgentsOnceItHasWrittenAStatus() {
    PodCaptureStatus running = new PodCaptureStatus();
    running.setPhase(Names.PHASE_RUNNING);
    running.setNode("node-b");
    PodCapture cr = capture().node("node-b").status(running).build();
    assertFalse(PlacementDecision.needsPod(cr, AGENTS), "no read of the Pod on agents' writes");
    // Even with the Pod now elsewhere (recreated under the same name): it ran on node-b.
    assertTrue(decide(cr, webOn("node-a")).nothing());
  }

  @Test
  void aLabelWithAnAgentAndNoStatusIsLeftToThatAgentWhenThePodIsMissing() {
    // The agent of node-b reads the Pod, finds it missing and hands the capture back (unlabels).
    assertTrue(decide(capture().node("node-b").build(), null).nothing());
  }

  @ParameterizedTest
  @ValueSource(strings = {"Completed", "Failed"})
  void aFinishedCaptureIsNeverMoved(String phase) {
    PodCaptureStatus done = new PodCaptureStatus();
    done.setPhase(phase);
    done.setNode("node-c");
    PodCapture cr = capture().node("node-c").status(done).build();
    assertFalse(PlacementDecision.needsPod(cr, AGENTS));
    assertTrue(decide(cr, webOn("node-a")).nothing());
  }

  @Test
  void aCaptureBeingDeletedIsLeftAlone() {
    PodCapture cr = capture().build();
    cr.getMetadata().setDeletionTimestamp("2026-12-05T06:59:00Z");
    assertFalse(PlacementDecision.needsPod(cr, AGENTS));
    assertTrue(decide(cr, webOn("node-a")).nothing());
  }

  @Test
  void aCaptureWithoutPodNameFailsUnlessAnAgentAnswersForIt() {
    PodCapture cr = capture().spec(s -> s.setPodName(null)).build();
    assertFalse(PlacementDecision.needsPod(cr, AGENTS));
    Plan plan = decide(cr, null);
    assertEquals(Names.PHASE_FAILED, plan.status().getPhase());
    assertEquals(Names.REASON_INVALID_SPEC, reason(plan.status()));
    assertTrue(plan.notes().get(0).warning());

    PodCapture onA = capture().node("node-a").spec(s -> s.setPodName(null)).build();
    assertTrue(decide(onA, null).nothing());
  }

  @Test
  void theReadyConditionKeepsItsTransitionTimeWhileItStaysFalse() {
    Plan missing = decide(capture().build(), null);
    PodCapture explained = capture().status(missing.status()).build();
    Plan noAgent =
        PlacementDecision.decide(explained, webOn("node-c"), AGENTS, NOW.plusSeconds(30));
    assertEquals("NoAgentOnNode", reason(noAgent.status()));
    assertEquals(
        "2026-12-05T07:00:00Z", noAgent.status().getConditions().get(0).getLastTransitionTime());
  }
}
