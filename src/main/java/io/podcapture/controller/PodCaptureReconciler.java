package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureException;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.PacketCapturer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One level-based, idempotent pass over one {@code namespace/name} key: it reads the Pod and the PodCapture from
 * the informer caches, makes the capture match the Pod's annotation, and writes the PodCapture's status when it
 * changed. It never modifies a cached object: it copies first.
 */
public final class PodCaptureReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(PodCaptureReconciler.class);
  private static final int DEFAULT_FILE_SIZE_MB = 1;
  private static final Duration FIRST_RESTART_DELAY = Duration.ofSeconds(1);
  private static final Duration MAX_RESTART_DELAY = Duration.ofSeconds(60);

  private final KubernetesClient client;
  private final Lister<Pod> pods;
  private final Lister<PodCapture> captures;
  private final PacketCapturer capturer;
  private final EventRecorder events;
  private final AgentConfig config;
  private final Clock clock;
  private final Admission admission;
  private final Consumer<CaptureKey> requeue;
  private final ControllerMetrics metrics;
  /** When a status carrying only new sizes was last written, per key: sizes refresh once per interval. */
  private final Map<CaptureKey, Instant> lastSizeWrite = new ConcurrentHashMap<>();
  /** When an unexpected tcpdump exit was first seen, per key, for the restart backoff. */
  private final Map<CaptureKey, Instant> exitSeen = new ConcurrentHashMap<>();
  /** Failed start attempts in a row, per key: how many, for which request, and when the next may be made. */
  private final Map<CaptureKey, StartFailure> startFailures = new ConcurrentHashMap<>();

  /** {@code attempts} failed starts of {@code request}; none again before {@code retryAt}, none at all past the bound. */
  private record StartFailure(CaptureRequest request, int attempts, Instant retryAt, String message) {
  }
  /**
   * What this agent last wrote, per key. The informer cache lags behind our own writes by a few milliseconds; a
   * pass in between must not take the stale copy for the truth and write (or create) the same thing again.
   */
  private final Map<CaptureKey, Written> recent = new ConcurrentHashMap<>();
  /** Captures stopped because their disk is full, with the message: kept (files too) until the request changes. */
  private final Map<CaptureKey, Halted> halted = new ConcurrentHashMap<>();

  private record Halted(CaptureRequest request, String message) {
  }

  /** Keys waiting for a slot or disk budget: queued again whenever a capture ends. */
  private final Set<CaptureKey> waiting = ConcurrentHashMap.newKeySet();
  /**
   * UIDs of PodCaptures this agent deleted itself (because the annotation or the Pod went), with when. Such a
   * deletion is not a user's "stop this capture": an annotation added again meanwhile must stay and start a new
   * capture, not be removed. Entries are kept for a while after the finalizer is released, because a pass may
   * still see the deleted object in a lagging cache; they expire after {@link #DELETED_MEMORY}.
   */
  private final Map<String, Instant> deletedByAgent = new ConcurrentHashMap<>();
  private static final Duration DELETED_MEMORY = Duration.ofMinutes(10);

  private record Written(PodCapture object, Instant at) {
  }

  private static final Duration CACHE_LAG = Duration.ofSeconds(5);

  /** What the worker should do with the key after this pass. */
  public record Result(Duration requeueAfter) {
    static final Result DONE = new Result(null);

    static Result after(Duration d) {
      return new Result(d);
    }
  }

  public PodCaptureReconciler(KubernetesClient client, Lister<Pod> pods, Lister<PodCapture> captures,
      PacketCapturer capturer, EventRecorder events, AgentConfig config, Clock clock,
      Consumer<CaptureKey> requeue, ControllerMetrics metrics) {
    this.client = client;
    this.metrics = metrics;
    this.pods = pods;
    this.captures = captures;
    this.capturer = capturer;
    this.events = events;
    this.config = config;
    this.clock = clock;
    this.requeue = requeue;
    this.admission = new Admission(config.maxCaptures(), config.diskBudgetMB());
  }

  public Result reconcile(CaptureKey key) {
    Pod pod = pods.namespace(key.namespace()).get(key.name());
    if (pod != null && !config.nodeName().equals(pod.getSpec().getNodeName())) {
      pod = null; // an API server may send Pods of other nodes; this agent acts only on its own
    }
    PodCapture cr = captures.namespace(key.namespace()).get(key.name());
    Written mine = recent.get(key);
    if (mine != null && mine.at().plus(CACHE_LAG).isBefore(clock.instant())) {
      recent.remove(key);
      mine = null;
    }
    if (cr == null && mine != null && mine.object() != null) {
      cr = mine.object(); // created a moment ago, not in the cache yet
    }

    if (cr != null && cr.getMetadata().getDeletionTimestamp() != null) {
      return finishDeletion(key, pod, cr);
    }
    if (pod == null) {
      return podGone(key, cr);
    }
    String raw = annotation(pod);
    if (raw == null) {
      return notAnnotated(key, pod, cr);
    }
    if (terminating(pod)) {
      stopCapture(key, pod, Names.STOP_POD_TERMINATING, "Pod is terminating");
      deleteOwnedResource(key, cr);
      return Result.DONE;
    }
    return annotated(key, pod, cr, raw);
  }

  // --- the Pod is on this node and carries the annotation -------------------------------------------------

  private Result annotated(CaptureKey key, Pod pod, PodCapture cr, String raw) {
    AnnotationValue value = AnnotationValue.parse(raw, config.maxFiles());
    cr = ensureResource(pod, cr, value);
    if (cr == null) {
      return Result.after(Duration.ofMillis(200)); // created concurrently; the cache catches up shortly
    }
    if (!value.valid()) {
      stopCapture(key, pod, Names.REASON_INVALID_ANNOTATION, "annotation is invalid");
      return fail(key, pod, cr, Names.REASON_INVALID_ANNOTATION, value.error(), null);
    }
    if (config.denyNamespaces().contains(key.namespace())) {
      stopCapture(key, pod, Names.REASON_NAMESPACE_DENIED, "namespace is denied");
      return fail(key, pod, cr, Names.REASON_NAMESPACE_DENIED, "captures are refused in namespace "
          + key.namespace() + " by this agent's DENY_NAMESPACES setting (" + String.join(",",
          config.denyNamespaces().stream().sorted().toList()) + ")", null);
    }
    List<String> ips = podIPs(pod);
    if (ips.isEmpty()) {
      return pending(key, cr, Names.REASON_WAITING_FOR_IP,
          "waiting for Pod " + key.name() + " to get an IP address; the capture starts once it has one", null);
    }
    int fileSize = Optional.ofNullable(cr.getSpec().getFileSizeMB()).orElse(DEFAULT_FILE_SIZE_MB);
    CaptureRequest request = new CaptureRequest(key, ips, value.maxFiles(), fileSize);

    // A start that failed is tried again only after its backoff (our own status write must not bring it on
    // early), and not at all once the attempts are spent: the user re-adds the annotation, or changes it.
    StartFailure failure = startFailures.get(key);
    if (failure != null && !failure.request().equals(request)) {
      startFailures.remove(key);
    } else if (failure != null) {
      if (failure.attempts() > config.maxRestarts()) {
        return fail(key, pod, cr, Names.REASON_START_FAILED, failure.message(), null);
      }
      Duration left = Duration.between(clock.instant(), failure.retryAt());
      if (left.compareTo(Duration.ZERO) > 0) {
        return Result.after(left);
      }
    }

    // Stopped for good but keeping its files (disk full, restarts spent): no slot, only its disk budget, until
    // the annotation changes or goes.
    Halted stopped = halted.get(key);
    if (stopped != null && stopped.request().equals(request)) {
      park(key);
      return fail(key, pod, cr, Names.REASON_DISK_FULL, stopped.message(), capturer.snapshot(key).orElse(null));
    }
    halted.remove(key);
    Optional<CaptureSnapshot> held = capturer.snapshot(key);
    if (held.isPresent() && !held.get().running() && held.get().exitCode() != null
        && held.get().request().equals(request) && held.get().restartCount() >= config.maxRestarts()) {
      park(key);
      return gaveUp(key, pod, cr, held.get());
    }

    Admission.Decision decision = admission.reserve(key, request.maxFiles(), request.fileSizeMB(),
        config.nodeName());
    if (!decision.admitted()) {
      stopCapture(key, pod, decision.reason(), "over the node's limits");
      if (decision.waiting()) {
        waiting.add(key);
        return pending(key, cr, decision.reason(), decision.message(), null);
      }
      return fail(key, pod, cr, decision.reason(), decision.message(), null);
    }
    waiting.remove(key);

    if (held.isPresent() && !held.get().running() && held.get().request().equals(request)) {
      Result backoff = restartBackoff(key, pod, cr, held.get());
      if (backoff != null) {
        return backoff;
      }
    }
    boolean wasRunning = held.isPresent() && held.get().running();
    CaptureSnapshot snapshot;
    try {
      snapshot = capturer.ensure(request);
    } catch (CaptureException e) {
      return startFailed(key, pod, cr, request, e);
    }
    startFailures.remove(key);
    exitSeen.remove(key);
    if (snapshot.running() && snapshot.storageProblem() != null) {
      return diskFull(key, pod, cr, request, snapshot);
    }
    boolean started = !wasRunning || !held.get().request().equals(request);
    if (started) {
      metrics.captureStarted();
      LOG.info("PodCapture({}) started tcpdump: {} files of {} MB, filter {}", key, request.maxFiles(),
          request.fileSizeMB(), snapshot.filter());
      String message = "started capture into " + request.maxFiles() + " x " + request.fileSizeMB()
          + " MB files, filter: " + snapshot.filter();
      // On the Pod only: one Event more on the PodCapture would make a capture's lifecycle cost 7 writes, not 6.
      // Warnings go to both, so kubectl describe podcapture shows what went wrong.
      events.normal(pod, Names.REASON_STARTED, message);
    }
    writeStatus(key, cr, DesiredStatus.running(cr, config.nodeName(), config.agentPod(), snapshot, clock.instant()));
    return Result.after(config.statusRefresh());
  }

  /**
   * tcpdump runs but its disk is full: it would go on losing every packet without a word. Stop it, keep what it
   * captured (listed in the status, and its disk budget held), and say so; a changed or re-added annotation tries
   * again.
   */
  private Result diskFull(CaptureKey key, Pod pod, PodCapture cr, CaptureRequest request, CaptureSnapshot snapshot) {
    capturer.halt(key);
    String message = snapshot.storageProblem() + "; tcpdump was stopped and the files captured so far are kept; "
        + "free space on the node, then remove and re-add the annotation to capture again";
    halted.put(key, new Halted(request, message));
    park(key);
    return fail(key, pod, cr, Names.REASON_DISK_FULL, message, capturer.snapshot(key).orElse(null));
  }

  private Result gaveUp(CaptureKey key, Pod pod, PodCapture cr, CaptureSnapshot snapshot) {
    return fail(key, pod, cr, Names.REASON_GAVE_UP, exitText(snapshot) + "; gave up after "
        + snapshot.restartCount() + " restarts (MAX_RESTARTS); remove and re-add the annotation to try again",
        snapshot);
  }

  private static String exitText(CaptureSnapshot snapshot) {
    return "tcpdump " + (snapshot.exitReason() != null ? snapshot.exitReason()
        : "exited with code " + snapshot.exitCode()) + lastOutput(snapshot);
  }

  /** A capture that no longer runs gives its slot to one that waits, and keeps its disk budget. */
  private void park(CaptureKey key) {
    if (admission.park(key)) {
      waiting.forEach(requeue);
    }
  }

  /** For a tcpdump that ended on its own: wait out the backoff, or give up after MAX_RESTARTS; null = restart. */
  private Result restartBackoff(CaptureKey key, Pod pod, PodCapture cr, CaptureSnapshot snapshot) {
    String exit = exitText(snapshot);
    if (snapshot.restartCount() >= config.maxRestarts()) {
      park(key);
      return gaveUp(key, pod, cr, snapshot);
    }
    Instant seen = exitSeen.computeIfAbsent(key, k -> clock.instant());
    Duration delay = FIRST_RESTART_DELAY.multipliedBy(1L << Math.min(snapshot.restartCount(), 16));
    if (delay.compareTo(MAX_RESTART_DELAY) > 0) {
      delay = MAX_RESTART_DELAY;
    }
    Duration left = Duration.between(clock.instant(), seen.plus(delay));
    if (left.isNegative() || left.isZero()) {
      LOG.warn("PodCapture({}) restarting tcpdump (restart {}): {}", key, snapshot.restartCount() + 1, exit);
      metrics.tcpdumpRestarted();
      return null;
    }
    if (writeStatus(key, cr, DesiredStatus.notRunning(cr, config.nodeName(), config.agentPod(), Names.PHASE_PENDING,
        Names.REASON_TCPDUMP_EXITED, exit + "; restart " + (snapshot.restartCount() + 1) + " of "
            + config.maxRestarts() + " in " + Math.max(1, left.toSeconds()) + "s", snapshot, clock.instant()))) {
      events.warning(pod, Names.REASON_TCPDUMP_EXITED, exit);
      events.warning(cr, Names.REASON_TCPDUMP_EXITED, exit);
    }
    return Result.after(left);
  }

  private Result startFailed(CaptureKey key, Pod pod, PodCapture cr, CaptureRequest request, CaptureException e) {
    if (e.reason() == CaptureException.Reason.InvalidInput) {
      admission.release(key);
      return fail(key, pod, cr, Names.REASON_INVALID_INPUT, e.getMessage(), null);
    }
    StartFailure previous = startFailures.get(key);
    int attempts = (previous != null && previous.request().equals(request) ? previous.attempts() : 0) + 1;
    admission.release(key);
    if (attempts > config.maxRestarts()) {
      String message = "tcpdump could not start: " + e.getMessage() + "; gave up after " + attempts
          + " attempts; remove and re-add the annotation to try again";
      startFailures.put(key, new StartFailure(request, attempts, clock.instant(), message));
      return fail(key, pod, cr, Names.REASON_START_FAILED, message, null);
    }
    Duration delay = FIRST_RESTART_DELAY.multipliedBy(1L << Math.min(attempts - 1, 16));
    if (delay.compareTo(MAX_RESTART_DELAY) > 0) {
      delay = MAX_RESTART_DELAY;
    }
    LOG.warn("PodCapture({}) tcpdump could not start (attempt {}): {}", key, attempts, e.getMessage());
    String message = "tcpdump could not start: " + e.getMessage() + "; retrying in " + delay.toSeconds()
        + "s (attempt " + attempts + " of " + (config.maxRestarts() + 1) + ")";
    startFailures.put(key, new StartFailure(request, attempts, clock.instant().plus(delay), message));
    fail(key, pod, cr, Names.REASON_START_FAILED, message, null);
    return Result.after(delay);
  }

  private Result pending(CaptureKey key, PodCapture cr, String reason, String message, CaptureSnapshot snapshot) {
    writeStatus(key, cr, DesiredStatus.notRunning(cr, config.nodeName(), config.agentPod(), Names.PHASE_PENDING,
        reason, message, snapshot, clock.instant()));
    return Result.DONE;
  }

  private Result fail(CaptureKey key, Pod pod, PodCapture cr, String reason, String message,
      CaptureSnapshot snapshot) {
    boolean written = writeStatus(key, cr, DesiredStatus.notRunning(cr, config.nodeName(), config.agentPod(),
        Names.PHASE_FAILED, reason, message, snapshot, clock.instant()));
    if (written && pod != null) {
      metrics.captureFailed(reason);
      LOG.warn("PodCapture({}) failed: {}: {}", key, reason, message);
      events.warning(pod, reason, message);
      events.warning(cr, reason, message);
    }
    return Result.DONE;
  }

  /** Makes the PodCapture exist with our labels, finalizer, owner reference and the annotation's spec. */
  private PodCapture ensureResource(Pod pod, PodCapture cached, AnnotationValue value) {
    if (cached == null) {
      PodCapture cr = new PodCapture();
      cr.setMetadata(new ObjectMeta());
      cr.getMetadata().setName(pod.getMetadata().getName());
      cr.getMetadata().setNamespace(pod.getMetadata().getNamespace());
      applyOwnership(cr, pod);
      cr.setSpec(new PodCaptureSpec(pod.getMetadata().getName(), value.maxFiles(), DEFAULT_FILE_SIZE_MB));
      try {
        PodCapture created = client.resources(PodCapture.class).inNamespace(cr.getMetadata().getNamespace())
            .resource(cr).create();
        LOG.info("PodCapture({}/{}) created for annotated Pod", pod.getMetadata().getNamespace(),
            pod.getMetadata().getName());
        remember(created);
        return created;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 409) {
          return null;
        }
        throw e;
      }
    }
    PodCapture cr = copy(cached);
    applyOwnership(cr, pod);
    PodCaptureSpec spec = cr.getSpec() == null ? new PodCaptureSpec() : cr.getSpec();
    spec.setPodName(pod.getMetadata().getName());
    if (value.valid()) {
      spec.setMaxFiles(value.maxFiles());
    }
    if (spec.getFileSizeMB() == null) {
      spec.setFileSizeMB(DEFAULT_FILE_SIZE_MB);
    }
    cr.setSpec(spec);
    if (Objects.equals(cr.getMetadata(), cached.getMetadata()) && Objects.equals(spec, cached.getSpec())) {
      return cached;
    }
    LOG.info("PodCapture({}/{}) updated to follow the Pod annotation", pod.getMetadata().getNamespace(),
        pod.getMetadata().getName());
    PodCapture updated = client.resources(PodCapture.class).inNamespace(cr.getMetadata().getNamespace())
        .resource(cr).update();
    remember(updated);
    return updated;
  }

  private void remember(PodCapture written) {
    recent.put(new CaptureKey(written.getMetadata().getNamespace(), written.getMetadata().getName()),
        new Written(written, clock.instant()));
  }

  private void applyOwnership(PodCapture cr, Pod pod) {
    ObjectMeta meta = cr.getMetadata();
    Map<String, String> labels = new LinkedHashMap<>(Optional.ofNullable(meta.getLabels()).orElse(Map.of()));
    labels.put(Names.LABEL_MANAGED_BY, Names.MANAGED_BY);
    labels.put(Names.LABEL_NODE, config.nodeName());
    meta.setLabels(labels);
    List<String> finalizers = new ArrayList<>(Optional.ofNullable(meta.getFinalizers()).orElse(List.of()));
    if (!finalizers.contains(Names.FINALIZER)) {
      finalizers.add(Names.FINALIZER);
    }
    meta.setFinalizers(finalizers);
    List<OwnerReference> owners = new ArrayList<>(Optional.ofNullable(meta.getOwnerReferences()).orElse(List.of()));
    owners.removeIf(o -> "Pod".equals(o.getKind()) && "v1".equals(o.getApiVersion()));
    owners.add(new OwnerReferenceBuilder().withApiVersion("v1").withKind("Pod")
        .withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).build());
    meta.setOwnerReferences(owners);
  }

  // --- the annotation is gone, the Pod is gone, or the PodCapture is being deleted -------------------------

  private Result notAnnotated(CaptureKey key, Pod pod, PodCapture cr) {
    stopCapture(key, pod, Names.STOP_ANNOTATION_REMOVED, "annotation removed");
    if (cr == null) {
      return Result.DONE;
    }
    if (managedByUs(cr)) {
      deleteOwnedResource(key, cr);
      return Result.DONE;
    }
    // Created by hand: explain how captures start, and leave it alone otherwise.
    String message = "captures start from the Pod annotation, not from a PodCapture: run kubectl annotate pod "
        + key.name() + " -n " + key.namespace() + " " + Names.ANNOTATION + "=\"5\" (this PodCapture is then taken "
        + "over)";
    return fail(key, pod, cr, Names.REASON_NOT_ANNOTATED, message, null);
  }

  private Result podGone(CaptureKey key, PodCapture cr) {
    stopCapture(key, null, Names.STOP_POD_GONE, "Pod is gone from this node");
    if (cr != null && config.nodeName().equals(label(cr, Names.LABEL_NODE))) {
      deleteOwnedResource(key, cr);
    }
    return Result.DONE;
  }

  private Result finishDeletion(CaptureKey key, Pod pod, PodCapture cr) {
    List<String> finalizers = Optional.ofNullable(cr.getMetadata().getFinalizers()).orElse(List.of());
    if (!finalizers.contains(Names.FINALIZER)) {
      stopCapture(key, pod, Names.REASON_CR_DELETED, "PodCapture deleted");
      return Result.DONE;
    }
    boolean ours = pod != null || config.nodeName().equals(label(cr, Names.LABEL_NODE))
        || capturer.captures().contains(key);
    if (!ours) {
      return Result.DONE; // another node's agent holds this capture and releases the finalizer
    }
    String uid = cr.getMetadata().getUid();
    boolean byUser = uid == null || !deletedByAgent.containsKey(uid);
    stopCapture(key, pod, Names.REASON_CR_DELETED, "PodCapture deleted");
    if (byUser && pod != null && annotation(pod) != null && !terminating(pod)) {
      // A deleted PodCapture ends the capture for good: remove the annotation so nothing recreates it.
      // resource(pod) rather than withName(): the client then patches without reading the Pod first.
      client.pods().inNamespace(key.namespace()).resource(pod).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"metadata\":{\"annotations\":{\"" + Names.ANNOTATION + "\":null}}}");
      LOG.info("PodCapture({}) deleted: removed annotation {} from the Pod", key, Names.ANNOTATION);
      events.normal(pod, Names.REASON_CR_DELETED, "PodCapture deleted: capture stopped, files deleted, annotation "
          + Names.ANNOTATION + " removed");
    }
    List<String> remaining = new ArrayList<>(finalizers);
    remaining.remove(Names.FINALIZER);
    // A JSON patch that first tests the list it replaces: another controller's finalizer added meanwhile makes
    // the patch fail (and the pass retry) instead of being dropped.
    String patch = Serialization.asJson(List.of(
        Map.of("op", "test", "path", "/metadata/finalizers", "value", finalizers),
        Map.of("op", "replace", "path", "/metadata/finalizers", "value", remaining)));
    try {
      client.resources(PodCapture.class).inNamespace(key.namespace()).resource(cr)
          .patch(PatchContext.of(PatchType.JSON), patch);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
    LOG.info("PodCapture({}) finalizer released", key);
    return Result.DONE;
  }

  private void deleteOwnedResource(CaptureKey key, PodCapture cr) {
    if (cr == null || !managedByUs(cr) || cr.getMetadata().getDeletionTimestamp() != null) {
      return;
    }
    String uid = cr.getMetadata().getUid();
    if (uid != null) {
      Instant now = clock.instant();
      deletedByAgent.values().removeIf(at -> at.plus(DELETED_MEMORY).isBefore(now));
      deletedByAgent.put(uid, now); // before the call: its finalizer pass may run before delete() returns
    }
    try {
      client.resources(PodCapture.class).inNamespace(key.namespace()).withName(key.name()).delete();
      LOG.info("PodCapture({}) deleted", key);
    } catch (KubernetesClientException e) {
      if (uid != null) {
        deletedByAgent.remove(uid);
      }
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /** Stops tcpdump and deletes the files if this agent holds the capture; frees its slot for waiting ones. */
  private void stopCapture(CaptureKey key, Pod pod, String reason, String why) {
    // A capture whose restart failed is no longer held, but its earlier files (moved to previous/) are still
    // on disk: they go too.
    boolean held = capturer.captures().contains(key) || startFailures.containsKey(key);
    if (held) {
      capturer.stop(key);
      metrics.captureStopped(reason);
      LOG.info("PodCapture({}) stopped tcpdump and deleted its files: {}", key, why);
      if (pod != null) {
        events.normal(pod, Names.REASON_STOPPED, "capture stopped and files deleted: " + why);
      }
    }
    exitSeen.remove(key);
    startFailures.remove(key);
    halted.remove(key);
    lastSizeWrite.remove(key);
    recent.remove(key);
    waiting.remove(key);
    if (admission.release(key) || held) {
      waiting.forEach(requeue);
    }
  }

  // --- status -----------------------------------------------------------------------------------------------

  /** Writes the status if it changed (sizes at most once per refresh interval); returns whether it wrote. */
  private boolean writeStatus(CaptureKey key, PodCapture cr, PodCaptureStatus desired) {
    DesiredStatus.Change change = DesiredStatus.compare(cr.getStatus(), desired);
    Instant now = clock.instant();
    if (change == DesiredStatus.Change.NONE) {
      return false;
    }
    Written mine = recent.get(key);
    if (mine != null && mine.object().getStatus() != null && mine.object().getStatus().equals(desired)
        && mine.at().plus(CACHE_LAG).isAfter(now)) {
      return false; // we wrote exactly this a moment ago; the cache has not caught up yet
    }
    if (change == DesiredStatus.Change.SIZES) {
      Instant last = lastSizeWrite.get(key);
      if (last != null && last.plus(config.statusRefresh()).isAfter(now)) {
        return false;
      }
    }
    PodCapture copy = copy(cr);
    copy.setStatus(desired);
    PodCapture written = client.resources(PodCapture.class).inNamespace(key.namespace()).resource(copy)
        .updateStatus();
    remember(written);
    lastSizeWrite.put(key, now);
    LOG.debug("PodCapture({}) status written: {} {}", key, desired.getPhase(), desired.getMessage());
    return true;
  }

  // --- helpers ----------------------------------------------------------------------------------------------

  /** Tells the reconciler that the capture layer no longer holds these keys' captures (start-up clean-up). */
  public int waitingCount() {
    return waiting.size();
  }

  public int capturesInUse() {
    return admission.inUse();
  }

  static String annotation(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(Names.ANNOTATION);
  }

  static boolean terminating(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return pod.getMetadata().getDeletionTimestamp() != null || "Succeeded".equals(phase) || "Failed".equals(phase);
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

  static boolean managedByUs(PodCapture cr) {
    return Names.MANAGED_BY.equals(label(cr, Names.LABEL_MANAGED_BY));
  }

  private static String label(HasMetadata o, String name) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return labels == null ? null : labels.get(name);
  }

  private static String lastOutput(CaptureSnapshot snapshot) {
    String out = snapshot.lastOutput();
    return out == null || out.isBlank() ? "" : ": " + out.strip().replace('\n', ' ');
  }

  private static PodCapture copy(PodCapture cr) {
    return Serialization.clone(cr);
  }
}
