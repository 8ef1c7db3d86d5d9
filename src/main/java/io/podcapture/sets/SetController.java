package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.controller.ControllerMetrics;
import io.podcapture.controller.EventRecorder;
import io.podcapture.controller.Names;
import io.podcapture.controller.WorkQueue;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every PodCaptureSet's children: informers on the sets and on the PodCaptures labelled with
 * a set, metadata-only Pod watches per (namespace, selector) in use, a de-duplicating work queue
 * with per-key backoff, and workers that run {@link SetReconciler} passes. Started by the cluster
 * controller when it gains its Lease and closed when it loses it.
 */
public final class SetController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SetController.class);
  private static final int WORKERS = 2;
  private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(60);

  private final KubernetesClient metadataClient;
  private final SharedIndexInformer<PodCaptureSet> sets;
  private final SharedIndexInformer<PodCapture> children;
  private final PodWatches pods;
  private final WorkQueue<String> queue;
  private final EventRecorder events;
  private final SetReconciler reconciler;
  private final List<Thread> workers = new ArrayList<>();

  private SetController(KubernetesClient client, SetConfig config, Clock clock) {
    this.queue = new WorkQueue<>(Duration.ofMillis(500), Duration.ofSeconds(60));
    this.metadataClient = MetadataOnlyClient.from(client);
    this.pods = new PodWatches(metadataClient, queue::add);
    this.events =
        new EventRecorder(
            client, Names.CONTROLLER_COMPONENT, config.identity(), ControllerMetrics.NONE);
    this.sets = client.resources(PodCaptureSet.class).inAnyNamespace().runnableInformer(0);
    this.children =
        client
            .resources(PodCapture.class)
            .inAnyNamespace()
            .withLabel(Names.LABEL_SET)
            .runnableInformer(0);
    children.addIndexers(
        Map.of(
            SetReconciler.BY_SET,
            c ->
                List.of(
                    c.getMetadata().getNamespace()
                        + "/"
                        + c.getMetadata().getLabels().get(Names.LABEL_SET))));
    this.reconciler =
        new SetReconciler(sets, children, pods, new SetApi(client), events, config, clock);
  }

  /**
   * Starts the controller; returns once its caches are synced and its workers run.
   *
   * @throws Exception if the caches do not sync within a minute (the API server refuses the list,
   *     or the PodCaptureSet CRD is missing)
   */
  public static SetController start(KubernetesClient client, SetConfig config, Clock clock)
      throws Exception {
    SetController controller = new SetController(client, config, clock);
    try {
      controller.run();
    } catch (Exception e) {
      controller.close();
      throw e;
    }
    return controller;
  }

  private void run() throws Exception {
    sets.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(PodCaptureSet set) {
            queue.add(Cache.metaNamespaceKeyFunc(set));
          }

          @Override
          public void onUpdate(PodCaptureSet old, PodCaptureSet now) {
            queue.add(Cache.metaNamespaceKeyFunc(now));
          }

          @Override
          public void onDelete(PodCaptureSet set, boolean unknownFinalState) {
            queue.add(Cache.metaNamespaceKeyFunc(set));
          }
        });
    children.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(PodCapture child) {
            queueSet(child);
          }

          @Override
          public void onUpdate(PodCapture old, PodCapture now) {
            queueSet(now);
          }

          @Override
          public void onDelete(PodCapture child, boolean unknownFinalState) {
            queueSet(child);
          }
        });
    children.start().toCompletableFuture().get(SYNC_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    sets.start().toCompletableFuture().get(SYNC_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    for (int i = 0; i < WORKERS; i++) {
      Thread worker = new Thread(this::work, "set-worker-" + i);
      worker.setDaemon(true);
      worker.start();
      workers.add(worker);
    }
    LOG.info("PodCaptureSet controller started: {} sets", sets.getStore().list().size());
  }

  private void queueSet(PodCapture child) {
    String set = child.getMetadata().getLabels().get(Names.LABEL_SET);
    if (set != null) {
      queue.add(child.getMetadata().getNamespace() + "/" + set);
    }
  }

  private void work() {
    while (true) {
      String key;
      try {
        key = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (key == null) {
        return;
      }
      try {
        Duration lookAgain = reconciler.reconcile(key);
        queue.forget(key);
        if (lookAgain != null) {
          queue.addAfter(key, lookAgain);
        }
      } catch (KubernetesClientException e) {
        Duration retry = queue.nextBackoff(key);
        // 409 (the set changed since the cache read it) and 404 are expected; others are logged.
        if (e.getCode() == 409 || e.getCode() == 404) {
          LOG.debug("PodCaptureSet({}): {}; again in {}", key, e.getMessage(), retry);
        } else {
          LOG.warn("PodCaptureSet({}) pass failed: {}; again in {}", key, e.getMessage(), retry);
        }
        queue.addAfter(key, retry);
      } catch (RuntimeException e) {
        Duration retry = queue.nextBackoff(key);
        LOG.warn("PodCaptureSet({}) pass failed; again in {}", key, retry, e);
        queue.addAfter(key, retry);
      } finally {
        queue.done(key);
      }
    }
  }

  /** Pod watches running now (one per namespace and selector in use). */
  public int podWatches() {
    return pods.count();
  }

  /** Pods held by the Pod watches now (metadata only). */
  public int watchedPods() {
    return pods.pods();
  }

  /** Every Pod the watches hold, as stored. */
  List<GenericKubernetesResource> storedPods() {
    return pods.stored();
  }

  /** Stops the workers, the watches and the informers; the children keep running on the nodes. */
  @Override
  public void close() {
    queue.close();
    for (Thread worker : workers) {
      try {
        worker.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    pods.close();
    sets.stop();
    children.stop();
    events.close();
    metadataClient.close();
  }
}
