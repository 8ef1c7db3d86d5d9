package io.podcapture.controller;

import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.controller.CaptureState.Completed;
import io.podcapture.controller.Plan.Action;
import io.podcapture.controller.Plan.Note;
import io.podcapture.controller.Plan.Where;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The pieces {@link CaptureDecision}'s steps build their plans from: the Completed and Failed plans
 * with their TTL, the not-running status, and the Events that go with a change of reason or a
 * removed capture.
 */
final class Plans {
  private final AgentConfig config;

  Plans(AgentConfig config) {
    this.config = config;
  }

  Plan completed(Inputs in, List<Action> actions, Completed done, CaptureSnapshot snapshot) {
    PodCaptureStatus status =
        DesiredStatus.completed(
            in.cr(), config.nodeName(), config.agentPod(), snapshot, done, in.now());
    List<Note> notes =
        done.reason().equals(PodCaptures.readyReason(in.cr()))
            ? List.of()
            : List.of(new Note(false, done.reason(), status.getMessage()));
    return withTtl(in, new Plan(actions, done, status, notes, null), done.at());
  }

  Plan failed(
      Inputs in,
      List<Action> actions,
      CaptureState next,
      String reason,
      String message,
      CaptureSnapshot snapshot) {
    PodCaptureStatus status = notRunning(in, Names.PHASE_FAILED, reason, message, snapshot);
    List<Note> notes = new ArrayList<>(stoppedBy(in, actions));
    notes.addAll(warnIfNew(in.cr(), reason, message));
    Plan plan = new Plan(actions, next, status, notes, null);
    return withTtl(in, plan, status.getCompletionTime());
  }

  /** A finished PodCapture with a TTL is deleted once it ran out, and passed again when it will. */
  static Plan withTtl(Inputs in, Plan plan, String finishedAt) {
    Integer ttl = in.cr().getSpec() == null ? null : in.cr().getSpec().getTtlSecondsAfterFinished();
    if (ttl == null || finishedAt == null) {
      return plan;
    }
    Instant finished;
    try {
      finished = Instant.parse(finishedAt);
    } catch (java.time.format.DateTimeParseException e) {
      finished = in.now(); // not written by this agent: count from now rather than fail every pass
    }
    Instant expiry = finished.plusSeconds(ttl);
    if (!in.now().isBefore(expiry)) {
      List<Note> told = plan.notes().stream().filter(n -> n.where() != Where.STATUS).toList();
      return new Plan(
          plan.withAction(new Action.Delete()).actions(), plan.next(), null, told, null);
    }
    Duration left = Duration.between(in.now(), expiry);
    Duration requeue =
        plan.requeueAfter() == null || left.compareTo(plan.requeueAfter()) < 0
            ? left
            : plan.requeueAfter();
    return new Plan(plan.actions(), plan.next(), plan.status(), plan.notes(), requeue);
  }

  PodCaptureStatus notRunning(
      Inputs in, String phase, String reason, String message, CaptureSnapshot snapshot) {
    return DesiredStatus.notRunning(
        in.cr(), config.nodeName(), config.agentPod(), phase, reason, message, snapshot, in.now());
  }

  /**
   * A warning Event when the Ready reason changes to this one (not on every pass that repeats it).
   */
  static List<Note> warnIfNew(PodCapture cr, String reason, String message) {
    return reason.equals(PodCaptures.readyReason(cr))
        ? List.of()
        : List.of(new Note(true, reason, message));
  }

  /** Removes the capture if held, forgets it, and writes {@code status} if not null. */
  static Plan stopping(Inputs in, String why, PodCaptureStatus status) {
    return new Plan(stop(in, why), null, status, stopped(in, why), null);
  }

  /** Removes the capture if this agent holds any of it. */
  static List<Action> stop(Inputs in, String why) {
    return in.held() ? List.of(new Action.Remove(why)) : List.of();
  }

  /**
   * The Stopped Event on the annotation's Pod, where its user looks, when a capture held here is
   * removed.
   */
  static List<Note> stopped(Inputs in, String why) {
    if (!in.held() || !in.managed() || in.pod() == null) {
      return List.of();
    }
    return List.of(
        new Note(
            false, Names.REASON_STOPPED, "capture stopped and files deleted: " + why, Where.POD));
  }

  static List<Note> stoppedBy(Inputs in, List<Action> actions) {
    return actions.stream()
        .filter(Action.Remove.class::isInstance)
        .map(a -> stopped(in, ((Action.Remove) a).why()))
        .flatMap(List::stream)
        .toList();
  }

  static String retryHint(boolean managed) {
    return managed
        ? "remove and re-add the annotation to try again"
        : "change the PodCapture's spec, or delete and re-create it, to try again";
  }

  static String exitText(CaptureSnapshot snapshot) {
    String out = snapshot.lastOutput();
    return "tcpdump "
        + snapshot.exitReason()
        + (out == null || out.isBlank() ? "" : ": " + out.strip().replace('\n', ' '));
  }

  static long ceilSeconds(Duration d) {
    return (d.toMillis() + 999) / 1000;
  }
}
