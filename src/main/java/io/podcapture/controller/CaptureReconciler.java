package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureException;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.controller.CaptureDecision.Action;
import io.podcapture.controller.CaptureDecision.Plan;
import io.podcapture.controller.CaptureState.BackingOff;
import io.podcapture.controller.CaptureState.Failed;
import io.podcapture.controller.CaptureState.Running;
import io.podcapture.controller.CaptureState.Waiting;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass over one PodCapture of this node: read it and its Pod from the caches, {@link
 * CaptureDecision#decide decide}, then act: the capture layer first, then one status write, then
 * Events. A start is the one action whose outcome the status depends on, so after a start the pass
 * decides once more. It never modifies a cached object.
 */
final class CaptureReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(CaptureReconciler.class);
  private static final Duration CACHE_LAG_RETRY = Duration.ofSeconds(1);

  private final KubernetesClient client;
  private final Lister<Pod> pods;
  private final Lister<PodCapture> captures;
  private final PacketCapturer capturer;
  private final EventRecorder events;
  private final AgentConfig config;
  private final Clock clock;
  private final NodeBudget budget;
  private final CaptureDecision decision;
  private final Writes writes;
  private final AgentDeletions deletions;
  private final Consumer<CaptureKey> requeue;
  private final ControllerMetrics metrics;

  /** Each capture's state, the one place the agent remembers a capture between passes. */
  private final Map<CaptureKey, CaptureState> states = new ConcurrentHashMap<>();

  /** When to pass over the key again; null: only when something changes. */
  record Result(Duration requeueAfter) {
    static final Result DONE = new Result(null);
  }

  CaptureReconciler(
      KubernetesClient client,
      Lister<Pod> pods,
      Lister<PodCapture> captures,
      PacketCapturer capturer,
      EventRecorder events,
      AgentConfig config,
      Clock clock,
      Writes writes,
      AgentDeletions deletions,
      Consumer<CaptureKey> requeue,
      ControllerMetrics metrics) {
    this.client = client;
    this.pods = pods;
    this.captures = captures;
    this.capturer = capturer;
    this.events = events;
    this.config = config;
    this.clock = clock;
    this.writes = writes;
    this.deletions = deletions;
    this.requeue = requeue;
    this.metrics = metrics;
    this.budget = new NodeBudget(config.maxCaptures(), config.diskBudgetMB());
    this.decision = new CaptureDecision(config);
  }

  Result reconcile(CaptureKey key) {
    PodCapture cached = captures.namespace(key.namespace()).get(key.name());
    PodCapture cr = writes.freshest(key, cached);
    Result result = pass(key, cr);
    if (cached == null && cr != null) {
      // Went by our own recent write, not the cache: look again once the cache has caught up, as
      // the object may
      // be gone by then without an event left to bring it back here.
      Duration again = result.requeueAfter();
      return new Result(
          again != null && again.compareTo(Writes.RECHECK_AFTER_LAG) < 0
              ? again
              : Writes.RECHECK_AFTER_LAG);
    }
    return result;
  }

  private Result pass(CaptureKey key, PodCapture cr) {
    if (cr == null) {
      // Gone, or no longer labelled with this node: nothing of it may stay here.
      remove(key, null, Names.REASON_CR_DELETED);
      return Result.DONE;
    }
    Pod pod = podOf(cr);
    for (int round = 0; ; round++) {
      Plan plan =
          decision.decide(
              new CaptureDecision.Inputs(
                  cr,
                  pod,
                  states.get(key),
                  capturer.snapshot(key).orElse(null),
                  budget.view(config.nodeName()),
                  deletions.contains(cr.getMetadata().getUid()),
                  clock.instant()));
      Outcome outcome = act(key, cr, pod, plan);
      if (outcome.retryAfter() != null) {
        return new Result(outcome.retryAfter());
      }
      cr = outcome.cr();
      if (outcome.decideAgain() && round < 2) {
        continue;
      }
      if (plan.next() == null) {
        states.remove(key);
      } else {
        states.put(key, plan.next());
      }
      boolean written = plan.status() != null && writes.status(cr, plan.status());
      if (written && Names.PHASE_FAILED.equals(plan.status().getPhase())) {
        metrics.captureFailed(plan.status().getConditions().get(0).getReason());
      }
      if (plan.status() == null || written) {
        for (CaptureDecision.Note note : plan.notes()) {
          tell(cr, pod, note);
        }
      }
      return new Result(plan.requeueAfter());
    }
  }

  /**
   * What acting on a plan led to: the PodCapture as it is now, whether a start makes the pass
   * decide again, or a wait before the next pass (an action could not be done yet).
   */
  private record Outcome(PodCapture cr, boolean decideAgain, Duration retryAfter) {}

  private Outcome act(CaptureKey key, PodCapture cr, Pod pod, Plan plan) {
    boolean decideAgain = false;
    for (Action action : plan.actions()) {
      if (action instanceof Action.AddFinalizer) {
        cr = addFinalizer(cr);
      } else if (action instanceof Action.Start start) {
        start(key, cr, pod, start.request());
        decideAgain = true;
      } else if (action instanceof Action.Remove remove) {
        remove(key, pod, remove.why());
      } else if (action instanceof Action.StopKeepingFiles) {
        capturer.stopKeepingFiles(key);
      } else if (action instanceof Action.Park park) {
        if (budget.park(key, park.maxFiles(), park.fileSizeMB())) {
          wakeWaiting();
        }
      } else if (action instanceof Action.RemoveAnnotation) {
        removeAnnotation(key, pod);
      } else if (action instanceof Action.RemoveFinalizer) {
        removeFinalizer(key, cr);
      } else if (action instanceof Action.Unclaim) {
        if (!unclaim(key, cr)) {
          return new Outcome(cr, false, CACHE_LAG_RETRY);
        }
      } else if (action instanceof Action.Delete) {
        delete(key, cr);
      }
    }
    return new Outcome(cr, decideAgain, null);
  }

  private void delete(CaptureKey key, PodCapture cr) {
    LOG.info(
        "PodCapture({}) finished and its ttlSecondsAfterFinished ({}s) ran out: deleting it",
        key,
        cr.getSpec().getTtlSecondsAfterFinished());
    try {
      client.resources(PodCapture.class).inNamespace(key.namespace()).withName(key.name()).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  // --- the capture layer
  // ------------------------------------------------------------------------------------

  /**
   * Reserves room and starts tcpdump; the state records the outcome, which the next decision reads.
   */
  private void start(CaptureKey key, PodCapture cr, Pod pod, CaptureRequest request) {
    if (!budget.reserve(key, request.maxFiles(), request.fileSizeMB(), config.nodeName()).fits()) {
      return; // another worker took the room since the decision: the next decision says Waiting
    }
    CaptureSnapshot before = capturer.snapshot(key).orElse(null);
    CaptureSnapshot snapshot;
    try {
      snapshot = capturer.ensure(request);
    } catch (CaptureException e) {
      startFailed(key, request, e);
      return;
    }
    states.put(key, new Running(request));
    metrics.captureStarted();
    if (before != null
        && !before.running()
        && before.exitCode() != null
        && request.equals(before.request())) {
      metrics.tcpdumpRestarted();
      LOG.warn(
          "PodCapture({}) restarted tcpdump (restart {}): {}",
          key,
          snapshot.restartCount(),
          CaptureDecision.exitText(before));
    }
    LOG.info(
        "PodCapture({}) started tcpdump: {} files of {} MB, filter {}",
        key,
        request.maxFiles(),
        request.fileSizeMB(),
        snapshot.filter());
    String message =
        "started capture into "
            + request.maxFiles()
            + " x "
            + request.fileSizeMB()
            + " MB files, filter: "
            + snapshot.filter();
    // One Event per start, on the Pod for the annotation's capture (where its user looks) and on
    // the PodCapture
    // otherwise: one Event more would make an annotation capture's lifecycle cost 7 writes, not 6.
    if (CaptureDecision.managedByAnnotation(cr) && pod != null) {
      events.normal(pod, Names.REASON_STARTED, message);
    } else {
      events.normal(cr, Names.REASON_STARTED, message);
    }
  }

  private void startFailed(CaptureKey key, CaptureRequest request, CaptureException e) {
    if (budget.release(key)) {
      wakeWaiting();
    }
    boolean managed = CaptureDecision.managedByAnnotation(captureOrStub(key));
    if (e.reason() == CaptureException.Reason.InvalidFilter
        || e.reason() == CaptureException.Reason.InvalidInput) {
      String reason =
          e.reason() == CaptureException.Reason.InvalidFilter
              ? Names.REASON_INVALID_FILTER
              : Names.REASON_INVALID_INPUT;
      LOG.warn("PodCapture({}) refused: {}: {}", key, reason, e.getMessage());
      states.put(key, new Failed(request, reason, e.getMessage(), false));
      return;
    }
    int attempts =
        (states.get(key) instanceof BackingOff b && b.startFailed() && b.request().equals(request)
                ? b.attempts()
                : 0)
            + 1;
    if (attempts > config.maxRestarts()) {
      states.put(
          key,
          new Failed(
              request,
              Names.REASON_START_FAILED,
              "tcpdump could not start: "
                  + e.getMessage()
                  + "; gave up after "
                  + attempts
                  + " attempts; "
                  + CaptureDecision.retryHint(managed),
              false));
      return;
    }
    Duration delay = Backoff.after(attempts - 1);
    LOG.warn(
        "PodCapture({}) tcpdump could not start (attempt {}): {}", key, attempts, e.getMessage());
    states.put(
        key,
        new BackingOff(
            request,
            attempts,
            clock.instant().plus(delay),
            true,
            "tcpdump could not start: "
                + e.getMessage()
                + "; retrying in "
                + delay.toSeconds()
                + "s (attempt "
                + attempts
                + " of "
                + (config.maxRestarts() + 1)
                + ")"));
  }

  private PodCapture captureOrStub(CaptureKey key) {
    PodCapture cr = captures.namespace(key.namespace()).get(key.name());
    if (cr == null) {
      cr = new PodCapture();
      cr.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
    }
    return cr;
  }

  /**
   * Removes the capture (tcpdump stopped, files deleted); frees its room for waiting ones and
   * forgets it.
   */
  private void remove(CaptureKey key, Pod pod, String why) {
    boolean held = capturer.captures().contains(key) || states.containsKey(key);
    // Harmless when absent, and it also deletes files the capture layer no longer holds (a failed
    // restart, or a
    // capture completed before an agent restart).
    capturer.remove(key);
    if (held) {
      metrics.captureStopped(why);
      LOG.info("PodCapture({}) stopped tcpdump and deleted its files: {}", key, why);
      PodCapture cr = captures.namespace(key.namespace()).get(key.name());
      if (pod != null && (cr == null || CaptureDecision.managedByAnnotation(cr))) {
        events.normal(pod, Names.REASON_STOPPED, "capture stopped and files deleted: " + why);
      }
    }
    states.remove(key);
    if (budget.release(key) || held) {
      wakeWaiting();
    }
  }

  /** Captures waiting for room are passed again: one of them may fit now. */
  private void wakeWaiting() {
    states.forEach(
        (key, state) -> {
          if (state instanceof Waiting) {
            requeue.accept(key);
          }
        });
  }

  // --- the API server
  // ---------------------------------------------------------------------------------------

  private PodCapture addFinalizer(PodCapture cr) {
    List<String> finalizers = cr.getMetadata().getFinalizers();
    List<String> wanted = new ArrayList<>(finalizers == null ? List.of() : finalizers);
    wanted.add(Names.FINALIZER);
    // Guarded like the removal: a finalizer another controller added meanwhile makes the patch fail
    // (and the
    // pass retry) instead of being dropped.
    List<Map<String, Object>> ops = new ArrayList<>();
    // The client shows an absent list as an empty one; only a list that exists can be tested.
    if (finalizers != null && !finalizers.isEmpty()) {
      ops.add(Map.of("op", "test", "path", "/metadata/finalizers", "value", finalizers));
    }
    ops.add(Map.of("op", "add", "path", "/metadata/finalizers", "value", wanted));
    PodCapture patched =
        client
            .resources(PodCapture.class)
            .inNamespace(cr.getMetadata().getNamespace())
            .resource(cr)
            .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
    writes.remember(patched);
    return patched;
  }

  private void removeFinalizer(CaptureKey key, PodCapture cr) {
    List<String> finalizers = cr.getMetadata().getFinalizers();
    List<String> remaining = new ArrayList<>(finalizers);
    remaining.remove(Names.FINALIZER);
    // A JSON patch that first tests the list it replaces: another controller's finalizer added
    // meanwhile makes
    // the patch fail (and the pass retry) instead of being dropped.
    String patch =
        Serialization.asJson(
            List.of(
                Map.of("op", "test", "path", "/metadata/finalizers", "value", finalizers),
                Map.of("op", "replace", "path", "/metadata/finalizers", "value", remaining)));
    // Forgotten before the patch: the API server may delete the object, and the informer hand its
    // delete event
    // to another pass, before the patch returns; that pass must not take our memory of it for the
    // truth.
    writes.forget(key);
    try {
      client
          .resources(PodCapture.class)
          .inNamespace(key.namespace())
          .resource(cr)
          .patch(PatchContext.of(PatchType.JSON), patch);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
    LOG.info("PodCapture({}) finalizer released", key);
  }

  private void removeAnnotation(CaptureKey key, Pod pod) {
    // resource(pod) rather than withName(): the client then patches without reading the Pod first.
    client
        .pods()
        .inNamespace(key.namespace())
        .resource(pod)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"" + Names.ANNOTATION + "\":null}}}");
    LOG.info("PodCapture({}) deleted: removed annotation {} from the Pod", key, Names.ANNOTATION);
    events.normal(
        pod,
        Names.REASON_CR_DELETED,
        "PodCapture deleted: capture stopped, files deleted, annotation "
            + Names.ANNOTATION
            + " removed");
  }

  /**
   * Hands a direct PodCapture whose Pod left this node back to the elected agent: removes the node
   * label and the finalizer in one guarded patch. The Pod cache may lag behind a Pod just created
   * here, so the API server is asked first; returns false when the Pod is on this node after all.
   */
  private boolean unclaim(CaptureKey key, PodCapture cr) {
    Pod pod = client.pods().inNamespace(key.namespace()).withName(cr.getSpec().getPodName()).get();
    if (pod != null
        && pod.getSpec() != null
        && config.nodeName().equals(pod.getSpec().getNodeName())) {
      return false;
    }
    List<Map<String, Object>> ops = new ArrayList<>();
    String label = "/metadata/labels/" + Names.LABEL_NODE.replace("~", "~0").replace("/", "~1");
    ops.add(Map.of("op", "test", "path", label, "value", config.nodeName()));
    ops.add(Map.of("op", "remove", "path", label));
    List<String> finalizers = cr.getMetadata().getFinalizers();
    if (finalizers != null && finalizers.contains(Names.FINALIZER)) {
      List<String> remaining = new ArrayList<>(finalizers);
      remaining.remove(Names.FINALIZER);
      ops.add(Map.of("op", "test", "path", "/metadata/finalizers", "value", finalizers));
      ops.add(Map.of("op", "replace", "path", "/metadata/finalizers", "value", remaining));
    }
    writes.forget(key); // before the patch, as for the finalizer's release
    try {
      client
          .resources(PodCapture.class)
          .inNamespace(key.namespace())
          .resource(cr)
          .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
    LOG.info(
        "PodCapture({}) handed back: Pod {} is no longer on node {}",
        key,
        cr.getSpec().getPodName(),
        config.nodeName());
    return true;
  }

  private void tell(PodCapture cr, Pod pod, CaptureDecision.Note note) {
    if (note.warning()) {
      LOG.warn("PodCapture({}) {}: {}", CaptureDecision.key(cr), note.reason(), note.message());
      if (pod != null && CaptureDecision.managedByAnnotation(cr)) {
        events.warning(pod, note.reason(), note.message());
      }
      events.warning(cr, note.reason(), note.message());
    } else {
      events.normal(cr, note.reason(), note.message());
    }
  }

  /**
   * The Pod the PodCapture names, if it is on this node (an API server may send Pods of other
   * nodes).
   */
  private Pod podOf(PodCapture cr) {
    if (cr.getSpec() == null || cr.getSpec().getPodName() == null) {
      return null;
    }
    Pod pod = pods.namespace(cr.getMetadata().getNamespace()).get(cr.getSpec().getPodName());
    return pod != null
            && pod.getSpec() != null
            && config.nodeName().equals(pod.getSpec().getNodeName())
        ? pod
        : null;
  }
}
