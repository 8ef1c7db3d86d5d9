package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sets' Pod watches: one metadata-only informer per (namespace, selector) some set uses, shared
 * by the sets that use it, stopped when the last of them lets go. Never a watch over all Pods of
 * the cluster. A change that matters to a set (a Pod added or deleted, its labels changed, its
 * deletion begun) queues every set of that watch.
 */
final class PodWatches implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PodWatches.class);

  /** One watch: the Pods of a namespace that a selector matches. */
  record Key(String namespace, String selector) {}

  private static final class Watch {
    final SharedIndexInformer<GenericKubernetesResource> informer;
    final Set<String> sets = new LinkedHashSet<>();

    Watch(SharedIndexInformer<GenericKubernetesResource> informer) {
      this.informer = informer;
    }
  }

  private final KubernetesClient metadataClient;
  private final Consumer<String> enqueue;
  private final Map<Key, Watch> watches = new HashMap<>();
  private final Map<String, Key> used = new HashMap<>();

  /**
   * @param metadataClient a client that asks for metadata only ({@link MetadataOnlyClient})
   * @param enqueue queues a set by its {@code namespace/name} key
   */
  PodWatches(KubernetesClient metadataClient, Consumer<String> enqueue) {
    this.metadataClient = metadataClient;
    this.enqueue = enqueue;
  }

  /**
   * The Pods the set's selector matches, starting the watch if no set used it yet (and letting go
   * of the one the set used before, if its selector changed); null until the watch has listed them
   * (the set is queued again then).
   */
  synchronized List<MatchedPod> use(String set, Key key) {
    Key before = used.put(set, key);
    if (before != null && !before.equals(key)) {
      letGo(set, before);
    }
    Watch watch = watches.computeIfAbsent(key, this::start);
    watch.sets.add(set);
    if (!watch.informer.hasSynced()) {
      return null;
    }
    List<MatchedPod> pods = new ArrayList<>();
    for (GenericKubernetesResource pod : watch.informer.getStore().list()) {
      pods.add(matched(pod));
    }
    return pods;
  }

  /** The set needs no Pod watch any more (deleted, refused, or its window closed). */
  synchronized void release(String set) {
    Key key = used.remove(set);
    if (key != null) {
      letGo(set, key);
    }
  }

  /** Watches running now. */
  synchronized int count() {
    return watches.size();
  }

  /** Pods held by all watches now. */
  synchronized int pods() {
    return watches.values().stream().mapToInt(w -> w.informer.getStore().list().size()).sum();
  }

  /** Every Pod the watches hold, as stored (for tests: the store keeps metadata only). */
  synchronized List<GenericKubernetesResource> stored() {
    List<GenericKubernetesResource> all = new ArrayList<>();
    watches.values().forEach(w -> all.addAll(w.informer.getStore().list()));
    return all;
  }

  private void letGo(String set, Key key) {
    Watch watch = watches.get(key);
    if (watch == null) {
      return;
    }
    watch.sets.remove(set);
    if (watch.sets.isEmpty()) {
      watches.remove(key);
      watch.informer.stop();
      LOG.info("stopped the Pod watch of {} in {}", key.selector(), key.namespace());
    }
  }

  private Watch start(Key key) {
    SharedIndexInformer<GenericKubernetesResource> informer =
        metadataClient
            .genericKubernetesResources("v1", "Pod")
            .inNamespace(key.namespace())
            .withLabelSelector(key.selector())
            .runnableInformer(0);
    informer.itemStore(new MetadataOnlyStore());
    Watch watch = new Watch(informer);
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(GenericKubernetesResource pod) {
            queueSets(watch);
          }

          @Override
          public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource now) {
            if (!Objects.equals(old.getMetadata().getLabels(), now.getMetadata().getLabels())
                || !Objects.equals(
                    old.getMetadata().getDeletionTimestamp(),
                    now.getMetadata().getDeletionTimestamp())) {
              queueSets(watch);
            }
          }

          @Override
          public void onDelete(GenericKubernetesResource pod, boolean unknownFinalState) {
            queueSets(watch);
          }
        });
    informer
        .start()
        .whenComplete(
            (ok, failed) -> {
              if (failed != null) {
                LOG.warn(
                    "the Pod watch of {} in {} did not start: {}",
                    key.selector(),
                    key.namespace(),
                    failed.getMessage());
              }
              // Synced now (or, after a failed first list, once the informer's retry lists).
              queueSets(watch);
            });
    LOG.info("started a metadata-only Pod watch of {} in {}", key.selector(), key.namespace());
    return watch;
  }

  private void queueSets(Watch watch) {
    List<String> sets;
    synchronized (this) {
      sets = List.copyOf(watch.sets);
    }
    sets.forEach(enqueue);
  }

  static MatchedPod matched(GenericKubernetesResource pod) {
    return new MatchedPod(
        pod.getMetadata().getName(),
        instant(pod.getMetadata().getCreationTimestamp()),
        pod.getMetadata().getDeletionTimestamp() != null);
  }

  private static Instant instant(String timestamp) {
    if (timestamp == null) {
      return null;
    }
    try {
      return Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  @Override
  public synchronized void close() {
    watches.values().forEach(w -> w.informer.stop());
    watches.clear();
    used.clear();
  }
}
