package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.PacketCapturer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the informers to the work queue and the queue to the reconciler: event handlers only enqueue keys;
 * workers take keys, reconcile, and forget them on success or re-queue them with backoff on error.
 */
public final class PodCaptureController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PodCaptureController.class);

  private final KubernetesClient client;
  private final AgentConfig config;
  private final PacketCapturer capturer;
  private final ControllerMetrics metrics;
  private final WorkQueue<CaptureKey> queue = new WorkQueue<>(Duration.ofMillis(50), Duration.ofSeconds(60));
  private final SharedIndexInformer<Pod> podInformer;
  private final SharedIndexInformer<PodCapture> captureInformer;
  private final EventRecorder events;
  private final PodCaptureReconciler reconciler;
  private final List<Thread> workers = new ArrayList<>();
  private final AtomicLong reconciles = new AtomicLong();
  private final AtomicLong reconcileErrors = new AtomicLong();
  private volatile boolean synced;

  public PodCaptureController(KubernetesClient client, AgentConfig config, PacketCapturer capturer, Clock clock) {
    this(client, config, capturer, clock, ControllerMetrics.NONE);
  }

  public PodCaptureController(KubernetesClient client, AgentConfig config, PacketCapturer capturer, Clock clock,
      ControllerMetrics metrics) {
    this.client = client;
    this.metrics = metrics;
    this.config = config;
    this.capturer = capturer;
    // Only this node's Pods: the API server filters them, so an agent holds a node's worth, not a cluster's.
    this.podInformer = client.pods().inAnyNamespace().withField("spec.nodeName", config.nodeName())
        .runnableInformer(0);
    // ...and of each only the fields the agent reads: a node's Pods are otherwise most of the agent's heap.
    podInformer.itemStore(new SlimPodStore());
    this.captureInformer = client.resources(PodCapture.class).inAnyNamespace().runnableInformer(0);
    this.events = new EventRecorder(client, config.nodeName(), metrics);
    this.reconciler = new PodCaptureReconciler(client, new Lister<>(podInformer.getIndexer()),
        new Lister<>(captureInformer.getIndexer()), capturer, events, config, clock, queue::add, metrics);
    podInformer.addEventHandler(new Enqueue<>());
    captureInformer.addEventHandler(new Enqueue<>());
    capturer.onExit(queue::add);
  }

  /** Enqueues the object's key on every change; the reconciler reads the current state from the caches. */
  private final class Enqueue<T extends HasMetadata> implements ResourceEventHandler<T> {
    @Override
    public void onAdd(T obj) {
      queue.add(keyOf(obj));
    }

    @Override
    public void onUpdate(T oldObj, T newObj) {
      queue.add(keyOf(newObj));
    }

    @Override
    public void onDelete(T obj, boolean deletedFinalStateUnknown) {
      queue.add(keyOf(obj));
    }
  }

  private static CaptureKey keyOf(HasMetadata obj) {
    return new CaptureKey(obj.getMetadata().getNamespace(), obj.getMetadata().getName());
  }

  /**
   * Starts the informers, waits until both caches are filled, removes what an earlier run left behind, and
   * starts the workers. Returns once the agent is ready.
   */
  public void start(Duration syncTimeout) throws Exception {
    CompletableFuture<Void> pods = podInformer.start().toCompletableFuture();
    CompletableFuture<Void> crs = captureInformer.start().toCompletableFuture();
    CompletableFuture.allOf(pods, crs).get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    capturer.removeLeftovers(wantedKeys());
    // Every cached object was enqueued by its add event; the workers now bring each to its wanted state.
    for (int i = 0; i < config.workers(); i++) {
      Thread worker = new Thread(this::work, "reconciler-" + i);
      worker.setDaemon(true);
      worker.start();
      workers.add(worker);
    }
    synced = true;
    LOG.info("agent ready on node {}: {} Pods and {} PodCaptures in cache", config.nodeName(),
        podInformer.getIndexer().list().size(), captureInformer.getIndexer().list().size());
  }

  /** Captures whose files must survive start-up: annotated Pods on this node and PodCaptures labelled with it. */
  private Set<CaptureKey> wantedKeys() {
    Set<CaptureKey> keep = new HashSet<>();
    for (Pod pod : podInformer.getIndexer().list()) {
      if (config.nodeName().equals(pod.getSpec().getNodeName()) && PodCaptureReconciler.annotation(pod) != null) {
        keep.add(keyOf(pod));
      }
    }
    return keep;
  }

  private void work() {
    while (true) {
      CaptureKey key;
      try {
        key = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (key == null) {
        return;
      }
      long started = System.nanoTime();
      boolean failed = true;
      try {
        reconciles.incrementAndGet();
        PodCaptureReconciler.Result result = reconciler.reconcile(key);
        failed = false;
        queue.forget(key);
        if (result.requeueAfter() != null) {
          queue.addAfter(key, result.requeueAfter());
        }
      } catch (KubernetesClientException e) {
        reconcileErrors.incrementAndGet();
        metrics.apiError(e.getCode());
        // 409 and 404 are the ordinary races of a level-based loop: try again soon, quietly.
        if (e.getCode() == 409 || e.getCode() == 404) {
          LOG.debug("PodCapture({}) conflict, retrying: {}", key, e.getMessage());
        } else {
          LOG.warn("PodCapture({}) API error, retrying with backoff: {}", key, e.getMessage());
        }
        // At least once per status refresh: a status that could not be written while the API server was away is
        // written soon after it returns, not after a backoff grown through the outage (up to 60 s).
        Duration backoff = queue.nextBackoff(key);
        queue.addAfter(key, backoff.compareTo(config.statusRefresh()) > 0 ? config.statusRefresh() : backoff);
      } catch (RuntimeException e) {
        reconcileErrors.incrementAndGet();
        LOG.error("PodCapture({}) reconcile failed, retrying with backoff", key, e);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
        metrics.reconciled(Duration.ofNanos(System.nanoTime() - started), failed);
      }
    }
  }

  public boolean synced() {
    return synced;
  }

  /** Informers watching and workers alive. */
  public boolean healthy() {
    return podInformer.isRunning() && captureInformer.isRunning() && workers.stream().allMatch(Thread::isAlive);
  }

  public int queueDepth() {
    return queue.depth();
  }

  /** PodCaptures of this node whose status says Pending (waiting for an IP, a slot, budget or a restart). */
  public int pendingCaptures() {
    int n = 0;
    for (PodCapture cr : captureInformer.getIndexer().list()) {
      if (cr.getStatus() != null && Names.PHASE_PENDING.equals(cr.getStatus().getPhase())
          && config.nodeName().equals(cr.getStatus().getNode())) {
        n++;
      }
    }
    return n;
  }

  /** Captures waiting for a slot or disk budget. */
  public int waitingCaptures() {
    return reconciler.waitingCount();
  }

  public long reconciles() {
    return reconciles.get();
  }

  public long reconcileErrors() {
    return reconcileErrors.get();
  }

  /** Stops the workers and informers and every tcpdump, keeping files and PodCaptures for the next run. */
  @Override
  public void close() {
    queue.close();
    for (Thread worker : workers) {
      try {
        worker.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    podInformer.close();
    captureInformer.close();
    capturer.close();
    events.close();
  }
}
