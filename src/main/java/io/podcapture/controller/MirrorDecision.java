package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.capture.CaptureKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the annotation mirror does for one Pod, decided without side effects: create the
 * annotation's PodCapture, adopt (update) one of that name that targets the Pod, refuse one that
 * targets another Pod, delete the annotation's own PodCapture when the annotation or the Pod went,
 * or nothing. {@link AnnotationMirror} carries it out.
 */
final class MirrorDecision {
  /** What to do. */
  enum Step {
    NOTHING,
    CREATE,
    UPDATE,
    DELETE,
    REFUSE
  }

  /**
   * The decision: the step, the PodCapture to create or update (else null), the Warning of a
   * refusal given for the first time (else null), and whether the annotation stays refused.
   */
  record Plan(Step step, PodCapture desired, String warning, boolean refused) {
    static final Plan NOTHING = new Plan(Step.NOTHING, null, null, false);
  }

  private final String node;
  private final int maxFiles;

  MirrorDecision(String node, int maxFiles) {
    this.node = node;
    this.maxFiles = maxFiles;
  }

  /**
   * Decides for the Pod {@code key}: {@code pod} is the Pod if on this node (else null), {@code cr}
   * the PodCapture of its name (else null), {@code refused} whether its refusal was already told.
   */
  Plan decide(CaptureKey key, Pod pod, PodCapture cr, boolean refused, boolean deletedByAgent) {
    boolean wanted =
        pod != null && PodCaptures.annotation(pod) != null && !PodCaptures.terminating(pod);
    if (!wanted) {
      // Only the annotation's own PodCapture, and only this node's: another node's agent answers
      // for its own. Once: a pass on a cache that does not show the deletion yet must not send a
      // second one.
      boolean ours =
          cr != null
              && PodCaptures.managedByAnnotation(cr)
              && !PodCaptures.deleting(cr)
              && node.equals(PodCaptures.label(cr, Names.LABEL_NODE))
              && !deletedByAgent;
      return ours ? new Plan(Step.DELETE, null, null, false) : Plan.NOTHING;
    }
    if (cr == null) {
      return new Plan(Step.CREATE, created(pod), null, refused);
    }
    if (PodCaptures.deleting(cr)) {
      // Being deleted: once it is gone, its delete event brings this Pod back here.
      return new Plan(Step.NOTHING, null, null, refused);
    }
    String target = cr.getSpec() == null ? null : cr.getSpec().getPodName();
    if (!key.name().equals(target)) {
      String message =
          "the annotation "
              + Names.ANNOTATION
              + " is ignored: PodCapture "
              + key.name()
              + " already exists and captures Pod "
              + (target == null ? "(none)" : target)
              + "; delete or rename that PodCapture, or create a PodCapture of another name for"
              + " this Pod";
      return new Plan(Step.REFUSE, null, refused ? null : message, true);
    }
    PodCapture adopted = adopted(pod, cr);
    return adopted == null ? Plan.NOTHING : new Plan(Step.UPDATE, adopted, null, false);
  }

  /** The annotation's PodCapture as first created. */
  private PodCapture created(Pod pod) {
    PodCapture cr = new PodCapture();
    cr.setMetadata(new ObjectMeta());
    cr.getMetadata().setName(pod.getMetadata().getName());
    cr.getMetadata().setNamespace(pod.getMetadata().getNamespace());
    AnnotationValue value = AnnotationValue.parse(PodCaptures.annotation(pod), maxFiles);
    cr.setSpec(
        new PodCaptureSpec(
            pod.getMetadata().getName(), value.maxFiles(), CaptureDecision.DEFAULT_FILE_SIZE_MB));
    mark(cr, pod);
    return cr;
  }

  /**
   * The PodCapture made the annotation's (our labels, finalizer, owner reference and the
   * annotation's N), or null if it is so already.
   */
  private PodCapture adopted(Pod pod, PodCapture cached) {
    PodCapture cr = Serialization.clone(cached);
    mark(cr, pod);
    PodCaptureSpec spec = cr.getSpec();
    AnnotationValue value = AnnotationValue.parse(PodCaptures.annotation(pod), maxFiles);
    if (value.valid()) {
      spec.setMaxFiles(value.maxFiles());
    }
    if (spec.getFileSizeMB() == null) {
      spec.setFileSizeMB(CaptureDecision.DEFAULT_FILE_SIZE_MB);
    }
    boolean same =
        Objects.equals(cr.getMetadata(), cached.getMetadata())
            && Objects.equals(spec, cached.getSpec());
    return same ? null : cr;
  }

  private void mark(PodCapture cr, Pod pod) {
    ObjectMeta meta = cr.getMetadata();
    Map<String, String> labels =
        new LinkedHashMap<>(Optional.ofNullable(meta.getLabels()).orElse(Map.of()));
    labels.put(Names.LABEL_MANAGED_BY, Names.MANAGED_BY);
    labels.put(Names.LABEL_NODE, node);
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
}
