package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureException;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.controller.CaptureState.BackingOff;
import io.podcapture.controller.CaptureState.Completed;
import io.podcapture.controller.CaptureState.Failed;
import io.podcapture.controller.CaptureState.Running;
import io.podcapture.controller.CaptureState.Waiting;
import io.podcapture.controller.Plan.Action;
import io.podcapture.controller.Plan.Note;
import io.podcapture.controller.Plan.Where;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one pass does for one PodCapture on this node, decided without side effects from the
 * PodCapture, its Pod, the capture's remembered state, the capture layer's snapshot, the node's
 * budget, the clock and, after a start, its outcome. Every state transition and every Event is
 * decided here; the reconciler carries the plan out. Tests call {@link #decide} directly.
 *
 * <p>{@link #decide} reads top to bottom in the order of precedence: deletion, the spec, an earlier
 * completion, the Pod's presence (a Pod deleted under a running capture ends it, files kept; a
 * PodCapture whose Pod is on another node goes back to the cluster controller), refusals, the Pod's
 * IP; then {@link #capture} for the capture itself: the outcome of a start, completion, failure,
 * restart or back-off, room on the node, running, start. Each step returns a complete plan.
 */
final class CaptureDecision {
  static final int DEFAULT_MAX_FILES = 1;
  static final int DEFAULT_FILE_SIZE_MB = 1;
  static final String MISSING_POD_NAME =
      "spec.podName is required: the name of the Pod to capture, in the PodCapture's namespace";

  private final AgentConfig config;
  private final Refusals refusals;
  private final Plans plans;

  CaptureDecision(AgentConfig config) {
    this.config = config;
    this.refusals = new Refusals(config);
    this.plans = new Plans(config);
  }

  Plan decide(Inputs in) {
    PodCapture cr = in.cr();
    if (PodCaptures.deleting(cr)) {
      return deleting(in);
    }
    if (cr.getSpec() == null || cr.getSpec().getPodName() == null) {
      return plans.failed(
          in,
          Plans.stop(in, Names.REASON_INVALID_SPEC),
          null,
          Names.REASON_INVALID_SPEC,
          MISSING_POD_NAME,
          null);
    }
    Completed finished = in.completedRun();
    if (finished != null) {
      return stillCompleted(in, finished);
    }
    Pod pod = in.pod();
    if (pod == null) {
      return podGone(in);
    }
    if (PodCaptures.terminating(pod)) {
      return podTerminating(in);
    }
    if (in.managed() && PodCaptures.annotation(pod) == null) {
      // The annotation went: the mirror deletes this PodCapture; meanwhile nothing runs.
      return Plans.stopping(in, Names.STOP_ANNOTATION_REMOVED, null);
    }
    Refusals.Refusal refusal = refusals.of(cr, pod);
    if (refusal != null) {
      return plans.failed(
          in, Plans.stop(in, refusal.reason()), null, refusal.reason(), refusal.message(), null);
    }
    List<String> ips = PodCaptures.podIPs(pod);
    if (ips.isEmpty()) {
      return waitingForIp(in);
    }
    return capture(in, in.request(ips, config.maxFiles()));
  }

  /**
   * The capture itself, once nothing stands in its way: the outcome of this pass's start, then
   * completion, failure, restart or back-off, room on the node, running, start.
   */
  private Plan capture(Inputs in, CaptureRequest request) {
    if (in.started() != null) {
      return afterStart(in, request);
    }
    CaptureSnapshot snapshot = in.snapshot();
    boolean same = snapshot != null && request.equals(snapshot.request());
    if (same && snapshot.completed()) {
      return completedNow(in, request);
    }
    if (in.state() instanceof Failed failed && failed.request().equals(request)) {
      return stillFailed(in, failed);
    }
    if (same && !snapshot.running() && snapshot.exitCode() != null) {
      Plan plan = restartOrGiveUp(in, request);
      if (plan != null) {
        return plan;
      }
    }
    if (in.state() instanceof BackingOff b && b.startFailed() && b.request().equals(request)) {
      Plan plan = startBackingOff(in, b);
      if (plan != null) {
        return plan;
      }
    }
    NodeBudget.Verdict room =
        in.budget().check(request.key(), request.maxFiles(), request.fileSizeMB());
    if (!room.fits()) {
      return noRoom(in, room);
    }
    if (same && snapshot.running()) {
      return running(in, request);
    }
    return start(in, request);
  }

  // --- the steps, in the order decide takes them

  /**
   * Deleted: stop and remove the capture, and release the finalizer. A PodCapture the user (or its
   * TTL) deleted ends the capture for good: the annotation goes too, so nothing creates it again.
   * One the agent deleted itself (the annotation or the Pod went) leaves the Pod alone: an
   * annotation added again meanwhile starts a new capture.
   */
  private Plan deleting(Inputs in) {
    PodCapture cr = in.cr();
    boolean finalizer = PodCaptures.hasFinalizer(cr);
    List<Action> actions = new ArrayList<>();
    if (in.held() || finalizer) {
      actions.add(new Action.Remove(Names.REASON_CR_DELETED));
    }
    List<Note> notes = new ArrayList<>(Plans.stopped(in, Names.REASON_CR_DELETED));
    if (!finalizer) {
      return new Plan(actions, null, null, notes, null);
    }
    Pod pod = in.pod();
    if (in.managed()
        && !in.deletedByAgent()
        && pod != null
        && PodCaptures.annotation(pod) != null
        && !PodCaptures.terminating(pod)) {
      actions.add(new Action.RemoveAnnotation());
      notes.add(
          new Note(
              false,
              Names.REASON_CR_DELETED,
              "PodCapture deleted: capture stopped, files deleted, annotation "
                  + Names.ANNOTATION
                  + " removed",
              Where.POD));
    }
    actions.add(new Action.RemoveFinalizer());
    return new Plan(actions, null, null, notes, null);
  }

  /**
   * Ended as asked: kept as it is for this generation of the spec, also across agent restarts (the
   * status says so when memory does not). A Pod update does not start it again, and its Pod going
   * does not take its files: they are the result, kept until the PodCapture is deleted.
   */
  private Plan stillCompleted(Inputs in, Completed finished) {
    PodCaptureSpec spec = in.cr().getSpec();
    int files = Optional.ofNullable(spec.getMaxFiles()).orElse(DEFAULT_MAX_FILES);
    int size = Optional.ofNullable(spec.getFileSizeMB()).orElse(DEFAULT_FILE_SIZE_MB);
    List<Action> actions =
        in.state() instanceof Completed ? List.of() : List.of(new Action.Park(files, size));
    return plans.completed(in, actions, finished, in.snapshot());
  }

  /**
   * The Pod is not on this node (any more). The annotation's PodCapture goes with its Pod (the
   * annotation mirror deletes it, files and all). A direct or set-child PodCapture whose tcpdump
   * ran here lost its Pod to a deletion (a Pod never moves between nodes): it ends {@link
   * #podDeleted}. One that never ran here is handed back to the cluster controller, which finds the
   * Pod's node (the reconciler asks the API server first, in case the Pod cache is behind).
   */
  private Plan podGone(Inputs in) {
    if (!in.managed() && in.ranHere(config.nodeName())) {
      return podDeleted(in);
    }
    List<Action> actions = new ArrayList<>(Plans.stop(in, Names.STOP_POD_GONE));
    if (!in.managed()) {
      actions.add(new Action.Unclaim());
    }
    return new Plan(actions, null, null, List.of(), null);
  }

  /**
   * The Pod of a direct or set-child capture that ran here was deleted (or is being deleted): the
   * capture is often the evidence the user came for, so tcpdump stops, the files stay, and the
   * PodCapture ends Completed with reason PodDeleted, until it is deleted or its
   * ttlSecondsAfterFinished passes.
   */
  private Plan podDeleted(Inputs in) {
    PodCaptureSpec spec = in.cr().getSpec();
    CaptureSnapshot snapshot = in.snapshot();
    int files =
        snapshot != null
            ? snapshot.request().maxFiles()
            : Optional.ofNullable(spec.getMaxFiles()).orElse(DEFAULT_MAX_FILES);
    int size =
        snapshot != null
            ? snapshot.request().fileSizeMB()
            : Optional.ofNullable(spec.getFileSizeMB()).orElse(DEFAULT_FILE_SIZE_MB);
    List<Action> actions = new ArrayList<>();
    if (snapshot != null && snapshot.running()) {
      actions.add(new Action.StopKeepingFiles());
    }
    actions.add(new Action.Park(files, size));
    Completed done =
        new Completed(
            in.cr().getMetadata().getGeneration(),
            in.now().truncatedTo(ChronoUnit.SECONDS).toString(),
            Names.REASON_POD_DELETED);
    return plans.completed(in, actions, done, snapshot);
  }

  /**
   * The Pod is being deleted or has ended. A direct or set-child capture that ran here and whose
   * Pod is being deleted ends {@link #podDeleted}; the annotation's capture stops and its files go
   * (the mirror deletes its PodCapture); otherwise the capture stops and waits Pending for a Pod of
   * that name.
   */
  private Plan podTerminating(Inputs in) {
    if (!in.managed() && PodCaptures.deleting(in.pod()) && in.ranHere(config.nodeName())) {
      return podDeleted(in);
    }
    PodCaptureStatus status =
        in.managed()
            ? null
            : plans.notRunning(
                in,
                Names.PHASE_PENDING,
                Names.REASON_POD_TERMINATING,
                "Pod "
                    + in.pod().getMetadata().getName()
                    + " is terminating; the capture stopped and its files were deleted, "
                    + "and it starts again when a Pod of that name runs",
                null);
    return Plans.stopping(in, Names.STOP_POD_TERMINATING, status);
  }

  private Plan waitingForIp(Inputs in) {
    String message =
        "waiting for Pod "
            + in.pod().getMetadata().getName()
            + " to get an IP address; the capture starts once it has one";
    PodCaptureStatus status =
        plans.notRunning(in, Names.PHASE_PENDING, Names.REASON_WAITING_FOR_IP, message, null);
    return new Plan(List.of(), in.state(), status, List.of(), null);
  }

  /**
   * This pass just started tcpdump, or tried to: the outcome gives the state (Running; Failed for a
   * request the capture layer refused; backing off, or Failed once the attempts are spent, for a
   * start that failed), and the capture is decided again from there.
   */
  private Plan afterStart(Inputs in, CaptureRequest request) {
    StartOutcome outcome = in.started();
    if (outcome instanceof StartOutcome.NoRoom noRoom) {
      return noRoom(in, noRoom.verdict());
    }
    if (outcome instanceof StartOutcome.StartFailed failed) {
      return capture(in.withState(startFailed(in, request, failed)), request);
    }
    CaptureSnapshot snapshot = ((StartOutcome.Started) outcome).snapshot();
    String message =
        "started capture into "
            + request.maxFiles()
            + " x "
            + request.fileSizeMB()
            + " MB files, filter: "
            + snapshot.filter();
    // One Event per start, on the Pod for the annotation's capture (where its user looks) and on
    // the PodCapture otherwise: one Event more would make an annotation capture's lifecycle cost 7
    // writes, not 6.
    Where where = in.managed() && in.pod() != null ? Where.POD : Where.CAPTURE;
    Plan plan = capture(in.withState(new Running(request)), request);
    return plan.withNote(new Note(false, Names.REASON_STARTED, message, where));
  }

  /** The state after a failed start: refused for good, backing off, or out of attempts. */
  private CaptureState startFailed(
      Inputs in, CaptureRequest request, StartOutcome.StartFailed failed) {
    if (failed.reason() == CaptureException.Reason.InvalidFilter) {
      return new Failed(request, Names.REASON_INVALID_FILTER, failed.message(), false);
    }
    if (failed.reason() == CaptureException.Reason.InvalidInput) {
      return new Failed(request, Names.REASON_INVALID_INPUT, failed.message(), false);
    }
    int attempts =
        (in.state() instanceof BackingOff b && b.startFailed() && b.request().equals(request)
                ? b.attempts()
                : 0)
            + 1;
    String couldNot = "tcpdump could not start: " + failed.message();
    if (attempts > config.maxRestarts()) {
      String message =
          couldNot + "; gave up after " + attempts + " attempts; " + Plans.retryHint(in.managed());
      return new Failed(request, Names.REASON_START_FAILED, message, false);
    }
    Duration delay = Backoff.after(attempts - 1);
    String message =
        String.format(
            "%s; retrying in %ds (attempt %d of %d)",
            couldNot, delay.toSeconds(), attempts, config.maxRestarts() + 1);
    return new BackingOff(request, attempts, in.now().plus(delay), true, message);
  }

  private Plan completedNow(Inputs in, CaptureRequest request) {
    Long generation = in.cr().getMetadata().getGeneration();
    Completed done = new Completed(generation, in.now().truncatedTo(ChronoUnit.SECONDS).toString());
    Action park = new Action.Park(request.maxFiles(), request.fileSizeMB());
    return plans.completed(in, List.of(park), done, in.snapshot());
  }

  /** Failed for this request: stays so until the request changes. */
  private Plan stillFailed(Inputs in, Failed failed) {
    CaptureRequest request = failed.request();
    List<Action> actions =
        failed.keepsFiles()
            ? List.of(new Action.Park(request.maxFiles(), request.fileSizeMB()))
            : List.of();
    CaptureSnapshot files = failed.keepsFiles() ? in.snapshot() : null;
    return plans.failed(in, actions, failed, failed.reason(), failed.message(), files);
  }

  /**
   * tcpdump ended on its own: wait out the backoff, then restart (null: the backoff is over); give
   * up after MAX_RESTARTS.
   */
  private Plan restartOrGiveUp(Inputs in, CaptureRequest request) {
    CaptureSnapshot snapshot = in.snapshot();
    String exit = Plans.exitText(snapshot);
    int restarts = snapshot.restartCount();
    if (restarts >= config.maxRestarts()) {
      String message =
          exit
              + "; gave up after "
              + restarts
              + " restarts (MAX_RESTARTS); "
              + Plans.retryHint(in.managed());
      Failed failed = new Failed(request, Names.REASON_GAVE_UP, message, true);
      Action park = new Action.Park(request.maxFiles(), request.fileSizeMB());
      return plans.failed(in, List.of(park), failed, failed.reason(), message, snapshot);
    }
    BackingOff backoff =
        in.state() instanceof BackingOff b && !b.startFailed() && b.request().equals(request)
            ? b
            : new BackingOff(
                request, restarts, in.now().plus(Backoff.after(restarts)), false, exit);
    Duration left = Duration.between(in.now(), backoff.retryAt());
    if (left.compareTo(Duration.ZERO) <= 0) {
      return null;
    }
    String message =
        String.format(
            "%s; restart %d of %d in %ds",
            exit, restarts + 1, config.maxRestarts(), Math.max(1, Plans.ceilSeconds(left)));
    PodCaptureStatus status =
        plans.notRunning(in, Names.PHASE_PENDING, Names.REASON_TCPDUMP_EXITED, message, snapshot);
    List<Note> notes = Plans.warnIfNew(in.cr(), Names.REASON_TCPDUMP_EXITED, exit);
    return new Plan(List.of(), backoff, status, notes, left);
  }

  /**
   * A start that failed is tried again only after its backoff (null: the backoff is over): our own
   * status write must not bring it on early.
   */
  private Plan startBackingOff(Inputs in, BackingOff backoff) {
    Duration left = Duration.between(in.now(), backoff.retryAt());
    if (left.compareTo(Duration.ZERO) <= 0) {
      return null;
    }
    PodCaptureStatus status =
        plans.notRunning(
            in, Names.PHASE_PENDING, Names.REASON_START_FAILED, backoff.message(), null);
    List<Note> notes = Plans.warnIfNew(in.cr(), Names.REASON_START_FAILED, backoff.message());
    return new Plan(List.of(), backoff, status, notes, left);
  }

  /** No room on the node: Pending while others hold it, Failed if the ring can never fit. */
  private Plan noRoom(Inputs in, NodeBudget.Verdict room) {
    List<Action> actions =
        in.snapshot() != null ? List.of(new Action.Remove(room.reason())) : List.of();
    List<Note> notes = in.snapshot() != null ? Plans.stopped(in, room.reason()) : List.of();
    if (room.waiting()) {
      PodCaptureStatus status =
          plans.notRunning(in, Names.PHASE_PENDING, room.reason(), room.message(), null);
      return new Plan(actions, new Waiting(room.reason(), room.message()), status, notes, null);
    }
    return plans.failed(in, actions, null, room.reason(), room.message(), null);
  }

  /** Runs as asked; a full disk stops it, keeping the files. */
  private Plan running(Inputs in, CaptureRequest request) {
    CaptureSnapshot snapshot = in.snapshot();
    if (snapshot.storageProblem() != null) {
      String message =
          snapshot.storageProblem()
              + "; tcpdump was stopped and the files captured so far are kept; free space on the"
              + " node, then "
              + (in.managed()
                  ? "remove and re-add the annotation"
                  : "change the PodCapture's spec or re-create it")
              + " to capture again";
      Failed failed = new Failed(request, Names.REASON_DISK_FULL, message, true);
      List<Action> actions =
          List.of(
              new Action.StopKeepingFiles(),
              new Action.Park(request.maxFiles(), request.fileSizeMB()));
      return plans.failed(in, actions, failed, failed.reason(), message, snapshot);
    }
    PodCaptureStatus status =
        DesiredStatus.running(in.cr(), config.nodeName(), config.agentPod(), snapshot, in.now());
    return new Plan(List.of(), new Running(request), status, List.of(), config.statusRefresh());
  }

  /** Starts tcpdump, the finalizer first so no file is written before it. */
  private static Plan start(Inputs in, CaptureRequest request) {
    List<Action> actions = new ArrayList<>();
    if (!PodCaptures.hasFinalizer(in.cr())) {
      actions.add(new Action.AddFinalizer());
    }
    actions.add(new Action.Start(request));
    return new Plan(actions, in.state(), null, List.of(), null);
  }
}
