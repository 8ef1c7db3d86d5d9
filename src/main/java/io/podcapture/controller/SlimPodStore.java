package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Pod informer's store: of each Pod it keeps only what the agent reads, its metadata (without
 * managedFields), {@code spec.nodeName} and {@code spec.hostNetwork}, and {@code status.phase},
 * {@code podIP} and {@code podIPs}. Containers, volumes, probes, container statuses and
 * managedFields are most of a real Pod (several KB of JSON each) and the agent needs none of them:
 * on a node of 110 Pods this keeps about 3 MB off the heap (see BENCHMARKS.md).
 *
 * <p>Code that reads a Pod from the cache sees only these fields: to read another one, keep it here
 * too. The store copies; the object the watch delivered (and handlers receive as the new state) is
 * not modified.
 */
final class SlimPodStore implements ItemStore<Pod> {
  private final BasicItemStore<Pod> items = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

  /** The part of a Pod the agent reads, as a new object. */
  static Pod slim(Pod pod) {
    Pod slim = new Pod();
    slim.setApiVersion(pod.getApiVersion());
    slim.setKind(pod.getKind());
    if (pod.getMetadata() != null) {
      ObjectMeta meta =
          new ObjectMetaBuilder(pod.getMetadata())
              .withManagedFields((List<ManagedFieldsEntry>) null)
              .build();
      slim.setMetadata(meta);
    }
    if (pod.getSpec() != null) {
      PodSpec spec = new PodSpec();
      spec.setNodeName(pod.getSpec().getNodeName());
      spec.setHostNetwork(pod.getSpec().getHostNetwork());
      slim.setSpec(spec);
    }
    if (pod.getStatus() != null) {
      PodStatus status = new PodStatus();
      status.setPhase(pod.getStatus().getPhase());
      status.setPodIP(pod.getStatus().getPodIP());
      List<PodIP> ips = new ArrayList<>();
      if (pod.getStatus().getPodIPs() != null) {
        pod.getStatus().getPodIPs().forEach(ip -> ips.add(new PodIP(ip.getIp())));
      }
      status.setPodIPs(ips);
      slim.setStatus(status);
    }
    return slim;
  }

  @Override
  public String getKey(Pod pod) {
    return items.getKey(pod);
  }

  @Override
  public Pod put(String key, Pod pod) {
    return items.put(key, slim(pod));
  }

  @Override
  public Pod remove(String key) {
    return items.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet();
  }

  @Override
  public Stream<Pod> values() {
    return items.values();
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public Pod get(String key) {
    return items.get(key);
  }
}
