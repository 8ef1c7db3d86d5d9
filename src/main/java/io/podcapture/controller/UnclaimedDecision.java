package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import java.time.Duration;
import java.time.Instant;

/**
 * What the elected agent does for a PodCapture no node agent holds yet, decided without side
 * effects from the PodCapture, its Pod as the API server has it, and the clock: the status to
 * write, the node to label it with (handing it to that node's agent), and when to look again.
 */
final class UnclaimedDecision {
  /** How often a PodCapture whose Pod is missing or unscheduled is looked at again. */
  static final Duration RECHECK = Duration.ofSeconds(3);

  /** The status to write (null: none), the node label to set (null: none), when to look again. */
  record Plan(PodCaptureStatus status, String label, Duration requeueAfter) {}

  private UnclaimedDecision() {}

  /** Whether the Pod must be read to decide: the PodCapture names one and has no node yet. */
  static boolean needsPod(PodCapture cr) {
    return cr.getSpec() != null
        && cr.getSpec().getPodName() != null
        && PodCaptures.label(cr, Names.LABEL_NODE) == null;
  }

  static Plan decide(PodCapture cr, Pod pod, Instant now) {
    if (cr.getSpec() == null || cr.getSpec().getPodName() == null) {
      String reason = Names.REASON_INVALID_SPEC;
      return new Plan(
          status(cr, Names.PHASE_FAILED, null, reason, CaptureDecision.MISSING_POD_NAME, now),
          null,
          null);
    }
    if (PodCaptures.label(cr, Names.LABEL_NODE) != null) {
      return new Plan(null, null, null); // labelled a moment ago; the cache has not caught up yet
    }
    String podName = cr.getSpec().getPodName();
    if (pod == null) {
      String message =
          "Pod "
              + podName
              + " not found in namespace "
              + cr.getMetadata().getNamespace()
              + "; the capture starts when it appears";
      return pending(cr, null, Names.REASON_POD_NOT_FOUND, message, null, now);
    }
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    if (node == null || node.isEmpty()) {
      String message =
          "Pod " + podName + " is not scheduled to a node yet; the capture starts when it runs";
      return pending(cr, null, Names.REASON_POD_NOT_SCHEDULED, message, null, now);
    }
    // The status first: once labelled, the PodCapture leaves this agent's view. If no agent runs
    // on that node (the DaemonSet does not cover it), this message is the last word.
    String message =
        "waiting for the podcapture agent on node "
            + node
            + " to start the capture; if it stays Pending, no agent runs on node "
            + node
            + " (the DaemonSet does not cover it)";
    return pending(cr, node, Names.REASON_WAITING_FOR_AGENT, message, node, now);
  }

  private static Plan pending(
      PodCapture cr, String node, String reason, String message, String label, Instant now) {
    PodCaptureStatus status = status(cr, Names.PHASE_PENDING, node, reason, message, now);
    return new Plan(status, label, label == null ? RECHECK : null);
  }

  private static PodCaptureStatus status(
      PodCapture cr, String phase, String node, String reason, String message, Instant now) {
    return DesiredStatus.unclaimed(cr, phase, node, reason, message, now);
  }
}
