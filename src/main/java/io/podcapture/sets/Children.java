package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import java.util.List;
import java.util.Map;

/** A set's child PodCaptures: how one is made, and whether a PodCapture is this set's child. */
public final class Children {
  private Children() {}

  /**
   * The child of {@code set} for the Pod {@code podName} on {@code node}: named {@code name},
   * labelled with the set, the node and the controller, owned by the set, with the set's capture
   * options and {@code durationSeconds} (what is left of the set's window, or null).
   */
  public static PodCapture child(
      PodCaptureSet set, String name, String podName, String node, Integer durationSeconds) {
    PodCapture child = new PodCapture();
    child.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(set.getMetadata().getNamespace())
            .withLabels(
                Map.of(
                    Names.LABEL_SET,
                    set.getMetadata().getName(),
                    Names.LABEL_NODE,
                    node,
                    Names.LABEL_MANAGED_BY,
                    Names.CONTROLLER_COMPONENT))
            .withOwnerReferences(List.of(ownerReference(set)))
            .build());
    PodCaptureSpec spec = new PodCaptureSpec();
    spec.copyOptions(set.getSpec());
    spec.setPodName(podName);
    spec.setDurationSeconds(durationSeconds);
    child.setSpec(spec);
    return child;
  }

  /** The ownerReference that makes the set a child's controller. */
  public static OwnerReference ownerReference(PodCaptureSet set) {
    return new OwnerReferenceBuilder()
        .withApiVersion(set.getApiVersion())
        .withKind(set.getKind())
        .withName(set.getMetadata().getName())
        .withUid(set.getMetadata().getUid())
        .withController(true)
        .build();
  }

  /** Whether {@code cr} is a child of the set with this uid (its controlling owner). */
  public static boolean ownedBy(PodCapture cr, String setUid) {
    List<OwnerReference> owners = cr.getMetadata().getOwnerReferences();
    return owners != null
        && owners.stream()
            .anyMatch(o -> Boolean.TRUE.equals(o.getController()) && setUid.equals(o.getUid()));
  }
}
