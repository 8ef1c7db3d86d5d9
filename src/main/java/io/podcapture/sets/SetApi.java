package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetStatus;
import io.podcapture.controller.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The API calls of a pass over a set, each written once: the cleanup finalizer added and removed
 * with a guarded JSON patch, a Pod's node read, a child created or deleted, the status written.
 */
final class SetApi {
  private final KubernetesClient client;

  SetApi(KubernetesClient client) {
    this.client = client;
  }

  /** Adds the cleanup finalizer; returns the set as written. */
  PodCaptureSet addFinalizer(PodCaptureSet set) {
    List<String> finalizers = set.getMetadata().getFinalizers();
    List<String> wanted = new ArrayList<>(finalizers == null ? List.of() : finalizers);
    wanted.add(Names.FINALIZER);
    List<Map<String, Object>> ops = new ArrayList<>();
    // The client shows an absent list as an empty one; only a list that exists can be tested.
    if (finalizers != null && !finalizers.isEmpty()) {
      ops.add(Map.of("op", "test", "path", "/metadata/finalizers", "value", finalizers));
    }
    ops.add(Map.of("op", "add", "path", "/metadata/finalizers", "value", wanted));
    return patch(set, ops);
  }

  /**
   * Removes the cleanup finalizer, testing the list first: another controller's finalizer added
   * meanwhile fails the patch (and the pass retries) instead of being dropped. A set gone is fine.
   */
  void removeFinalizer(PodCaptureSet set) {
    List<String> finalizers = set.getMetadata().getFinalizers();
    List<String> remaining = new ArrayList<>(finalizers);
    remaining.remove(Names.FINALIZER);
    List<Map<String, Object>> ops =
        List.of(
            Map.of("op", "test", "path", "/metadata/finalizers", "value", finalizers),
            Map.of("op", "replace", "path", "/metadata/finalizers", "value", remaining));
    try {
      patch(set, ops);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /** Where a Pod runs, read with one GET: null node when it is not scheduled yet. */
  record PodNode(boolean exists, String node) {}

  PodNode podNode(String namespace, String pod) {
    Pod found = client.pods().inNamespace(namespace).withName(pod).get();
    if (found == null) {
      return new PodNode(false, null);
    }
    return new PodNode(true, found.getSpec() == null ? null : found.getSpec().getNodeName());
  }

  /** Creates the child; returns it as written, or null when its name is taken (409). */
  PodCapture create(PodCapture child) {
    try {
      return client
          .resources(PodCapture.class)
          .inNamespace(child.getMetadata().getNamespace())
          .resource(child)
          .create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return null;
      }
      throw e;
    }
  }

  /** The PodCapture of this name, or null. */
  PodCapture get(String namespace, String name) {
    return client.resources(PodCapture.class).inNamespace(namespace).withName(name).get();
  }

  /** Deletes the child; a child gone already is fine. */
  void delete(PodCapture child) {
    client
        .resources(PodCapture.class)
        .inNamespace(child.getMetadata().getNamespace())
        .withName(child.getMetadata().getName())
        .delete();
  }

  /** Writes the set's status (optimistically, on the version the pass read: 409 retries). */
  PodCaptureSet writeStatus(PodCaptureSet set, PodCaptureSetStatus status) {
    PodCaptureSet copy = Objects.requireNonNull(Serialization.clone(set));
    copy.setStatus(status);
    return client
        .resources(PodCaptureSet.class)
        .inNamespace(set.getMetadata().getNamespace())
        .resource(copy)
        .updateStatus();
  }

  private PodCaptureSet patch(PodCaptureSet set, List<Map<String, Object>> ops) {
    return client
        .resources(PodCaptureSet.class)
        .inNamespace(set.getMetadata().getNamespace())
        .resource(set)
        .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
  }
}
