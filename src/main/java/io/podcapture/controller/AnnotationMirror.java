package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors a Pod's {@code tcpdump.antrea.io} annotation into the PodCapture named after the Pod:
 * creates it, or adopts one of that name that already targets the Pod, and deletes it when the
 * annotation or the Pod goes. It only ever deletes a PodCapture the annotation made or adopted
 * (label managed-by). Keyed by Pod; {@link MirrorDecision} decides, this class acts; what runs for
 * the PodCapture is the {@link CaptureReconciler}'s business.
 */
final class AnnotationMirror {
  private static final Logger LOG = LoggerFactory.getLogger(AnnotationMirror.class);
  private static final Duration CREATE_RACE_RETRY = Duration.ofMillis(200);

  private final KubernetesClient client;
  private final SlimPodStore.Pods pods;
  private final Lister<PodCapture> captures;
  private final EventRecorder events;
  private final AgentConfig config;
  private final Writes writes;
  private final PodCaptureApi api;
  private final CaptureRecords records;
  private final MirrorDecision decision;

  AnnotationMirror(
      KubernetesClient client,
      SlimPodStore.Pods pods,
      Lister<PodCapture> captures,
      EventRecorder events,
      AgentConfig config,
      Writes writes,
      CaptureRecords records) {
    this.client = client;
    this.pods = pods;
    this.captures = captures;
    this.events = events;
    this.config = config;
    this.writes = writes;
    this.records = records;
    this.api = new PodCaptureApi(client, config.nodeName());
    this.decision = new MirrorDecision(config.nodeName(), config.maxFiles());
  }

  /** One pass for the Pod {@code key}; returns when to pass again, or null. */
  Duration reconcile(CaptureKey key) {
    PodCapture cached = captures.namespace(key.namespace()).get(key.name());
    PodCapture cr = writes.freshest(key, cached);
    return Writes.recheckAfterOwnWrite(cached, cr, pass(key, cr));
  }

  private Duration pass(CaptureKey key, PodCapture cr) {
    Pod pod = pods.get(key.namespace(), key.name());
    if (!PodCaptures.onNode(pod, config.nodeName())) {
      pod = null; // an API server may send Pods of other nodes; this agent acts only on its own
    }
    MirrorDecision.Plan plan = decide(key, pod, cr);
    if (plan.step() == MirrorDecision.Step.CREATE) {
      cr = create(plan.desired());
      if (cr == null) {
        return CREATE_RACE_RETRY;
      }
      // Decided again with what the API server has now: ours, or one of that name it had already.
      plan = decide(key, pod, cr);
    }
    switch (plan.step()) {
      case DELETE -> deleteAsAgent(key, cr);
      case UPDATE -> update(plan.desired());
      case REFUSE -> refuse(key, pod, plan.warning());
      case NOTHING, CREATE -> {}
    }
    return null;
  }

  private MirrorDecision.Plan decide(CaptureKey key, Pod pod, PodCapture cr) {
    boolean refused = records.get(key).refused();
    boolean deleted = cr != null && records.deletedByAgent(cr.getMetadata().getUid());
    MirrorDecision.Plan plan = decision.decide(key, pod, cr, refused, deleted);
    if (plan.refused() != refused) {
      records.update(
          key,
          r ->
              new CaptureRecords.Record(
                  r.state(), r.reservation(), r.lastWrite(), r.sizesWritten(), plan.refused()));
    }
    return plan;
  }

  private void refuse(CaptureKey key, Pod pod, String warning) {
    if (warning != null) {
      LOG.warn("Pod({}) {}", key, warning);
      events.warning(pod, Names.REASON_NAME_TAKEN, warning);
    }
  }

  /**
   * Creates the annotation's PodCapture; null if one of that name appeared meanwhile and is not
   * visible yet.
   */
  private PodCapture create(PodCapture cr) {
    String namespace = cr.getMetadata().getNamespace();
    try {
      PodCapture created =
          client.resources(PodCapture.class).inNamespace(namespace).resource(cr).create();
      LOG.info("PodCapture({}) created for annotated Pod", PodCaptures.key(cr));
      writes.remember(created);
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // One of that name exists outside this agent's view (not labelled with this node, e.g.
      // created directly before its Pod was scheduled): read it, to adopt or refuse it.
      return client
          .resources(PodCapture.class)
          .inNamespace(namespace)
          .withName(cr.getMetadata().getName())
          .get();
    }
  }

  private void update(PodCapture cr) {
    LOG.info("PodCapture({}) updated to follow the Pod annotation", PodCaptures.key(cr));
    PodCapture updated =
        client
            .resources(PodCapture.class)
            .inNamespace(cr.getMetadata().getNamespace())
            .resource(cr)
            .update();
    writes.remember(updated);
  }

  /** Marked first: the finalizer pass of the deletion may run before the request returns. */
  private void deleteAsAgent(CaptureKey key, PodCapture cr) {
    String uid = cr.getMetadata().getUid();
    if (uid != null) {
      records.markDeletedByAgent(uid);
    }
    boolean deleted = false;
    try {
      deleted = api.deleteIfPresent(key);
    } finally {
      if (!deleted && uid != null) {
        records.unmarkDeletedByAgent(uid);
      }
    }
    if (deleted) {
      LOG.info("PodCapture({}) deleted: the annotation or the Pod went", key);
    }
  }
}
