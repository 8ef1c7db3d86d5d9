package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elected agent's pass over a PodCapture no node agent holds yet (it has no node label): it
 * finds the Pod and hands the PodCapture to the agent of the Pod's node by labelling it, or says in
 * the status why nothing runs. {@link UnclaimedDecision} decides, this class acts.
 */
final class UnclaimedCaptures {
  private static final Logger LOG = LoggerFactory.getLogger(UnclaimedCaptures.class);

  private final KubernetesClient client;
  private final Lister<PodCapture> unclaimed;
  private final Writes writes;
  private final PodCaptureApi api;
  private final Clock clock;

  UnclaimedCaptures(
      KubernetesClient client,
      Lister<PodCapture> unclaimed,
      Writes writes,
      PodCaptureApi api,
      Clock clock) {
    this.client = client;
    this.unclaimed = unclaimed;
    this.writes = writes;
    this.api = api;
    this.clock = clock;
  }

  /** One pass; returns when to pass again, or null. */
  Duration reconcile(CaptureKey key) {
    PodCapture cr = unclaimed.namespace(key.namespace()).get(key.name());
    if (cr == null || PodCaptures.deleting(cr)) {
      // Gone, or labelled meanwhile; an unlabelled PodCapture carries no finalizer of ours.
      return null;
    }
    cr = writes.freshest(key, cr);
    Pod pod =
        UnclaimedDecision.needsPod(cr)
            ? client.pods().inNamespace(key.namespace()).withName(cr.getSpec().getPodName()).get()
            : null;
    UnclaimedDecision.Plan plan = UnclaimedDecision.decide(cr, pod, clock.instant());
    if (plan.status() != null) {
      writes.status(cr, plan.status());
    }
    if (plan.label() != null) {
      // Remembered: a pass before the cache drops it sees the label, and leaves it alone.
      writes.remember(api.label(cr, plan.label()));
      LOG.info(
          "PodCapture({}) handed to the agent on node {} (Pod {})",
          key,
          plan.label(),
          cr.getSpec().getPodName());
    }
    return plan.requeueAfter();
  }
}
