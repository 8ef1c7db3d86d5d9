package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.UnclaimedDecision.Plan;
import io.podcapture.testing.PodCaptureBuilder;
import io.podcapture.testing.Pods;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The elected agent's decisions for PodCaptures without a node, called directly. */
class UnclaimedDecisionTest {
  private static final Instant NOW = Instant.parse("2026-01-01T10:00:00Z");

  private static String reason(Plan plan) {
    return plan.status().getConditions().get(0).getReason();
  }

  @Test
  void aPodCaptureWithoutAPodNameIsFailedAsBuiltNotPendingFirst() {
    PodCapture cr = PodCaptureBuilder.direct("nameless", null).build();

    Plan plan = UnclaimedDecision.decide(cr, null, NOW);

    assertFalse(UnclaimedDecision.needsPod(cr), "no Pod is read for it");
    assertEquals(Names.PHASE_FAILED, plan.status().getPhase());
    assertEquals(Names.REASON_INVALID_SPEC, reason(plan));
    assertEquals(CaptureDecision.MISSING_POD_NAME, plan.status().getMessage());
    assertNull(plan.label());
    assertNull(plan.requeueAfter(), "bad input is not retried");
  }

  @Test
  void aMissingPodIsPendingWithThePodNamedAndLookedAtAgain() {
    Plan plan =
        UnclaimedDecision.decide(PodCaptureBuilder.direct("ghost", "nobody").build(), null, NOW);

    assertEquals(Names.PHASE_PENDING, plan.status().getPhase());
    assertEquals(Names.REASON_POD_NOT_FOUND, reason(plan));
    assertEquals(
        "Pod nobody not found in namespace default; the capture starts when it appears",
        plan.status().getMessage());
    assertEquals(UnclaimedDecision.RECHECK, plan.requeueAfter());
    assertNull(plan.label());
  }

  @Test
  void anUnscheduledPodIsPendingAndLookedAtAgain() {
    Pod unscheduled = Pods.running("default", "web", null, null, "10.1.0.5");

    Plan plan =
        UnclaimedDecision.decide(PodCaptureBuilder.direct("web", "web").build(), unscheduled, NOW);

    assertEquals(Names.REASON_POD_NOT_SCHEDULED, reason(plan));
    assertEquals(UnclaimedDecision.RECHECK, plan.requeueAfter());
    assertNull(plan.label());
  }

  @Test
  void aScheduledPodsPodCaptureIsHandedToItsNodeWithTheStatusSayingSo() {
    Pod pod = Pods.running("default", "web", "node-c", null, "10.3.0.5");

    Plan plan = UnclaimedDecision.decide(PodCaptureBuilder.direct("web", "web").build(), pod, NOW);

    assertEquals("node-c", plan.label());
    assertEquals(Names.PHASE_PENDING, plan.status().getPhase());
    assertEquals("node-c", plan.status().getNode());
    assertEquals(Names.REASON_WAITING_FOR_AGENT, reason(plan));
    assertTrue(
        plan.status().getMessage().contains("no agent runs on node node-c"),
        plan.status().getMessage());
    assertNull(plan.requeueAfter(), "once labelled it leaves this agent's view");
  }

  @Test
  void aPodCaptureLabelledAMomentAgoIsLeftAlone() {
    PodCapture labelled = PodCaptureBuilder.direct("web", "web").node("node-c").build();

    Plan plan = UnclaimedDecision.decide(labelled, null, NOW);

    assertFalse(UnclaimedDecision.needsPod(labelled));
    assertNull(plan.status());
    assertNull(plan.label());
    assertNull(plan.requeueAfter());
  }
}
