package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureKey;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elected agent's pass over a PodCapture no node agent holds yet (it has no node label): it
 * finds the Pod and hands the PodCapture to the agent of the Pod's node by labelling it, or says in
 * the status why nothing runs.
 */
final class UnclaimedCaptures {
  private static final Logger LOG = LoggerFactory.getLogger(UnclaimedCaptures.class);

  /** How often a PodCapture whose Pod is missing or unscheduled is looked at again. */
  static final Duration RECHECK = Duration.ofSeconds(3);

  private final KubernetesClient client;
  private final Lister<PodCapture> unclaimed;
  private final Writes writes;
  private final Clock clock;

  UnclaimedCaptures(
      KubernetesClient client, Lister<PodCapture> unclaimed, Writes writes, Clock clock) {
    this.client = client;
    this.unclaimed = unclaimed;
    this.writes = writes;
    this.clock = clock;
  }

  /** One pass; returns when to pass again, or null. */
  Duration reconcile(CaptureKey key) {
    PodCapture cr = unclaimed.namespace(key.namespace()).get(key.name());
    if (cr == null || cr.getMetadata().getDeletionTimestamp() != null) {
      return null; // gone, or labelled meanwhile; an unlabelled PodCapture carries no finalizer of
      // ours
    }
    cr = writes.freshest(key, cr);
    if (cr.getSpec() == null || cr.getSpec().getPodName() == null) {
      PodCaptureStatus status =
          DesiredStatus.unclaimed(
              cr,
              null,
              Names.REASON_INVALID_SPEC,
              CaptureDecision.MISSING_POD_NAME,
              clock.instant());
      status.setPhase(Names.PHASE_FAILED);
      writes.status(cr, status);
      return null;
    }
    if (CaptureDecision.label(cr, Names.LABEL_NODE) != null) {
      return null; // labelled a moment ago; the cache has not caught up yet
    }
    String podName = cr.getSpec().getPodName();
    Pod pod = client.pods().inNamespace(key.namespace()).withName(podName).get();
    if (pod == null) {
      writes.status(
          cr,
          DesiredStatus.unclaimed(
              cr,
              null,
              Names.REASON_POD_NOT_FOUND,
              "Pod "
                  + podName
                  + " not found in namespace "
                  + key.namespace()
                  + "; the capture starts when it appears",
              clock.instant()));
      return RECHECK;
    }
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    if (node == null || node.isEmpty()) {
      writes.status(
          cr,
          DesiredStatus.unclaimed(
              cr,
              null,
              Names.REASON_POD_NOT_SCHEDULED,
              "Pod " + podName + " is not scheduled to a node yet; the capture starts when it runs",
              clock.instant()));
      return RECHECK;
    }
    // The status first: once labelled, the PodCapture leaves this agent's view. If no agent runs on
    // that node
    // (the DaemonSet does not cover it), this message is the last word.
    writes.status(
        cr,
        DesiredStatus.unclaimed(
            cr,
            node,
            Names.REASON_WAITING_FOR_AGENT,
            "waiting for the "
                + "podcapture agent on node "
                + node
                + " to start the capture; if it stays Pending, no agent runs on node "
                + node
                + " (the DaemonSet does not cover it)",
            clock.instant()));
    // resource(cr) rather than withName(): the client then patches without reading the object
    // first.
    PodCapture labelled =
        client
            .resources(PodCapture.class)
            .inNamespace(key.namespace())
            .resource(cr)
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"" + Names.LABEL_NODE + "\":\"" + node + "\"}}}");
    writes.remember(
        labelled); // a pass before the cache drops it sees the label, and leaves it alone
    LOG.info("PodCapture({}) handed to the agent on node {} (Pod {})", key, node, podName);
    return null;
  }
}
