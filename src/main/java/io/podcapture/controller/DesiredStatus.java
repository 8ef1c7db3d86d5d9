package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.podcapture.api.v1alpha1.CaptureFile;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.RingFile;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Builds the status a PodCapture should have, and decides whether it differs enough from the
 * current one.
 */
final class DesiredStatus {
  private DesiredStatus() {}

  /** The status of a capture whose tcpdump runs. */
  static PodCaptureStatus running(
      PodCapture cr, String node, String agentPod, CaptureSnapshot snapshot, Instant now) {
    PodCaptureStatus status = base(cr, node, agentPod);
    status.setPhase(Names.PHASE_RUNNING);
    status.setPodIPs(snapshot.request().ips());
    status.setFilter(snapshot.filter());
    fillFiles(status, snapshot);
    status.setStartTime(
        snapshot.startTime() == null
            ? null
            : snapshot.startTime().truncatedTo(ChronoUnit.SECONDS).toString());
    status.setRestartCount(snapshot.restartCount());
    status.setMessage(
        "capturing traffic of "
            + String.join(", ", snapshot.request().ips())
            + " into a ring of "
            + snapshot.request().maxFiles()
            + " x "
            + snapshot.request().fileSizeMB()
            + " MB files");
    status.setConditions(ready(cr, true, Names.REASON_RUNNING, status.getMessage(), now));
    return status;
  }

  /**
   * The status of a capture that does not run: Pending (it will start by itself) or Failed (it
   * needs the user). Files still on disk (kept after a tcpdump exit) are listed.
   */
  static PodCaptureStatus notRunning(
      PodCapture cr,
      String node,
      String agentPod,
      String phase,
      String reason,
      String message,
      CaptureSnapshot snapshot,
      Instant now) {
    PodCaptureStatus status = base(cr, node, agentPod);
    status.setPhase(phase);
    status.setMessage(message);
    if (snapshot != null) {
      status.setPodIPs(snapshot.request().ips());
      status.setFilter(snapshot.filter());
      status.setRestartCount(snapshot.restartCount());
      fillFiles(status, snapshot);
    }
    if (Names.PHASE_FAILED.equals(phase)) {
      status.setCompletionTime(finishedAt(cr, phase, now));
    }
    status.setConditions(ready(cr, false, reason, message, now));
    return status;
  }

  /**
   * The status of a capture that ended as asked. Its files are listed from the snapshot, or, when
   * the capture layer no longer holds it (the agent restarted), as the status listed them.
   */
  static PodCaptureStatus completed(
      PodCapture cr,
      String node,
      String agentPod,
      CaptureSnapshot snapshot,
      CaptureState.Completed done,
      Instant now) {
    PodCaptureStatus status = base(cr, node, agentPod);
    status.setPhase(Names.PHASE_COMPLETED);
    PodCaptureStatus old = cr.getStatus();
    if (snapshot != null) {
      status.setPodIPs(snapshot.request().ips());
      status.setFilter(snapshot.filter());
      status.setRestartCount(snapshot.restartCount());
      status.setStartTime(
          snapshot.startTime() == null
              ? null
              : snapshot.startTime().truncatedTo(ChronoUnit.SECONDS).toString());
      fillFiles(status, snapshot);
    } else if (old != null) {
      status.setPodIPs(old.getPodIPs());
      status.setFilter(old.getFilter());
      status.setRestartCount(old.getRestartCount());
      status.setStartTime(old.getStartTime());
      status.setFiles(old.getFiles());
      status.setFileCount(old.getFileCount());
      status.setTotalBytes(old.getTotalBytes());
    }
    status.setCompletionTime(done.at());
    int files = Optional.ofNullable(status.getFileCount()).orElse(0);
    String kept =
        files
            + " file(s) are kept until the PodCapture is deleted"
            + (cr.getSpec().getTtlSecondsAfterFinished() == null
                ? ""
                : " or its ttlSecondsAfterFinished ("
                    + cr.getSpec().getTtlSecondsAfterFinished()
                    + "s) passes");
    status.setMessage(
        done.podDeleted()
            ? "Pod "
                + cr.getSpec().getPodName()
                + " was deleted while the capture ran; tcpdump was stopped and its "
                + kept
            : "capture completed as asked (" + limits(cr) + "); its " + kept);
    status.setConditions(ready(cr, false, done.reason(), status.getMessage(), now));
    return status;
  }

  private static String limits(PodCapture cr) {
    List<String> parts = new ArrayList<>();
    if (cr.getSpec().getDurationSeconds() != null) {
      parts.add("durationSeconds " + cr.getSpec().getDurationSeconds());
    }
    if (cr.getSpec().getPacketCount() != null) {
      parts.add("packetCount " + cr.getSpec().getPacketCount());
    }
    return parts.isEmpty() ? "tcpdump ended by itself" : String.join(", ", parts);
  }

  /** When the capture finished: kept from the status while it stays in this phase, else now. */
  static String finishedAt(PodCapture cr, String phase, Instant now) {
    PodCaptureStatus old = cr.getStatus();
    if (old != null
        && phase.equals(old.getPhase())
        && old.getCompletionTime() != null
        && Objects.equals(old.getObservedGeneration(), cr.getMetadata().getGeneration())) {
      return old.getCompletionTime();
    }
    return now.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static PodCaptureStatus base(PodCapture cr, String node, String agentPod) {
    PodCaptureStatus status = new PodCaptureStatus();
    status.setNode(node);
    status.setAgentPod(agentPod == null || agentPod.isEmpty() ? null : agentPod);
    status.setObservedGeneration(cr.getMetadata().getGeneration());
    return status;
  }

  private static void fillFiles(PodCaptureStatus status, CaptureSnapshot snapshot) {
    List<CaptureFile> files = new ArrayList<>();
    for (RingFile f : snapshot.files()) {
      files.add(new CaptureFile(f.name(), f.path().toString(), f.sizeBytes()));
    }
    status.setFiles(files);
    status.setFileCount(files.size());
    status.setTotalBytes(snapshot.totalBytes());
  }

  /**
   * A Ready condition that keeps its lastTransitionTime unless its status flips (as Keycloak's
   * operator does).
   */
  private static List<Condition> ready(
      PodCapture cr, boolean ready, String reason, String message, Instant now) {
    String value = ready ? "True" : "False";
    String since = now.truncatedTo(ChronoUnit.SECONDS).toString();
    PodCaptureStatus old = cr.getStatus();
    if (old != null && old.getConditions() != null) {
      for (Condition c : old.getConditions()) {
        if (Names.CONDITION_READY.equals(c.getType())
            && value.equals(c.getStatus())
            && c.getLastTransitionTime() != null) {
          since = c.getLastTransitionTime();
        }
      }
    }
    List<Condition> conditions = new ArrayList<>();
    conditions.add(
        new ConditionBuilder()
            .withType(Names.CONDITION_READY)
            .withStatus(value)
            .withReason(reason)
            .withMessage(message)
            .withLastTransitionTime(since)
            .withObservedGeneration(cr.getMetadata().getGeneration())
            .build());
    return conditions;
  }

  /** What a status write would change. */
  enum Change {
    NONE,
    /**
     * Only file sizes, counts or the file list moved: written at most once per refresh interval.
     */
    SIZES,
    /** Anything a user must see at once. */
    SIGNIFICANT
  }

  static Change compare(PodCaptureStatus current, PodCaptureStatus desired) {
    if (Objects.equals(current, desired)) {
      return Change.NONE;
    }
    if (current == null) {
      return Change.SIGNIFICANT;
    }
    return Objects.equals(withoutSizes(current), withoutSizes(desired))
        ? Change.SIZES
        : Change.SIGNIFICANT;
  }

  private static PodCaptureStatus withoutSizes(PodCaptureStatus s) {
    PodCaptureStatus copy = new PodCaptureStatus();
    copy.setNode(s.getNode());
    copy.setPhase(s.getPhase());
    copy.setAgentPod(s.getAgentPod());
    copy.setPodIPs(s.getPodIPs());
    copy.setFilter(s.getFilter());
    copy.setStartTime(s.getStartTime());
    copy.setCompletionTime(s.getCompletionTime());
    copy.setRestartCount(s.getRestartCount());
    copy.setMessage(s.getMessage());
    copy.setObservedGeneration(s.getObservedGeneration());
    copy.setConditions(s.getConditions());
    return copy;
  }
}
