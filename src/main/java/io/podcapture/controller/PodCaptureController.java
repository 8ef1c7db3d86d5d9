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
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the informers to the work queue and the queue to the two passes: the annotation mirror (per
 * Pod) and the capture reconciler (per PodCapture of this node). The agent watches only its own
 * node's Pods and PodCaptures and takes part in no election: the cluster controller answers for
 * PodCaptures no node agent holds. Event handlers only enqueue keys; workers take keys, run the
 * pass, and forget them on success or queue them again with backoff on error.
 */
public final class PodCaptureController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PodCaptureController.class);
  private static final String BY_POD = "byPod";

  /** One unit of work: which pass, for which object. */
  record Work(Pass pass, CaptureKey key) {}

  enum Pass {
    /** A Pod of this node: the annotation mirror. */
    POD,
    /** A PodCapture of this node: the capture reconciler. */
    CAPTURE
  }

  private final AgentConfig config;
  private final PacketCapturer capturer;
  private final ControllerMetrics metrics;
  private final WorkQueue<Work> queue =
      new WorkQueue<>(Duration.ofMillis(50), Duration.ofSeconds(60));
  private final SharedIndexInformer<SlimPod> podInformer;
  private final SharedIndexInformer<PodCapture> captureInformer;
  private final EventRecorder events;
  private final Writes writes;
  private final AnnotationMirror mirror;
  private final CaptureReconciler reconciler;
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean synced;

  public PodCaptureController(
      KubernetesClient client, AgentConfig config, PacketCapturer capturer, Clock clock) {
    this(client, config, capturer, clock, ControllerMetrics.NONE);
  }

  public PodCaptureController(
      KubernetesClient client,
      AgentConfig config,
      PacketCapturer capturer,
      Clock clock,
      ControllerMetrics metrics) {
    this.metrics = metrics;
    this.config = config;
    this.capturer = capturer;
    this.podInformer = podInformer(client, config.nodeName());
    this.captureInformer = captureInformer(client, config.nodeName());
    this.events = new EventRecorder(client, config.nodeName(), metrics);
    CaptureRecords records = new CaptureRecords(clock, config.maxCaptures(), config.diskBudgetMB());
    this.writes = new Writes(client, clock, config.statusRefresh(), records);
    SlimPodStore.Pods pods = new SlimPodStore.Pods(new Lister<>(podInformer.getIndexer()));
    Lister<PodCapture> captures = new Lister<>(captureInformer.getIndexer());
    this.mirror = new AnnotationMirror(client, pods, captures, events, config, writes, records);
    CaptureReconciler.Parts parts =
        new CaptureReconciler.Parts(
            pods,
            captures,
            capturer,
            events,
            writes,
            new PodCaptureApi(client, config.nodeName()),
            records,
            metrics);
    this.reconciler =
        new CaptureReconciler(parts, config, clock, key -> queue.add(new Work(Pass.CAPTURE, key)));
    podInformer.addEventHandler(handler(this::podChanged));
    captureInformer.addEventHandler(handler(this::captureChanged));
    capturer.onExit(key -> queue.add(new Work(Pass.CAPTURE, key)));
  }

  /**
   * Only this node's Pods: the API server filters them, so an agent holds a node's worth, not a
   * cluster's; and of each only the fields the agent reads, parsed as {@link SlimPod}: a node's
   * Pods, and the classes that parse a whole Pod, are otherwise most of the agent's memory.
   */
  private static SharedIndexInformer<SlimPod> podInformer(KubernetesClient client, String node) {
    SlimPod.register(client);
    SharedIndexInformer<SlimPod> informer =
        client
            .resources(SlimPod.class)
            .inAnyNamespace()
            .withField("spec.nodeName", node)
            .runnableInformer(0);
    informer.itemStore(new SlimPodStore());
    return informer;
  }

  /**
   * Only this node's PodCaptures (a status write elsewhere in the cluster is not sent to every
   * agent), indexed by the Pod they name.
   */
  private static SharedIndexInformer<PodCapture> captureInformer(
      KubernetesClient client, String node) {
    SharedIndexInformer<PodCapture> informer =
        client
            .resources(PodCapture.class)
            .inAnyNamespace()
            .withLabel(Names.LABEL_NODE, node)
            .runnableInformer(0);
    informer.addIndexers(
        Map.of(
            BY_POD,
            cr ->
                List.of(
                    podIndexKey(
                        cr.getMetadata().getNamespace(),
                        cr.getSpec() == null ? null : cr.getSpec().getPodName()))));
    return informer;
  }

  private static String podIndexKey(String namespace, String pod) {
    return namespace + "/" + pod;
  }

  /** A Pod changed: its annotation mirror, and every PodCapture of this node that names it. */
  private void podChanged(SlimPod pod) {
    CaptureKey key = keyOf(pod);
    queue.add(new Work(Pass.POD, key));
    for (PodCapture cr :
        captureInformer.getIndexer().byIndex(BY_POD, podIndexKey(key.namespace(), key.name()))) {
      queue.add(new Work(Pass.CAPTURE, keyOf(cr)));
    }
  }

  /**
   * A PodCapture of this node changed: its capture, and the annotation mirror of the Pod it is
   * named after.
   */
  private void captureChanged(PodCapture cr) {
    metrics.podCaptureEvent(PodCaptures.label(cr, Names.LABEL_NODE));
    queue.add(new Work(Pass.CAPTURE, keyOf(cr)));
    queue.add(new Work(Pass.POD, keyOf(cr)));
  }

  /** An informer's event handler that hands every added, changed or deleted object on. */
  static <T extends HasMetadata> ResourceEventHandler<T> handler(
      java.util.function.Consumer<T> changed) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        changed.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        changed.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        changed.accept(obj);
      }
    };
  }

  private static CaptureKey keyOf(HasMetadata obj) {
    return new CaptureKey(obj.getMetadata().getNamespace(), obj.getMetadata().getName());
  }

  /**
   * Starts the informers, waits until both caches are filled, removes what an earlier run left
   * behind and starts the workers. Returns once the agent is ready.
   */
  public void start(Duration syncTimeout) throws Exception {
    CompletableFuture<Void> pods = podInformer.start().toCompletableFuture();
    CompletableFuture<Void> crs = captureInformer.start().toCompletableFuture();
    CompletableFuture.allOf(pods, crs).get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    capturer.removeLeftovers(wantedKeys());
    // Every cached object was enqueued by its add event; the workers now bring each to its wanted
    // state.
    for (int i = 0; i < config.workers(); i++) {
      Thread worker = new Thread(this::work, "reconciler-" + i);
      worker.setDaemon(true);
      worker.start();
      workers.add(worker);
    }
    synced = true;
    LOG.info(
        "agent ready on node {}: {} Pods and {} PodCaptures in cache",
        config.nodeName(),
        podInformer.getIndexer().list().size(),
        captureInformer.getIndexer().list().size());
  }

  /**
   * Captures whose files must survive start-up: annotated Pods on this node (their PodCapture may
   * not exist yet) and this node's PodCaptures, running ones to resume and completed ones whose
   * files are kept.
   */
  private Set<CaptureKey> wantedKeys() {
    Set<CaptureKey> keep = new HashSet<>();
    for (SlimPod slim : podInformer.getIndexer().list()) {
      Pod pod = slim.toPod();
      if (PodCaptures.onNode(pod, config.nodeName()) && PodCaptures.annotation(pod) != null) {
        keep.add(keyOf(pod));
      }
    }
    for (PodCapture cr : captureInformer.getIndexer().list()) {
      if (!PodCaptures.deleting(cr)) {
        keep.add(keyOf(cr));
      }
    }
    return keep;
  }

  // --- workers

  private void work() {
    while (true) {
      Work item;
      try {
        item = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (item == null) {
        return;
      }
      long started = System.nanoTime();
      boolean failed = true;
      try {
        Duration again = pass(item);
        failed = false;
        queue.forget(item);
        if (again != null) {
          queue.addAfter(item, again);
        }
      } catch (KubernetesClientException e) {
        metrics.apiError(e.getCode());
        // 409 and 404 are the ordinary races of a level-based loop: try again soon, quietly.
        if (e.getCode() == 409 || e.getCode() == 404) {
          LOG.debug("{}({}) conflict, retrying: {}", item.pass(), item.key(), e.getMessage());
        } else {
          LOG.warn(
              "{}({}) API error, retrying with backoff: {}",
              item.pass(),
              item.key(),
              e.getMessage());
        }
        // At least once per status refresh: a status that could not be written while the API server
        // was away is written soon after it returns, not after a backoff grown through the outage
        // (up to 60 s).
        Duration backoff = queue.nextBackoff(item);
        queue.addAfter(
            item, backoff.compareTo(config.statusRefresh()) > 0 ? config.statusRefresh() : backoff);
      } catch (RuntimeException e) {
        LOG.error("{}({}) pass failed, retrying with backoff", item.pass(), item.key(), e);
        queue.addRateLimited(item);
      } finally {
        queue.done(item);
        metrics.reconciled(Duration.ofNanos(System.nanoTime() - started), failed);
      }
    }
  }

  private Duration pass(Work item) {
    return switch (item.pass()) {
      case POD -> mirror.reconcile(item.key());
      case CAPTURE -> reconciler.reconcile(item.key()).requeueAfter();
    };
  }

  /**
   * The PodCapture {@code namespace/name} of this node as the agent's cache holds it, or empty if
   * the agent holds no such PodCapture. The object is the cache's own: read it, never change it.
   */
  public Optional<PodCapture> cachedCapture(String namespace, String name) {
    PodCapture cr = captureInformer.getIndexer().getByKey(namespace + "/" + name);
    return cr != null && config.nodeName().equals(PodCaptures.label(cr, Names.LABEL_NODE))
        ? Optional.of(cr)
        : Optional.empty();
  }

  public boolean synced() {
    return synced;
  }

  /** Informers watching and workers alive. */
  public boolean healthy() {
    return podInformer.isRunning()
        && captureInformer.isRunning()
        && workers.stream().allMatch(Thread::isAlive);
  }

  public int queueDepth() {
    return queue.depth();
  }

  /**
   * PodCaptures of this node whose status says Pending (waiting for an IP, a slot, budget or a
   * restart).
   */
  public int pendingCaptures() {
    int n = 0;
    for (PodCapture cr : captureInformer.getIndexer().list()) {
      if (cr.getStatus() != null
          && Names.PHASE_PENDING.equals(cr.getStatus().getPhase())
          && config.nodeName().equals(cr.getStatus().getNode())) {
        n++;
      }
    }
    return n;
  }

  /**
   * Stops the workers, informers and every tcpdump, keeping files and PodCaptures for the next run.
   */
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
