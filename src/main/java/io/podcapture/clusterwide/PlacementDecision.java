package io.podcapture.clusterwide;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.controller.Names;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Where a PodCapture runs, decided without side effects from the PodCapture, its Pod as the API
 * server has it, which nodes an agent serves, and the clock: the node label to set (handing it to
 * that node's agent), the status to write, the Events to record, and when to look again.
 *
 * <p>It never fights an agent: a status is written only while no agent serves the node the
 * PodCapture is (or is about to be) labelled with, and a PodCapture whose label names a node with
 * an agent is that agent's, unless nobody has written its status yet (a label a user set, perhaps
 * copied from another PodCapture) and the Pod is elsewhere.
 */
final class PlacementDecision {
  /** How often a PodCapture whose Pod is missing or unscheduled is looked at again. */
  static final Duration RECHECK = Duration.ofSeconds(3);

  static final String REASON_NODE_LABEL_CORRECTED = "NodeLabelCorrected";
  static final String REASON_NO_AGENT_ON_NODE = "NoAgentOnNode";

  /** An Event to record on the PodCapture. */
  record Note(boolean warning, String reason, String message) {}

  /**
   * The node label to set (null: leave it), the status to write (null: none), the Events, and when
   * to look again (null: when something changes).
   */
  record Plan(String label, PodCaptureStatus status, List<Note> notes, Duration requeueAfter) {
    static final Plan NOTHING = new Plan(null, null, List.of(), null);

    boolean nothing() {
      return label == null && status == null && notes.isEmpty() && requeueAfter == null;
    }
  }

  private PlacementDecision() {}

  /**
   * Whether the Pod must be read to decide. A PodCapture that ended, is being deleted, or belongs
   * to a node agent that has already answered for it needs nothing; that keeps the controller from
   * reading a Pod on every status write an agent makes.
   */
  static boolean needsPod(PodCapture cr, Predicate<String> served) {
    if (finished(cr) || cr.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    if (cr.getSpec() == null || cr.getSpec().getPodName() == null) {
      return false;
    }
    String label = nodeLabel(cr);
    return label == null || !served.test(label) || cr.getStatus() == null;
  }

  /** As below, for a PodCapture no agent has handed back. */
  static Plan decide(PodCapture cr, Pod pod, Predicate<String> served, Instant now) {
    return decide(cr, pod, served, null, now);
  }

  /**
   * The plan for {@code cr}, whose Pod is {@code pod} (null: not found), where {@code served} says
   * whether an agent serves a node. {@code handedBackFrom} is the node label it was created with if
   * the agent of that node has removed it since (the Pod is not there): the correction is then the
   * controller's to report, from that node to the Pod's.
   */
  static Plan decide(
      PodCapture cr, Pod pod, Predicate<String> served, String handedBackFrom, Instant now) {
    if (finished(cr) || cr.getMetadata().getDeletionTimestamp() != null) {
      return Plan.NOTHING;
    }
    String label = nodeLabel(cr);
    boolean labelServed = label != null && served.test(label);
    if (cr.getSpec() == null || cr.getSpec().getPodName() == null) {
      return labelServed
          ? Plan.NOTHING
          : explain(
              cr,
              null,
              Names.PHASE_FAILED,
              Names.REASON_INVALID_SPEC,
              "spec.podName is required: name the Pod to capture",
              null,
              now);
    }
    if (labelServed && cr.getStatus() != null) {
      // The agent of that node has answered for it: it runs there, or the agent hands it back.
      return Plan.NOTHING;
    }
    String podName = cr.getSpec().getPodName();
    String namespace = cr.getMetadata().getNamespace();
    if (pod == null) {
      return labelServed
          ? Plan.NOTHING
          : explain(
              cr,
              null,
              Names.PHASE_PENDING,
              Names.REASON_POD_NOT_FOUND,
              "Pod "
                  + podName
                  + " not found in namespace "
                  + namespace
                  + "; the capture starts when it appears",
              RECHECK,
              now);
    }
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    if (node == null || node.isEmpty()) {
      return labelServed
          ? Plan.NOTHING
          : explain(
              cr,
              null,
              Names.PHASE_PENDING,
              Names.REASON_POD_NOT_SCHEDULED,
              "Pod " + podName + " is not scheduled to a node yet; the capture starts when it runs",
              RECHECK,
              now);
    }
    String wrong = label != null ? label : handedBackFrom;
    List<Note> notes =
        wrong == null || wrong.equals(node)
            ? List.of()
            : List.of(
                new Note(
                    false,
                    REASON_NODE_LABEL_CORRECTED,
                    "node label "
                        + Names.LABEL_NODE
                        + " corrected from "
                        + wrong
                        + " to "
                        + node
                        + ": Pod "
                        + podName
                        + " runs on node "
                        + node));
    String newLabel = node.equals(label) ? null : node;
    if (served.test(node)) {
      // That node's agent writes the status from here on.
      return new Plan(newLabel, null, notes, null);
    }
    String message =
        "no podcapture agent runs on node "
            + node
            + ", where Pod "
            + podName
            + " runs: the agents' DaemonSet does not cover that node (check its nodeSelector,"
            + " tolerations and its Pod there); the capture starts when an agent runs there";
    Plan explained =
        explain(cr, node, Names.PHASE_PENDING, REASON_NO_AGENT_ON_NODE, message, null, now);
    List<Note> all = new java.util.ArrayList<>(notes);
    all.addAll(explained.notes());
    return new Plan(newLabel, explained.status(), List.copyOf(all), null);
  }

  /**
   * A status saying why nothing runs, written only if it differs from the one the PodCapture has; a
   * Warning Event when the reason is new.
   */
  private static Plan explain(
      PodCapture cr,
      String node,
      String phase,
      String reason,
      String message,
      Duration requeueAfter,
      Instant now) {
    PodCaptureStatus desired = status(cr, phase, node, reason, message, now);
    if (sameExplanation(cr.getStatus(), desired)) {
      return new Plan(null, null, List.of(), requeueAfter);
    }
    List<Note> notes =
        reason.equals(currentReason(cr))
            ? List.of()
            : List.of(new Note(!Names.REASON_POD_NOT_SCHEDULED.equals(reason), reason, message));
    return new Plan(null, desired, notes, requeueAfter);
  }

  /** Phase, node, message, reason and generation: what a user reads. Times are not compared. */
  private static boolean sameExplanation(PodCaptureStatus current, PodCaptureStatus desired) {
    return current != null
        && Objects.equals(current.getPhase(), desired.getPhase())
        && Objects.equals(current.getNode(), desired.getNode())
        && Objects.equals(current.getMessage(), desired.getMessage())
        && Objects.equals(current.getObservedGeneration(), desired.getObservedGeneration())
        && Objects.equals(current.getAgentPod(), desired.getAgentPod())
        && Objects.equals(reason(current), reason(desired));
  }

  static PodCaptureStatus status(
      PodCapture cr, String phase, String node, String reason, String message, Instant now) {
    PodCaptureStatus status = new PodCaptureStatus();
    status.setNode(node);
    status.setObservedGeneration(cr.getMetadata().getGeneration());
    status.setPhase(phase);
    status.setMessage(message);
    status.setConditions(List.of(notReady(cr, reason, message, now)));
    return status;
  }

  /** The Ready condition, False; its transition time kept while it stays False. */
  private static Condition notReady(PodCapture cr, String reason, String message, Instant now) {
    String since = now.truncatedTo(ChronoUnit.SECONDS).toString();
    PodCaptureStatus old = cr.getStatus();
    if (old != null && old.getConditions() != null) {
      for (Condition c : old.getConditions()) {
        if (Names.CONDITION_READY.equals(c.getType())
            && "False".equals(c.getStatus())
            && c.getLastTransitionTime() != null) {
          since = c.getLastTransitionTime();
        }
      }
    }
    return new ConditionBuilder()
        .withType(Names.CONDITION_READY)
        .withStatus("False")
        .withReason(reason)
        .withMessage(message)
        .withLastTransitionTime(since)
        .withObservedGeneration(cr.getMetadata().getGeneration())
        .build();
  }

  private static String currentReason(PodCapture cr) {
    return cr.getStatus() == null ? null : reason(cr.getStatus());
  }

  private static String reason(PodCaptureStatus status) {
    if (status.getConditions() == null) {
      return null;
    }
    return status.getConditions().stream()
        .filter(c -> Names.CONDITION_READY.equals(c.getType()))
        .map(Condition::getReason)
        .findFirst()
        .orElse(null);
  }

  /** Completed or Failed: it ended, and its files (if any) stay where it ran. */
  static boolean finished(PodCapture cr) {
    String phase = cr.getStatus() == null ? null : cr.getStatus().getPhase();
    return Names.PHASE_COMPLETED.equals(phase) || Names.PHASE_FAILED.equals(phase);
  }

  static String nodeLabel(PodCapture cr) {
    Map<String, String> labels = cr.getMetadata().getLabels();
    String label = labels == null ? null : labels.get(Names.LABEL_NODE);
    return label == null || label.isEmpty() ? null : label;
  }
}
