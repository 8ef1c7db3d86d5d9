package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.stream.Stream;

/**
 * The store of a set's Pod watch: of each Pod it keeps its name, namespace, uid, resourceVersion,
 * labels and creation and deletion times, and nothing else. The watch asks the API server for
 * metadata only ({@code PartialObjectMetadata}), so spec and status never arrive from a real one;
 * annotations (kubectl's last-applied configuration), managedFields and ownerReferences do, and are
 * dropped here. A server that ignores the request for metadata only (fabric8's mock) sends whole
 * Pods: their spec and status are dropped here too. The store copies; the object the watch
 * delivered is not modified.
 */
final class MetadataOnlyStore implements ItemStore<GenericKubernetesResource> {
  private final BasicItemStore<GenericKubernetesResource> items =
      new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

  /** The part of a Pod the set controller reads, as a new object. */
  static GenericKubernetesResource slim(GenericKubernetesResource pod) {
    GenericKubernetesResource slim = new GenericKubernetesResource();
    slim.setApiVersion("v1");
    slim.setKind("Pod");
    ObjectMeta meta = pod.getMetadata();
    if (meta != null) {
      slim.setMetadata(
          new ObjectMetaBuilder()
              .withName(meta.getName())
              .withNamespace(meta.getNamespace())
              .withUid(meta.getUid())
              .withResourceVersion(meta.getResourceVersion())
              .withCreationTimestamp(meta.getCreationTimestamp())
              .withDeletionTimestamp(meta.getDeletionTimestamp())
              .withLabels(meta.getLabels())
              .build());
    }
    return slim;
  }

  @Override
  public String getKey(GenericKubernetesResource pod) {
    return items.getKey(pod);
  }

  @Override
  public GenericKubernetesResource put(String key, GenericKubernetesResource pod) {
    return items.put(key, slim(pod));
  }

  @Override
  public GenericKubernetesResource remove(String key) {
    return items.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet();
  }

  @Override
  public Stream<GenericKubernetesResource> values() {
    return items.values();
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public GenericKubernetesResource get(String key) {
    return items.get(key);
  }
}
