package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import io.podcapture.controller.MirrorDecision.Plan;
import io.podcapture.controller.MirrorDecision.Step;
import io.podcapture.testing.PodCaptureBuilder;
import io.podcapture.testing.Pods;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The annotation mirror's decisions, called directly: Pod and PodCapture in, the step out. */
class MirrorDecisionTest {
  private static final CaptureKey WEB = new CaptureKey("default", "web");
  private static final MirrorDecision DECIDE = new MirrorDecision("node-a", 64);

  private static Pod web(String annotation) {
    return Pods.running("default", "web", "node-a", annotation, "10.1.0.5");
  }

  /** The annotation's PodCapture as the mirror created it for {@link #web}. */
  private static PodCapture ours(int maxFiles) {
    Plan created = DECIDE.decide(WEB, web(String.valueOf(maxFiles)), null, false, false);
    PodCapture cr = created.desired();
    cr.getMetadata().setUid("web-cr-uid");
    return cr;
  }

  @Test
  void anAnnotatedPodWithoutAPodCaptureGetsOneNamedAfterItWithTheAnnotationsFileCount() {
    Plan plan = DECIDE.decide(WEB, web("5"), null, false, false);

    assertEquals(Step.CREATE, plan.step());
    PodCapture cr = plan.desired();
    assertEquals("web", cr.getMetadata().getName());
    assertEquals("web", cr.getSpec().getPodName());
    assertEquals(5, cr.getSpec().getMaxFiles());
    assertEquals(CaptureDecision.DEFAULT_FILE_SIZE_MB, cr.getSpec().getFileSizeMB());
    assertEquals("node-a", cr.getMetadata().getLabels().get(Names.LABEL_NODE));
    assertEquals(Names.MANAGED_BY, cr.getMetadata().getLabels().get(Names.LABEL_MANAGED_BY));
    assertEquals(List.of(Names.FINALIZER), cr.getMetadata().getFinalizers());
    assertEquals("default-web-uid", cr.getMetadata().getOwnerReferences().get(0).getUid());
  }

  @Test
  void thePodCaptureTheMirrorMadeIsLeftAloneWhileTheAnnotationStays() {
    assertEquals(Step.NOTHING, DECIDE.decide(WEB, web("5"), ours(5), false, false).step());
  }

  @Test
  void aChangedAnnotationUpdatesTheFileCount() {
    Plan plan = DECIDE.decide(WEB, web("7"), ours(5), false, false);

    assertEquals(Step.UPDATE, plan.step());
    assertEquals(7, plan.desired().getSpec().getMaxFiles());
  }

  @Test
  void aPodCaptureOfThatNameForThisPodIsAdopted() {
    PodCapture direct = PodCaptureBuilder.direct("web", "web").build();

    Plan plan = DECIDE.decide(WEB, web("3"), direct, false, false);

    assertEquals(Step.UPDATE, plan.step());
    assertEquals(
        Names.MANAGED_BY, plan.desired().getMetadata().getLabels().get(Names.LABEL_MANAGED_BY));
    assertEquals(3, plan.desired().getSpec().getMaxFiles());
    assertFalse(PodCaptures.managedByAnnotation(direct), "the cached object is not modified");
  }

  @Test
  void aPodCaptureOfThatNameForAnotherPodRefusesTheAnnotationWithOneWarning() {
    PodCapture other = PodCaptureBuilder.direct("web", "db").build();

    Plan first = DECIDE.decide(WEB, web("3"), other, false, false);
    Plan again = DECIDE.decide(WEB, web("3"), other, true, false);

    assertEquals(Step.REFUSE, first.step());
    assertTrue(first.refused());
    assertTrue(first.warning().contains("already exists and captures Pod db"), first.warning());
    assertEquals(Step.REFUSE, again.step());
    assertNull(again.warning(), "the refusal is told once");
  }

  @Test
  void removingTheAnnotationDeletesOnlyTheMirrorsOwnPodCaptureAndForgetsTheRefusal() {
    Plan plan = DECIDE.decide(WEB, web(null), ours(5), true, false);

    assertEquals(Step.DELETE, plan.step());
    assertFalse(plan.refused());
    PodCapture direct = PodCaptureBuilder.direct("web", "web").node("node-a").build();
    assertEquals(Step.NOTHING, DECIDE.decide(WEB, web(null), direct, false, false).step());
  }

  @Test
  void aPodCaptureAlreadyDeletedByTheAgentOrOfAnotherNodeIsNotDeletedAgain() {
    assertEquals(Step.NOTHING, DECIDE.decide(WEB, null, ours(5), false, true).step());
    PodCapture elsewhere = ours(5);
    elsewhere.getMetadata().getLabels().put(Names.LABEL_NODE, "node-b");
    assertEquals(Step.NOTHING, DECIDE.decide(WEB, null, elsewhere, false, false).step());
  }

  @Test
  void aTerminatingPodsPodCaptureIsDeleted() {
    Pod ending = web("5");
    ending.getStatus().setPhase("Succeeded");

    assertEquals(Step.DELETE, DECIDE.decide(WEB, ending, ours(5), false, false).step());
  }

  @Test
  void aPodCaptureBeingDeletedIsLeftToFinish() {
    PodCapture going = ours(5);
    going.getMetadata().setDeletionTimestamp("2026-01-01T10:00:00Z");

    Plan plan = DECIDE.decide(WEB, web("5"), going, true, false);

    assertEquals(Step.NOTHING, plan.step());
    assertTrue(plan.refused(), "the refusal memory is kept until the Pod is decided again");
  }
}
