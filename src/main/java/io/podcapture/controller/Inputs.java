package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.controller.CaptureState.Completed;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a decision reads. {@code pod} is the Pod named by spec.podName if it is on this node,
 * else null. {@code started} is the outcome of the start this pass just made, else null.
 */
record Inputs(
    PodCapture cr,
    Pod pod,
    CaptureState state,
    CaptureSnapshot snapshot,
    NodeBudget.View budget,
    boolean deletedByAgent,
    Instant now,
    StartOutcome started) {

  /** Inputs of a pass before it acted. */
  Inputs(
      PodCapture cr,
      Pod pod,
      CaptureState state,
      CaptureSnapshot snapshot,
      NodeBudget.View budget,
      boolean deletedByAgent,
      Instant now) {
    this(cr, pod, state, snapshot, budget, deletedByAgent, now, null);
  }

  boolean managed() {
    return PodCaptures.managedByAnnotation(cr);
  }

  /**
   * Whether tcpdump ran here for this PodCapture: the capture layer holds its process or files, or
   * (after an agent restart, before the capture layer took it up again) its status says it started
   * on this node.
   */
  boolean ranHere(String node) {
    PodCaptureStatus status = cr.getStatus();
    return snapshot != null
        || (status != null && node.equals(status.getNode()) && status.getStartTime() != null);
  }

  /** Whether this agent holds anything of the capture: a process, files or a state. */
  boolean held() {
    return snapshot != null || state != null;
  }

  Inputs withState(CaptureState next) {
    return new Inputs(cr, pod, next, snapshot, budget, deletedByAgent, now, null);
  }

  /**
   * The completed run this generation of the spec already had, from memory or, after a restart, the
   * status.
   */
  Completed completedRun() {
    Long generation = cr.getMetadata().getGeneration();
    if (state instanceof Completed done && Objects.equals(done.generation(), generation)) {
      return done;
    }
    PodCaptureStatus status = cr.getStatus();
    boolean running = snapshot != null && snapshot.running();
    if (state == null
        && !running
        && status != null
        && Names.PHASE_COMPLETED.equals(status.getPhase())
        && Objects.equals(status.getObservedGeneration(), generation)) {
      // After a restart the status says how it ended; a Pod deletion stays one.
      String reason =
          Names.REASON_POD_DELETED.equals(PodCaptures.readyReason(cr))
              ? Names.REASON_POD_DELETED
              : Names.REASON_COMPLETED;
      return new Completed(generation, status.getCompletionTime(), reason);
    }
    return null;
  }

  /** What tcpdump is asked to do: the annotation's N or the spec's, and the spec's options. */
  CaptureRequest request(List<String> ips, int maxFilesAllowed) {
    PodCaptureSpec spec = cr.getSpec();
    int maxFiles =
        managed()
            ? AnnotationValue.parse(PodCaptures.annotation(pod), maxFilesAllowed).maxFiles()
            : Optional.ofNullable(spec.getMaxFiles()).orElse(CaptureDecision.DEFAULT_MAX_FILES);
    String filter =
        spec.getFilter() == null || spec.getFilter().isBlank() ? null : spec.getFilter();
    return new CaptureRequest(
        PodCaptures.key(cr),
        ips,
        maxFiles,
        Optional.ofNullable(spec.getFileSizeMB()).orElse(CaptureDecision.DEFAULT_FILE_SIZE_MB),
        filter,
        spec.getPacketCount(),
        spec.getDurationSeconds() == null ? null : Duration.ofSeconds(spec.getDurationSeconds()),
        Optional.ofNullable(spec.getSnapLength()).orElse(0));
  }
}
