package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.capture.CaptureKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors a Pod's {@code tcpdump.antrea.io} annotation into the PodCapture named after the Pod:
 * creates it, or adopts one of that name that already targets the Pod, and deletes it when the
 * annotation or the Pod goes. It only ever deletes a PodCapture the annotation made or adopted
 * (label managed-by). Keyed by Pod; what runs for the PodCapture is the {@link CaptureReconciler}'s
 * business.
 */
final class AnnotationMirror {
  private static final Logger LOG = LoggerFactory.getLogger(AnnotationMirror.class);
  private static final Duration CREATE_RACE_RETRY = Duration.ofMillis(200);

  private final KubernetesClient client;
  private final Lister<Pod> pods;
  private final Lister<PodCapture> captures;
  private final EventRecorder events;
  private final AgentConfig config;
  private final Writes writes;
  private final AgentDeletions deletions;

  /**
   * Pods whose annotation was refused (the name is taken), so the Warning is given once, not on
   * every pass.
   */
  private final Set<CaptureKey> refused = ConcurrentHashMap.newKeySet();

  AnnotationMirror(
      KubernetesClient client,
      Lister<Pod> pods,
      Lister<PodCapture> captures,
      EventRecorder events,
      AgentConfig config,
      Writes writes,
      AgentDeletions deletions) {
    this.client = client;
    this.pods = pods;
    this.captures = captures;
    this.events = events;
    this.config = config;
    this.writes = writes;
    this.deletions = deletions;
  }

  /** One pass for the Pod {@code key}; returns when to pass again, or null. */
  Duration reconcile(CaptureKey key) {
    PodCapture cached = captures.namespace(key.namespace()).get(key.name());
    PodCapture cr = writes.freshest(key, cached);
    Duration again = pass(key, cr);
    // A pass that went by our own recent write, not the cache, looks again once the cache has
    // caught up: the
    // object it saw may be gone by then without an event left to bring this Pod back here.
    return again == null && cached == null && cr != null ? Writes.RECHECK_AFTER_LAG : again;
  }

  private Duration pass(CaptureKey key, PodCapture cr) {
    Pod pod = pods.namespace(key.namespace()).get(key.name());
    if (pod != null && !config.nodeName().equals(pod.getSpec().getNodeName())) {
      pod = null; // an API server may send Pods of other nodes; this agent acts only on its own
    }
    boolean wanted =
        pod != null && CaptureDecision.annotation(pod) != null && !CaptureDecision.terminating(pod);
    if (!wanted) {
      refused.remove(key);
      // Only the annotation's own PodCapture, and only this node's: another node's agent answers
      // for its own.
      // Once: a pass on a cache that does not show the deletion yet must not send a second one.
      if (cr != null
          && CaptureDecision.managedByAnnotation(cr)
          && cr.getMetadata().getDeletionTimestamp() == null
          && config.nodeName().equals(CaptureDecision.label(cr, Names.LABEL_NODE))
          && !deletions.contains(cr.getMetadata().getUid())) {
        deleteAsAgent(key, cr);
      }
      return null;
    }
    if (cr == null) {
      cr = create(pod);
      if (cr == null) {
        return CREATE_RACE_RETRY;
      }
    }
    if (cr.getMetadata().getDeletionTimestamp() != null) {
      return null; // being deleted: once it is gone, its delete event brings this Pod back here
    }
    if (!key.name().equals(cr.getSpec() == null ? null : cr.getSpec().getPodName())) {
      if (refused.add(key)) {
        String message =
            "the annotation "
                + Names.ANNOTATION
                + " is ignored: PodCapture "
                + key.name()
                + " already exists and captures Pod "
                + (cr.getSpec() == null ? "(none)" : cr.getSpec().getPodName())
                + "; delete or rename that PodCapture, or create a PodCapture of another name for this Pod";
        LOG.warn("Pod({}) {}", key, message);
        events.warning(pod, Names.REASON_NAME_TAKEN, message);
      }
      return null;
    }
    refused.remove(key);
    adopt(pod, cr);
    return null;
  }

  /**
   * Creates the annotation's PodCapture; null if one of that name appeared meanwhile and is not
   * visible yet.
   */
  private PodCapture create(Pod pod) {
    PodCapture cr = new PodCapture();
    cr.setMetadata(new ObjectMeta());
    cr.getMetadata().setName(pod.getMetadata().getName());
    cr.getMetadata().setNamespace(pod.getMetadata().getNamespace());
    AnnotationValue value =
        AnnotationValue.parse(CaptureDecision.annotation(pod), config.maxFiles());
    cr.setSpec(
        new PodCaptureSpec(
            pod.getMetadata().getName(), value.maxFiles(), CaptureDecision.DEFAULT_FILE_SIZE_MB));
    mark(cr, pod);
    try {
      PodCapture created =
          client
              .resources(PodCapture.class)
              .inNamespace(cr.getMetadata().getNamespace())
              .resource(cr)
              .create();
      LOG.info(
          "PodCapture({}/{}) created for annotated Pod",
          pod.getMetadata().getNamespace(),
          pod.getMetadata().getName());
      writes.remember(created);
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // One of that name exists outside this agent's view (not labelled with this node, e.g.
      // created directly
      // before its Pod was scheduled): read it, to adopt or refuse it.
      return client
          .resources(PodCapture.class)
          .inNamespace(cr.getMetadata().getNamespace())
          .withName(cr.getMetadata().getName())
          .get();
    }
  }

  /**
   * Makes the PodCapture the annotation's: our labels, finalizer, owner reference and the
   * annotation's N.
   */
  private void adopt(Pod pod, PodCapture cached) {
    PodCapture cr = Serialization.clone(cached);
    mark(cr, pod);
    PodCaptureSpec spec = cr.getSpec();
    AnnotationValue value =
        AnnotationValue.parse(CaptureDecision.annotation(pod), config.maxFiles());
    if (value.valid()) {
      spec.setMaxFiles(value.maxFiles());
    }
    if (spec.getFileSizeMB() == null) {
      spec.setFileSizeMB(CaptureDecision.DEFAULT_FILE_SIZE_MB);
    }
    if (Objects.equals(cr.getMetadata(), cached.getMetadata())
        && Objects.equals(spec, cached.getSpec())) {
      return;
    }
    LOG.info("PodCapture({}) updated to follow the Pod annotation", CaptureDecision.key(cr));
    PodCapture updated =
        client
            .resources(PodCapture.class)
            .inNamespace(cr.getMetadata().getNamespace())
            .resource(cr)
            .update();
    writes.remember(updated);
  }

  private void mark(PodCapture cr, Pod pod) {
    ObjectMeta meta = cr.getMetadata();
    Map<String, String> labels =
        new LinkedHashMap<>(Optional.ofNullable(meta.getLabels()).orElse(Map.of()));
    labels.put(Names.LABEL_MANAGED_BY, Names.MANAGED_BY);
    labels.put(Names.LABEL_NODE, config.nodeName());
    meta.setLabels(labels);
    List<String> finalizers =
        new ArrayList<>(Optional.ofNullable(meta.getFinalizers()).orElse(List.of()));
    if (!finalizers.contains(Names.FINALIZER)) {
      finalizers.add(Names.FINALIZER);
    }
    meta.setFinalizers(finalizers);
    List<OwnerReference> owners =
        new ArrayList<>(Optional.ofNullable(meta.getOwnerReferences()).orElse(List.of()));
    owners.removeIf(o -> "Pod".equals(o.getKind()) && "v1".equals(o.getApiVersion()));
    owners.add(
        new OwnerReferenceBuilder()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .build());
    meta.setOwnerReferences(owners);
  }

  private void deleteAsAgent(CaptureKey key, PodCapture cr) {
    String uid = cr.getMetadata().getUid();
    if (uid != null) {
      deletions.mark(uid);
    }
    try {
      client.resources(PodCapture.class).inNamespace(key.namespace()).withName(key.name()).delete();
      LOG.info("PodCapture({}) deleted: the annotation or the Pod went", key);
    } catch (KubernetesClientException e) {
      if (uid != null) {
        deletions.unmark(uid);
      }
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }
}
