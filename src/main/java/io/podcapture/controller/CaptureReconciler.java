package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureException;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.controller.CaptureState.Waiting;
import io.podcapture.controller.Plan.Action;
import io.podcapture.controller.Plan.Note;
import io.podcapture.controller.Plan.Where;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass over one PodCapture of this node: read it and its Pod from the caches, {@link
 * CaptureDecision#decide decide}, then act: the API server and the capture layer in the plan's
 * order, then one status write, then Events. Acting decides nothing: what came of a start goes back
 * into the next decision as an input. It never modifies a cached object.
 */
final class CaptureReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(CaptureReconciler.class);
  private static final Duration CACHE_LAG_RETRY = Duration.ofSeconds(1);

  /**
   * Decisions in one pass: the first, one with the outcome of its start, and one to spare for a
   * start that found no room. A decision with a start's outcome in hand plans no second start.
   */
  private static final int MAX_DECISIONS = 3;

  private final SlimPodStore.Pods pods;
  private final Lister<PodCapture> captures;
  private final PacketCapturer capturer;
  private final EventRecorder events;
  private final AgentConfig config;
  private final Clock clock;
  private final CaptureDecision decision;
  private final Writes writes;
  private final PodCaptureApi api;
  private final CaptureRecords records;
  private final Consumer<CaptureKey> requeue;
  private final ControllerMetrics metrics;

  /** When to pass over the key again; null: only when something changes. */
  record Result(Duration requeueAfter) {
    static final Result DONE = new Result(null);
  }

  /** The collaborators of a pass; the controller makes one of each. */
  record Parts(
      SlimPodStore.Pods pods,
      Lister<PodCapture> captures,
      PacketCapturer capturer,
      EventRecorder events,
      Writes writes,
      PodCaptureApi api,
      CaptureRecords records,
      ControllerMetrics metrics) {}

  CaptureReconciler(Parts parts, AgentConfig config, Clock clock, Consumer<CaptureKey> requeue) {
    this.pods = parts.pods();
    this.captures = parts.captures();
    this.capturer = parts.capturer();
    this.events = parts.events();
    this.writes = parts.writes();
    this.api = parts.api();
    this.records = parts.records();
    this.metrics = parts.metrics();
    this.config = config;
    this.clock = clock;
    this.requeue = requeue;
    this.decision = new CaptureDecision(config);
  }

  Result reconcile(CaptureKey key) {
    PodCapture cached = captures.namespace(key.namespace()).get(key.name());
    PodCapture cr = writes.freshest(key, cached);
    return new Result(Writes.recheckAfterOwnWrite(cached, cr, pass(key, cr)));
  }

  private Duration pass(CaptureKey key, PodCapture cr) {
    if (cr == null) {
      // Gone, or no longer labelled with this node: nothing of it may stay here.
      remove(key, Names.REASON_CR_DELETED);
      return null;
    }
    Pod pod = podOf(cr);
    StartOutcome started = null;
    // Why a loop: what came of a start (tcpdump runs, or it failed with an error) decides the
    // state, status and Events of this same pass, so the pass decides again with the outcome as an
    // input, rather than acting on it itself. Bounded: see MAX_DECISIONS.
    for (int decisions = 1; ; decisions++) {
      Plan plan = decision.decide(inputs(key, cr, pod, started));
      Acted acted = act(key, cr, pod, plan);
      if (acted.retryAfter() != null) {
        return acted.retryAfter();
      }
      cr = acted.cr();
      tell(cr, pod, plan, false);
      if (acted.started() == null || decisions == MAX_DECISIONS) {
        Duration again = finish(key, cr, pod, plan);
        // A start whose outcome no decision saw is decided by the next pass, soon.
        return acted.started() == null ? again : CACHE_LAG_RETRY;
      }
      started = acted.started();
    }
  }

  private Inputs inputs(CaptureKey key, PodCapture cr, Pod pod, StartOutcome started) {
    return new Inputs(
        cr,
        pod,
        records.state(key),
        capturer.snapshot(key).orElse(null),
        records.budget().view(config.nodeName()),
        records.deletedByAgent(cr.getMetadata().getUid()),
        clock.instant(),
        started);
  }

  /** Remembers the plan's state, writes its status, and sends the Events that go with it. */
  private Duration finish(CaptureKey key, PodCapture cr, Pod pod, Plan plan) {
    records.setState(key, plan.next());
    boolean written = plan.status() != null && writes.status(cr, plan.status());
    if (written && Names.PHASE_FAILED.equals(plan.status().getPhase())) {
      metrics.captureFailed(plan.status().getConditions().get(0).getReason());
    }
    if (plan.status() == null || written) {
      tell(cr, pod, plan, true);
    }
    return plan.requeueAfter();
  }

  /**
   * What acting on a plan led to: the PodCapture as it is now, the outcome of its start, or a wait
   * before the next pass (an action could not be done yet).
   */
  private record Acted(PodCapture cr, StartOutcome started, Duration retryAfter) {}

  private Acted act(CaptureKey key, PodCapture cr, Pod pod, Plan plan) {
    StartOutcome started = null;
    for (Action action : plan.actions()) {
      if (action instanceof Action.AddFinalizer) {
        cr = api.addFinalizer(cr);
        writes.remember(cr);
      } else if (action instanceof Action.Start start) {
        started = start(key, start.request());
      } else if (action instanceof Action.Remove remove) {
        remove(key, remove.why());
      } else if (action instanceof Action.StopKeepingFiles) {
        capturer.stopKeepingFiles(key);
      } else if (action instanceof Action.Park park) {
        if (records.budget().park(key, park.maxFiles(), park.fileSizeMB())) {
          wakeWaiting();
        }
      } else if (action instanceof Action.RemoveAnnotation) {
        api.removeAnnotation(pod);
        LOG.info(
            "PodCapture({}) deleted: removed annotation {} from the Pod", key, Names.ANNOTATION);
      } else if (action instanceof Action.RemoveFinalizer) {
        releaseFinalizer(key, cr);
      } else if (action instanceof Action.Unclaim) {
        if (!unclaim(key, cr)) {
          return new Acted(cr, null, CACHE_LAG_RETRY);
        }
      } else if (action instanceof Action.Delete) {
        LOG.info(
            "PodCapture({}) finished and its ttlSecondsAfterFinished ({}s) ran out: deleting it",
            key,
            cr.getSpec().getTtlSecondsAfterFinished());
        api.deleteIfPresent(key);
      }
    }
    return new Acted(cr, started, null);
  }

  /** Reserves room and starts tcpdump; returns the outcome, for the next decision. */
  private StartOutcome start(CaptureKey key, CaptureRequest request) {
    NodeBudget.Verdict room =
        records.budget().reserve(key, request.maxFiles(), request.fileSizeMB(), config.nodeName());
    if (!room.fits()) {
      return new StartOutcome.NoRoom(room); // another worker took the room since the decision
    }
    CaptureSnapshot before = capturer.snapshot(key).orElse(null);
    CaptureSnapshot snapshot;
    try {
      snapshot = capturer.ensure(request);
    } catch (CaptureException e) {
      if (records.budget().release(key)) {
        wakeWaiting();
      }
      LOG.warn("PodCapture({}) tcpdump did not start: {}: {}", key, e.reason(), e.getMessage());
      return new StartOutcome.StartFailed(e.reason(), e.getMessage());
    }
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
          Plans.exitText(before));
    }
    LOG.info(
        "PodCapture({}) started tcpdump: {} files of {} MB, filter {}",
        key,
        request.maxFiles(),
        request.fileSizeMB(),
        snapshot.filter());
    return new StartOutcome.Started(snapshot);
  }

  /**
   * Removes the capture (tcpdump stopped, files deleted), frees its room for waiting ones and
   * forgets it.
   */
  private void remove(CaptureKey key, String why) {
    boolean held = capturer.captures().contains(key) || records.state(key) != null;
    // Harmless when absent, and it also deletes files the capture layer no longer holds (a failed
    // restart, or a capture completed before an agent restart).
    capturer.remove(key);
    if (held) {
      metrics.captureStopped(why);
      LOG.info("PodCapture({}) stopped tcpdump and deleted its files: {}", key, why);
    }
    if (records.forget(key) || held) {
      wakeWaiting();
    }
  }

  /** Forgets all of the capture: state, budget, writes (the one place a capture's record goes). */
  private void forget(CaptureKey key) {
    if (records.forget(key)) {
      wakeWaiting();
    }
  }

  /** Captures waiting for room are passed again: one of them may fit now. */
  private void wakeWaiting() {
    records.forEachState(
        (key, state) -> {
          if (state instanceof Waiting) {
            requeue.accept(key);
          }
        });
  }

  private void releaseFinalizer(CaptureKey key, PodCapture cr) {
    // Forgotten before the patch: the API server may delete the object, and the informer hand its
    // delete event to another pass, before the patch returns; that pass must not take our memory of
    // it for the truth.
    forget(key);
    api.removeFinalizer(cr);
    LOG.info("PodCapture({}) finalizer released", key);
  }

  /**
   * Hands a direct PodCapture whose Pod is not on this node back to the cluster controller (node
   * label and finalizer removed), which labels it with the Pod's node or explains why it cannot.
   * The Pod cache may lag behind a Pod just created here, so the API server is asked first; returns
   * false when the Pod is on this node after all.
   */
  private boolean unclaim(CaptureKey key, PodCapture cr) {
    String podName = cr.getSpec().getPodName();
    if (api.podOnThisNode(key.namespace(), podName) != null) {
      return false;
    }
    forget(key); // before the patch, as for the finalizer's release
    api.unclaim(cr);
    LOG.info(
        "PodCapture({}) handed back to the cluster controller: Pod {} is not on node {}",
        key,
        podName,
        config.nodeName());
    return true;
  }

  /** Sends the plan's Events that go with its status ({@code withStatus}), or the others. */
  private void tell(PodCapture cr, Pod pod, Plan plan, boolean withStatus) {
    for (Note note : plan.notes()) {
      if ((note.where() == Where.STATUS) != withStatus) {
        continue;
      }
      if (note.warning()) {
        LOG.warn("PodCapture({}) {}: {}", PodCaptures.key(cr), note.reason(), note.message());
      }
      boolean onPod =
          pod != null
              && (note.where() == Where.POD
                  || (note.where() == Where.STATUS
                      && note.warning()
                      && PodCaptures.managedByAnnotation(cr)));
      if (onPod) {
        record(pod, note);
      }
      if (note.where() != Where.POD) {
        record(cr, note);
      }
    }
  }

  private void record(io.fabric8.kubernetes.api.model.HasMetadata about, Note note) {
    if (note.warning()) {
      events.warning(about, note.reason(), note.message());
    } else {
      events.normal(about, note.reason(), note.message());
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
    Pod pod = pods.get(cr.getMetadata().getNamespace(), cr.getSpec().getPodName());
    return PodCaptures.onNode(pod, config.nodeName()) ? pod : null;
  }
}
