package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The API writes the passes repeat, each written once: the cleanup finalizer added and removed with
 * a guarded JSON patch, delete if present, the node label removed (a hand-back), the Pod's
 * annotation removed. Objects are patched through {@code resource(obj)} rather than {@code
 * withName()}: the client then sends the patch without reading the object first.
 */
final class PodCaptureApi {
  private final KubernetesClient client;
  private final String node;

  PodCaptureApi(KubernetesClient client, String node) {
    this.client = client;
    this.node = node;
  }

  /**
   * The Pod named {@code name} if the API server has it on this node; the informer cache may lag
   * behind a Pod just created here.
   */
  Pod podOnThisNode(String namespace, String name) {
    SlimPod slim = client.resources(SlimPod.class).inNamespace(namespace).withName(name).get();
    Pod pod = slim == null ? null : slim.toPod();
    return PodCaptures.onNode(pod, node) ? pod : null;
  }

  /** Adds the cleanup finalizer; returns the PodCapture as written. */
  PodCapture addFinalizer(PodCapture cr) {
    List<String> finalizers = cr.getMetadata().getFinalizers();
    List<String> wanted = new ArrayList<>(finalizers == null ? List.of() : finalizers);
    wanted.add(Names.FINALIZER);
    List<Map<String, Object>> ops = new ArrayList<>();
    // The client shows an absent list as an empty one; only a list that exists can be tested.
    if (finalizers != null && !finalizers.isEmpty()) {
      ops.add(testFinalizers(finalizers));
    }
    ops.add(Map.of("op", "add", "path", "/metadata/finalizers", "value", wanted));
    return patch(cr, ops);
  }

  /** Removes the cleanup finalizer; a PodCapture already gone is fine. */
  void removeFinalizer(PodCapture cr) {
    List<Map<String, Object>> ops = new ArrayList<>();
    releaseFinalizer(cr, ops);
    ignoreNotFound(() -> patch(cr, ops));
  }

  /**
   * Hands a PodCapture back to the cluster controller: removes this node's label and the cleanup
   * finalizer in one guarded patch; a PodCapture already gone is fine.
   */
  void unclaim(PodCapture cr) {
    List<Map<String, Object>> ops = new ArrayList<>();
    String label = "/metadata/labels/" + Names.LABEL_NODE.replace("~", "~0").replace("/", "~1");
    ops.add(Map.of("op", "test", "path", label, "value", node));
    ops.add(Map.of("op", "remove", "path", label));
    if (PodCaptures.hasFinalizer(cr)) {
      releaseFinalizer(cr, ops);
    }
    ignoreNotFound(() -> patch(cr, ops));
  }

  /** Deletes the PodCapture; returns false if it was gone already. */
  boolean deleteIfPresent(CaptureKey key) {
    return ignoreNotFound(
        () ->
            client
                .resources(PodCapture.class)
                .inNamespace(key.namespace())
                .withName(key.name())
                .delete());
  }

  /** Removes the {@code tcpdump.antrea.io} annotation from the Pod. */
  void removeAnnotation(Pod pod) {
    client
        .resources(SlimPod.class)
        .inNamespace(pod.getMetadata().getNamespace())
        .resource(SlimPod.of(pod))
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"" + Names.ANNOTATION + "\":null}}}");
  }

  /**
   * A JSON patch that first tests the list it replaces: another controller's finalizer added
   * meanwhile makes the patch fail (and the pass retry) instead of being dropped.
   */
  private static void releaseFinalizer(PodCapture cr, List<Map<String, Object>> ops) {
    List<String> finalizers = cr.getMetadata().getFinalizers();
    List<String> remaining = new ArrayList<>(finalizers);
    remaining.remove(Names.FINALIZER);
    ops.add(testFinalizers(finalizers));
    ops.add(Map.of("op", "replace", "path", "/metadata/finalizers", "value", remaining));
  }

  private static Map<String, Object> testFinalizers(List<String> finalizers) {
    return Map.of("op", "test", "path", "/metadata/finalizers", "value", finalizers);
  }

  private PodCapture patch(PodCapture cr, List<Map<String, Object>> ops) {
    return client
        .resources(PodCapture.class)
        .inNamespace(cr.getMetadata().getNamespace())
        .resource(cr)
        .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
  }

  /** Runs the call; false if the object was not found (gone already), other errors thrown. */
  private static boolean ignoreNotFound(Supplier<?> call) {
    try {
      Object unused = call.get();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      return false;
    }
  }
}
