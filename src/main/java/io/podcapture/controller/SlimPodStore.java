package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Pod informer's store: {@link SlimPod}s (only the fields the agent reads were parsed), kept
 * without their managedFields, which are most of what is left of a Pod's metadata. Containers,
 * volumes, probes, container statuses and managedFields are most of a real Pod (several KB of JSON
 * each) and the agent needs none of them.
 *
 * <p>Code that reads a Pod from the cache sees only these fields: to read another one, add it to
 * {@link SlimPod}. The store copies; the object the watch delivered (and handlers receive as the
 * new state) is not modified.
 */
final class SlimPodStore implements ItemStore<SlimPod> {
  private final BasicItemStore<SlimPod> items = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

  /** The metadata without managedFields, as a new object. */
  static ObjectMeta withoutManagedFields(ObjectMeta meta) {
    return new ObjectMetaBuilder(meta).withManagedFields((List<ManagedFieldsEntry>) null).build();
  }

  /** The part of a Pod the agent reads, as a new object. */
  static SlimPod slim(SlimPod pod) {
    SlimPod slim = new SlimPod();
    slim.setApiVersion(pod.getApiVersion());
    slim.setKind(pod.getKind());
    slim.setMetadata(pod.getMetadata() == null ? null : withoutManagedFields(pod.getMetadata()));
    slim.setSpec(pod.getSpec());
    slim.setStatus(pod.getStatus());
    return slim;
  }

  /** Pods read from a cache of this store, as the passes read them. */
  static final class Pods {
    private final Lister<SlimPod> lister;

    Pods(Lister<SlimPod> lister) {
      this.lister = lister;
    }

    /** The cached Pod, as a new object, or null. */
    Pod get(String namespace, String name) {
      SlimPod pod = lister.namespace(namespace).get(name);
      return pod == null ? null : pod.toPod();
    }
  }

  @Override
  public String getKey(SlimPod pod) {
    return items.getKey(pod);
  }

  @Override
  public SlimPod put(String key, SlimPod pod) {
    return items.put(key, slim(pod));
  }

  @Override
  public SlimPod remove(String key) {
    return items.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet();
  }

  @Override
  public Stream<SlimPod> values() {
    return items.values();
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public SlimPod get(String key) {
    return items.get(key);
  }
}
