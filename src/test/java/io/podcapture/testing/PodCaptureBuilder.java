package io.podcapture.testing;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.controller.Names;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * PodCaptures for tests, as a user or the agent writes them: {@code
 * PodCaptureBuilder.direct("tls-only", "web").spec(s -> s.setFilter("tcp port 443")).build()}.
 */
public final class PodCaptureBuilder {
  private final ObjectMetaBuilder meta = new ObjectMetaBuilder();
  private final Map<String, String> labels = new LinkedHashMap<>();
  private final List<String> finalizers = new ArrayList<>();
  private final PodCaptureSpec spec;
  private PodCaptureStatus status;

  private PodCaptureBuilder(String name, String pod) {
    meta.withNamespace("default").withName(name);
    spec = new PodCaptureSpec(pod, null, null);
  }

  /**
   * A PodCapture created directly, in namespace default: name and Pod, nothing else (no node label:
   * the cluster controller labels it with the Pod's node; tiers without a controller add {@link
   * #node}).
   */
  public static PodCaptureBuilder direct(String name, String pod) {
    return new PodCaptureBuilder(name, pod);
  }

  /**
   * The annotation's PodCapture of {@code pod} on {@code node}, as the mirror makes it: named after
   * the Pod, labelled managed-by and with the node, the finalizer on, the annotation's N.
   */
  public static PodCaptureBuilder ofAnnotation(String pod, String node, int maxFiles) {
    return new PodCaptureBuilder(pod, pod)
        .label(Names.LABEL_MANAGED_BY, Names.MANAGED_BY)
        .node(node)
        .finalizer()
        .spec(s -> s.setMaxFiles(maxFiles));
  }

  public PodCaptureBuilder namespace(String namespace) {
    meta.withNamespace(namespace);
    return this;
  }

  /** As the API server stores it: a uid, a generation and a resource version. */
  public PodCaptureBuilder stored(String uid, long generation, String resourceVersion) {
    meta.withUid(uid).withGeneration(generation).withResourceVersion(resourceVersion);
    return this;
  }

  public PodCaptureBuilder label(String name, String value) {
    labels.put(name, value);
    return this;
  }

  /**
   * Labelled with the node whose agent holds it (as the cluster controller labels it, or a user who
   * knows the Pod's node).
   */
  public PodCaptureBuilder node(String node) {
    return label(Names.LABEL_NODE, node);
  }

  /** With the agent's cleanup finalizer. */
  public PodCaptureBuilder finalizer() {
    if (!finalizers.contains(Names.FINALIZER)) {
      finalizers.add(Names.FINALIZER);
    }
    return this;
  }

  public PodCaptureBuilder spec(Consumer<PodCaptureSpec> change) {
    change.accept(spec);
    return this;
  }

  public PodCaptureBuilder status(PodCaptureStatus status) {
    this.status = status;
    return this;
  }

  public PodCapture build() {
    PodCapture cr = new PodCapture();
    ObjectMeta m = meta.build();
    if (!labels.isEmpty()) {
      m.setLabels(new LinkedHashMap<>(labels));
    }
    if (!finalizers.isEmpty()) {
      m.setFinalizers(new ArrayList<>(finalizers));
    }
    cr.setMetadata(m);
    PodCaptureSpec copy =
        new PodCaptureSpec(spec.getPodName(), spec.getMaxFiles(), spec.getFileSizeMB());
    copy.setFilter(spec.getFilter());
    copy.setDurationSeconds(spec.getDurationSeconds());
    copy.setPacketCount(spec.getPacketCount());
    copy.setSnapLength(spec.getSnapLength());
    copy.setTtlSecondsAfterFinished(spec.getTtlSecondsAfterFinished());
    cr.setSpec(copy);
    cr.setStatus(status);
    return cr;
  }
}
