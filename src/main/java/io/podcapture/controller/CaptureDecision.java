package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.controller.CaptureState.BackingOff;
import io.podcapture.controller.CaptureState.Completed;
import io.podcapture.controller.CaptureState.Failed;
import io.podcapture.controller.CaptureState.Running;
import io.podcapture.controller.CaptureState.Waiting;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What one pass does for one PodCapture on this node, decided without side effects from the
 * PodCapture, its Pod, the capture's remembered state, the capture layer's snapshot, the node's
 * budget and the clock. The reconciler carries the plan out; tests call {@link #decide} directly.
 *
 * <p>The order of the checks is the order of precedence: deletion, then the Pod's presence, then
 * input errors, then end states (completed, failed), then backoff, then room on the node, then the
 * capture itself.
 */
final class CaptureDecision {
  static final int DEFAULT_MAX_FILES = 1;
  static final int DEFAULT_FILE_SIZE_MB = 1;
  static final String MISSING_POD_NAME =
      "spec.podName is required: the name of the Pod to capture, in the "
          + "PodCapture's namespace";

  /**
   * Everything a decision reads. {@code pod} is the Pod named by spec.podName if it is on this
   * node, else null.
   */
  record Inputs(
      PodCapture cr,
      Pod pod,
      CaptureState state,
      CaptureSnapshot snapshot,
      NodeBudget.View budget,
      boolean deletedByAgent,
      Instant now) {}

  /** One thing to do, in order. */
  sealed interface Action {
    /** Adds the cleanup finalizer, before tcpdump may write a file for this PodCapture. */
    record AddFinalizer() implements Action {}

    /** Starts (or restarts) tcpdump; the pass decides again with the outcome. */
    record Start(CaptureRequest request) implements Action {}

    /**
     * Removes the capture (stops tcpdump, deletes the files); {@code why} is a CamelCase reason for
     * metrics and the Stopped Event.
     */
    record Remove(String why) implements Action {}

    /** Stops tcpdump and keeps the files (a full disk). */
    record StopKeepingFiles() implements Action {}

    /** Gives up the slot and keeps the disk budget: for a capture whose files stay. */
    record Park(int maxFiles, int fileSizeMB) implements Action {}

    /** Removes the Pod's annotation: the user deleted the annotation's PodCapture. */
    record RemoveAnnotation() implements Action {}

    /** Removes the cleanup finalizer (guarded JSON patch). */
    record RemoveFinalizer() implements Action {}

    /**
     * The Pod left this node: removes the node label and the finalizer (files are deleted already),
     * so the elected agent finds the Pod again wherever it comes back.
     */
    record Unclaim() implements Action {}

    /** Deletes the PodCapture: its ttlSecondsAfterFinished ran out. */
    record Delete() implements Action {}
  }

  /**
   * An Event to record. On the PodCapture always; on the Pod too for the annotation's PodCapture.
   */
  record Note(boolean warning, String reason, String message) {}

  /**
   * The decision: actions in order, the state to remember afterwards (null forgets the capture),
   * the status to write (null writes none), Events, and when to pass again (null: only on a
   * change).
   */
  record Plan(
      List<Action> actions,
      CaptureState next,
      PodCaptureStatus status,
      List<Note> notes,
      Duration requeueAfter) {}

  private final AgentConfig config;

  CaptureDecision(AgentConfig config) {
    this.config = config;
  }

  Plan decide(Inputs in) {
    PodCapture cr = in.cr();
    Pod pod = in.pod();
    boolean managed = managedByAnnotation(cr);
    boolean held = in.snapshot() != null || in.state() != null;

    if (cr.getMetadata().getDeletionTimestamp() != null) {
      return deleting(in, managed, held);
    }
    if (cr.getSpec() == null || cr.getSpec().getPodName() == null) {
      return failed(
          in,
          stop(held, Names.REASON_INVALID_SPEC),
          null,
          Names.REASON_INVALID_SPEC,
          MISSING_POD_NAME,
          null);
    }
    // Ended as asked: kept as it is for this generation of the spec, also across agent restarts
    // (the status says
    // so when memory does not). A Pod update does not start it again, and its Pod going does not
    // take its files:
    // they are the result, kept until the PodCapture is deleted.
    Completed finished = completedRun(in);
    if (finished != null) {
      int files = Optional.ofNullable(cr.getSpec().getMaxFiles()).orElse(DEFAULT_MAX_FILES);
      int size = Optional.ofNullable(cr.getSpec().getFileSizeMB()).orElse(DEFAULT_FILE_SIZE_MB);
      List<Action> actions =
          in.state() instanceof Completed ? List.of() : List.of(new Action.Park(files, size));
      return completed(in, actions, finished, in.snapshot());
    }
    if (pod == null) {
      // The Pod is not on this node (any more). The annotation's PodCapture goes with its Pod (the
      // annotation
      // mirror deletes it); a direct one is handed back to the elected agent, which finds the Pod
      // again.
      List<Action> actions = new ArrayList<>(stop(held, Names.STOP_POD_GONE));
      if (!managed) {
        actions.add(new Action.Unclaim());
      }
      return new Plan(actions, null, null, List.of(), null);
    }
    if (terminating(pod)) {
      PodCaptureStatus status =
          managed
              ? null
              : notRunning(
                  cr,
                  Names.PHASE_PENDING,
                  Names.REASON_POD_TERMINATING,
                  "Pod "
                      + pod.getMetadata().getName()
                      + " is terminating; the capture stopped and its files were deleted, "
                      + "and it starts again when a Pod of that name runs",
                  null,
                  in.now());
      return new Plan(stop(held, Names.STOP_POD_TERMINATING), null, status, List.of(), null);
    }

    String refusal = null;
    String refusalReason = null;
    int maxFiles = Optional.ofNullable(cr.getSpec().getMaxFiles()).orElse(DEFAULT_MAX_FILES);
    if (managed) {
      String raw = annotation(pod);
      if (raw == null) {
        // The annotation went: the mirror deletes this PodCapture; meanwhile nothing runs.
        return new Plan(stop(held, Names.STOP_ANNOTATION_REMOVED), null, null, List.of(), null);
      }
      AnnotationValue value = AnnotationValue.parse(raw, config.maxFiles());
      if (!value.valid()) {
        refusalReason = Names.REASON_INVALID_ANNOTATION;
        refusal = value.error();
      } else {
        maxFiles = value.maxFiles();
      }
    } else if (maxFiles > config.maxFiles()) {
      refusalReason = Names.REASON_INVALID_SPEC;
      refusal =
          "spec.maxFiles "
              + maxFiles
              + " is more than this agent allows: expected 1 to "
              + config.maxFiles()
              + " (MAX_FILES)";
    }
    if (refusal == null && config.denyNamespaces().contains(cr.getMetadata().getNamespace())) {
      refusalReason = Names.REASON_NAMESPACE_DENIED;
      refusal =
          "captures are refused in namespace "
              + cr.getMetadata().getNamespace()
              + " by this agent's "
              + "DENY_NAMESPACES setting ("
              + String.join(",", config.denyNamespaces().stream().sorted().toList())
              + ")";
    }
    if (refusal == null && hostNetwork(pod) && !config.allowHostNetwork()) {
      refusalReason = Names.REASON_HOST_NETWORK;
      refusal =
          "Pod "
              + pod.getMetadata().getName()
              + " uses the node's network (hostNetwork: true): a capture of "
              + "its IP would record all traffic of node "
              + config.nodeName()
              + ", every Pod's and tenant's, so it is "
              + "refused; an admin can allow such captures by setting ALLOW_HOST_NETWORK=true on the podcapture agent";
    }
    if (refusal != null) {
      return failed(in, stop(held, refusalReason), null, refusalReason, refusal, null);
    }

    List<String> ips = podIPs(pod);
    if (ips.isEmpty()) {
      return new Plan(
          List.of(),
          in.state(),
          notRunning(
              cr,
              Names.PHASE_PENDING,
              Names.REASON_WAITING_FOR_IP,
              "waiting for Pod "
                  + pod.getMetadata().getName()
                  + " to get an IP address; the capture starts once it "
                  + "has one",
              null,
              in.now()),
          List.of(),
          null);
    }
    PodCaptureSpec spec = cr.getSpec();
    int fileSize = Optional.ofNullable(spec.getFileSizeMB()).orElse(DEFAULT_FILE_SIZE_MB);
    CaptureRequest request =
        new CaptureRequest(
            key(cr),
            ips,
            maxFiles,
            fileSize,
            blankToNull(spec.getFilter()),
            spec.getPacketCount(),
            spec.getDurationSeconds() == null
                ? null
                : Duration.ofSeconds(spec.getDurationSeconds()),
            Optional.ofNullable(spec.getSnapLength()).orElse(0));
    CaptureSnapshot snapshot = in.snapshot();
    Long generation = cr.getMetadata().getGeneration();

    boolean running = snapshot != null && snapshot.running();
    if (snapshot != null && snapshot.completed() && request.equals(snapshot.request())) {
      Completed done =
          new Completed(generation, in.now().truncatedTo(ChronoUnit.SECONDS).toString());
      return completed(in, List.of(new Action.Park(maxFiles, fileSize)), done, snapshot);
    }
    if (in.state() instanceof Failed failed && failed.request().equals(request)) {
      List<Action> actions =
          failed.keepsFiles() ? List.of(new Action.Park(maxFiles, fileSize)) : List.of();
      return failed(
          in,
          actions,
          failed,
          failed.reason(),
          failed.message(),
          failed.keepsFiles() ? snapshot : null);
    }

    // tcpdump ended on its own: wait out the backoff, then restart; give up after MAX_RESTARTS.
    if (snapshot != null
        && !running
        && snapshot.exitCode() != null
        && !snapshot.completed()
        && request.equals(snapshot.request())) {
      String exit = exitText(snapshot);
      if (snapshot.restartCount() >= config.maxRestarts()) {
        String message =
            exit
                + "; gave up after "
                + snapshot.restartCount()
                + " restarts (MAX_RESTARTS); "
                + retryHint(managed);
        Failed failed = new Failed(request, Names.REASON_GAVE_UP, message, true);
        return failed(
            in,
            List.of(new Action.Park(maxFiles, fileSize)),
            failed,
            failed.reason(),
            message,
            snapshot);
      }
      BackingOff backoff =
          in.state() instanceof BackingOff b && !b.startFailed() && b.request().equals(request)
              ? b
              : new BackingOff(
                  request,
                  snapshot.restartCount(),
                  in.now().plus(Backoff.after(snapshot.restartCount())),
                  false,
                  exit);
      Duration left = Duration.between(in.now(), backoff.retryAt());
      if (left.compareTo(Duration.ZERO) > 0) {
        String message =
            exit
                + "; restart "
                + (snapshot.restartCount() + 1)
                + " of "
                + config.maxRestarts()
                + " in "
                + Math.max(1, ceilSeconds(left))
                + "s";
        PodCaptureStatus status =
            notRunning(
                cr, Names.PHASE_PENDING, Names.REASON_TCPDUMP_EXITED, message, snapshot, in.now());
        return new Plan(
            List.of(), backoff, status, warnIfNew(cr, Names.REASON_TCPDUMP_EXITED, exit), left);
      }
    }
    // A start that failed is tried again only after its backoff: our own status write must not
    // bring it on early.
    if (in.state() instanceof BackingOff b && b.startFailed() && b.request().equals(request)) {
      Duration left = Duration.between(in.now(), b.retryAt());
      if (left.compareTo(Duration.ZERO) > 0) {
        PodCaptureStatus status =
            notRunning(
                cr, Names.PHASE_PENDING, Names.REASON_START_FAILED, b.message(), null, in.now());
        return new Plan(
            List.of(), b, status, warnIfNew(cr, Names.REASON_START_FAILED, b.message()), left);
      }
    }

    NodeBudget.Verdict room = in.budget().check(key(cr), maxFiles, fileSize);
    if (!room.fits()) {
      List<Action> actions = stop(snapshot != null, room.reason());
      if (room.waiting()) {
        return new Plan(
            actions,
            new Waiting(room.reason(), room.message()),
            notRunning(cr, Names.PHASE_PENDING, room.reason(), room.message(), null, in.now()),
            List.of(),
            null);
      }
      return failed(in, actions, null, room.reason(), room.message(), null);
    }

    if (running && request.equals(snapshot.request())) {
      if (snapshot.storageProblem() != null) {
        String message =
            snapshot.storageProblem()
                + "; tcpdump was stopped and the files captured so far are "
                + "kept; free space on the node, then "
                + (managed
                    ? "remove and re-add the annotation"
                    : "change the PodCapture's spec or re-create it")
                + " to capture again";
        Failed failed = new Failed(request, Names.REASON_DISK_FULL, message, true);
        return failed(
            in,
            List.of(new Action.StopKeepingFiles(), new Action.Park(maxFiles, fileSize)),
            failed,
            failed.reason(),
            message,
            snapshot);
      }
      PodCaptureStatus status =
          DesiredStatus.running(cr, config.nodeName(), config.agentPod(), snapshot, in.now());
      return new Plan(List.of(), new Running(request), status, List.of(), config.statusRefresh());
    }

    List<Action> actions = new ArrayList<>();
    if (!hasFinalizer(cr)) {
      actions.add(new Action.AddFinalizer());
    }
    actions.add(new Action.Start(request));
    return new Plan(actions, in.state(), null, List.of(), null);
  }

  /**
   * The completed run this generation of the spec already had, from memory or, after a restart, the
   * status.
   */
  private static Completed completedRun(Inputs in) {
    Long generation = in.cr().getMetadata().getGeneration();
    if (in.state() instanceof Completed done && Objects.equals(done.generation(), generation)) {
      return done;
    }
    PodCaptureStatus status = in.cr().getStatus();
    boolean running = in.snapshot() != null && in.snapshot().running();
    if (in.state() == null
        && !running
        && status != null
        && Names.PHASE_COMPLETED.equals(status.getPhase())
        && Objects.equals(status.getObservedGeneration(), generation)) {
      return new Completed(generation, status.getCompletionTime());
    }
    return null;
  }

  // --- plans
  // ------------------------------------------------------------------------------------------------

  private Plan deleting(Inputs in, boolean managed, boolean held) {
    PodCapture cr = in.cr();
    List<Action> actions = new ArrayList<>(stop(held || hasFinalizer(cr), Names.REASON_CR_DELETED));
    if (!hasFinalizer(cr)) {
      return new Plan(actions, null, null, List.of(), null);
    }
    List<Note> notes = new ArrayList<>();
    Pod pod = in.pod();
    // A PodCapture the user (or its TTL) deleted ends the capture for good: the annotation goes
    // too, so nothing
    // creates it again. One the agent deleted itself (the annotation or the Pod went) leaves the
    // Pod alone: an
    // annotation added again meanwhile starts a new capture.
    if (managed
        && !in.deletedByAgent()
        && pod != null
        && annotation(pod) != null
        && !terminating(pod)) {
      actions.add(new Action.RemoveAnnotation());
    }
    actions.add(new Action.RemoveFinalizer());
    return new Plan(actions, null, null, notes, null);
  }

  private Plan completed(
      Inputs in, List<Action> actions, Completed done, CaptureSnapshot snapshot) {
    PodCaptureStatus status =
        DesiredStatus.completed(
            in.cr(), config.nodeName(), config.agentPod(), snapshot, done.at(), in.now());
    List<Note> notes =
        Names.REASON_COMPLETED.equals(readyReason(in.cr()))
            ? List.of()
            : List.of(new Note(false, Names.REASON_COMPLETED, status.getMessage()));
    return withTtl(in, new Plan(actions, done, status, notes, null), done.at());
  }

  private Plan failed(
      Inputs in,
      List<Action> actions,
      CaptureState next,
      String reason,
      String message,
      CaptureSnapshot snapshot) {
    PodCaptureStatus status =
        notRunning(in.cr(), Names.PHASE_FAILED, reason, message, snapshot, in.now());
    Plan plan = new Plan(actions, next, status, warnIfNew(in.cr(), reason, message), null);
    return withTtl(in, plan, status.getCompletionTime());
  }

  /** A finished PodCapture with a TTL is deleted once it ran out, and passed again when it will. */
  private Plan withTtl(Inputs in, Plan plan, String finishedAt) {
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
      List<Action> actions = new ArrayList<>(plan.actions());
      actions.add(new Action.Delete());
      return new Plan(actions, plan.next(), null, List.of(), null);
    }
    Duration left = Duration.between(in.now(), expiry);
    Duration requeue =
        plan.requeueAfter() == null || left.compareTo(plan.requeueAfter()) < 0
            ? left
            : plan.requeueAfter();
    return new Plan(plan.actions(), plan.next(), plan.status(), plan.notes(), requeue);
  }

  private PodCaptureStatus notRunning(
      PodCapture cr,
      String phase,
      String reason,
      String message,
      CaptureSnapshot snapshot,
      Instant now) {
    return DesiredStatus.notRunning(
        cr, config.nodeName(), config.agentPod(), phase, reason, message, snapshot, now);
  }

  /**
   * A warning Event when the Ready reason changes to this one (not on every pass that repeats it).
   */
  private static List<Note> warnIfNew(PodCapture cr, String reason, String message) {
    return reason.equals(readyReason(cr)) ? List.of() : List.of(new Note(true, reason, message));
  }

  private static List<Action> stop(boolean held, String why) {
    return held ? List.of(new Action.Remove(why)) : List.of();
  }

  // --- reading the objects
  // ---------------------------------------------------------------------------------

  static CaptureKey key(PodCapture cr) {
    return new CaptureKey(cr.getMetadata().getNamespace(), cr.getMetadata().getName());
  }

  static String readyReason(PodCapture cr) {
    PodCaptureStatus status = cr.getStatus();
    if (status == null || status.getConditions() == null) {
      return null;
    }
    return status.getConditions().stream()
        .filter(c -> Names.CONDITION_READY.equals(c.getType()))
        .map(io.fabric8.kubernetes.api.model.Condition::getReason)
        .findFirst()
        .orElse(null);
  }

  static boolean managedByAnnotation(PodCapture cr) {
    return Names.MANAGED_BY.equals(label(cr, Names.LABEL_MANAGED_BY));
  }

  static boolean hasFinalizer(PodCapture cr) {
    List<String> finalizers = cr.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains(Names.FINALIZER);
  }

  static String annotation(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(Names.ANNOTATION);
  }

  static boolean terminating(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return pod.getMetadata().getDeletionTimestamp() != null
        || "Succeeded".equals(phase)
        || "Failed".equals(phase);
  }

  static boolean hostNetwork(Pod pod) {
    return pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork());
  }

  static List<String> podIPs(Pod pod) {
    List<String> ips = new ArrayList<>();
    if (pod.getStatus() == null) {
      return ips;
    }
    if (pod.getStatus().getPodIPs() != null) {
      for (PodIP ip : pod.getStatus().getPodIPs()) {
        if (ip.getIp() != null && !ip.getIp().isBlank() && !ips.contains(ip.getIp())) {
          ips.add(ip.getIp());
        }
      }
    }
    String single = pod.getStatus().getPodIP();
    if (ips.isEmpty() && single != null && !single.isBlank()) {
      ips.add(single);
    }
    return ips;
  }

  static String label(HasMetadata o, String name) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return labels == null ? null : labels.get(name);
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

  private static long ceilSeconds(Duration d) {
    return (d.toMillis() + 999) / 1000;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
