package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the informers to the work queue and the queue to the three passes: the annotation mirror
 * (per Pod), the capture reconciler (per PodCapture of this node) and, while this agent is elected,
 * the pass over PodCaptures no node agent holds yet. Event handlers only enqueue keys; workers take
 * keys, run the pass, and forget them on success or queue them again with backoff on error.
 */
public final class PodCaptureController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PodCaptureController.class);
  private static final String BY_POD = "byPod";
  private static final Duration LEASE_DURATION = Duration.ofSeconds(15);
  private static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
  private static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

  /** One unit of work: which pass, for which object. */
  record Work(Pass pass, CaptureKey key) {}

  enum Pass {
    /** A Pod of this node: the annotation mirror. */
    POD,
    /** A PodCapture of this node: the capture reconciler. */
    CAPTURE,
    /** A PodCapture without a node (elected agent only). */
    UNCLAIMED
  }

  private final KubernetesClient client;
  private final AgentConfig config;
  private final PacketCapturer capturer;
  private final ControllerMetrics metrics;
  private final Clock clock;
  private final WorkQueue<Work> queue =
      new WorkQueue<>(Duration.ofMillis(50), Duration.ofSeconds(60));
  private final SharedIndexInformer<Pod> podInformer;
  private final SharedIndexInformer<PodCapture> captureInformer;
  private final EventRecorder events;
  private final Writes writes;
  private final AnnotationMirror mirror;
  private final CaptureReconciler reconciler;
  private final List<Thread> workers = new ArrayList<>();

  private final ExecutorService electionThread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "leader-election");
            t.setDaemon(true);
            return t;
          });
  private volatile SharedIndexInformer<PodCapture> unclaimedInformer;
  private volatile UnclaimedCaptures unclaimed;
  private volatile CompletableFuture<?> election;
  private volatile boolean synced;
  private volatile boolean closed;

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
    this.client = client;
    this.metrics = metrics;
    this.config = config;
    this.capturer = capturer;
    this.clock = clock;
    // Only this node's Pods: the API server filters them, so an agent holds a node's worth, not a
    // cluster's.
    this.podInformer =
        client
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", config.nodeName())
            .runnableInformer(0);
    // ...and of each only the fields the agent reads: a node's Pods are otherwise most of the
    // agent's heap.
    podInformer.itemStore(new SlimPodStore());
    // Only this node's PodCaptures: a status write elsewhere in the cluster is not sent to every
    // agent.
    this.captureInformer =
        client
            .resources(PodCapture.class)
            .inAnyNamespace()
            .withLabel(Names.LABEL_NODE, config.nodeName())
            .runnableInformer(0);
    captureInformer.addIndexers(
        Map.of(
            BY_POD,
            cr ->
                List.of(
                    podIndexKey(
                        cr.getMetadata().getNamespace(),
                        cr.getSpec() == null ? null : cr.getSpec().getPodName()))));
    this.events = new EventRecorder(client, config.nodeName(), metrics);
    CaptureRecords records = new CaptureRecords(clock, config.maxCaptures(), config.diskBudgetMB());
    this.writes = new Writes(client, clock, config.statusRefresh(), records);
    Lister<Pod> pods = new Lister<>(podInformer.getIndexer());
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

  private static String podIndexKey(String namespace, String pod) {
    return namespace + "/" + pod;
  }

  /** A Pod changed: its annotation mirror, and every PodCapture of this node that names it. */
  private void podChanged(Pod pod) {
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

  private static <T extends HasMetadata> ResourceEventHandler<T> handler(
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
   * behind, starts the workers and enters the leader election. Returns once the agent is ready.
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
    campaign();
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
    for (Pod pod : podInformer.getIndexer().list()) {
      if (config.nodeName().equals(pod.getSpec().getNodeName())
          && PodCaptures.annotation(pod) != null) {
        keep.add(keyOf(pod));
      }
    }
    for (PodCapture cr : captureInformer.getIndexer().list()) {
      if (cr.getMetadata().getDeletionTimestamp() == null) {
        keep.add(keyOf(cr));
      }
    }
    return keep;
  }

  // --- the elected agent
  // ------------------------------------------------------------------------------------

  /**
   * Runs for the Lease; whoever holds it answers for PodCaptures without a node. Runs again when it
   * loses.
   */
  private void campaign() {
    if (closed) {
      return;
    }
    String identity = config.podName().isEmpty() ? config.nodeName() : config.podName();
    LeaderElectionConfig election =
        new LeaderElectionConfigBuilder()
            .withName("podcapture-agent")
            .withLock(new LeaseLock(config.podNamespace(), Names.LEASE, identity))
            .withLeaseDuration(LEASE_DURATION)
            .withRenewDeadline(RENEW_DEADLINE)
            .withRetryPeriod(RETRY_PERIOD)
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(
                new LeaderCallbacks(
                    this::startLeading,
                    this::stopLeading,
                    leader -> LOG.info("elected agent: {}", leader)))
            .build();
    this.election = new LeaderElector(client, election, electionThread).start();
    CompletableFuture<?> unused =
        this.election.whenComplete(
            (ok, error) -> {
              if (!closed) {
                LOG.info(
                    "left the leader election ({}), running for the Lease again",
                    error == null ? "lost" : error);
                campaign();
              }
            });
  }

  private synchronized void startLeading() {
    if (closed || unclaimedInformer != null) {
      return;
    }
    LOG.info("this agent answers for PodCaptures no node agent holds yet");
    SharedIndexInformer<PodCapture> informer =
        client
            .resources(PodCapture.class)
            .inAnyNamespace()
            .withoutLabel(Names.LABEL_NODE)
            .runnableInformer(0);
    // Its own memory of writes: what it wrote about PodCaptures beyond this node must not look, to
    // this node's
    // passes, like PodCaptures of this node.
    CaptureRecords own = new CaptureRecords(clock, 0, 0);
    unclaimed =
        new UnclaimedCaptures(
            client,
            new Lister<>(informer.getIndexer()),
            new Writes(client, clock, config.statusRefresh(), own),
            new PodCaptureApi(client, config.nodeName()),
            clock);
    informer.addEventHandler(handler(cr -> queue.add(new Work(Pass.UNCLAIMED, keyOf(cr)))));
    unclaimedInformer = informer;
    informer.start();
  }

  private synchronized void stopLeading() {
    if (unclaimedInformer != null) {
      LOG.info("this agent no longer answers for PodCaptures without a node");
      unclaimedInformer.close();
      unclaimedInformer = null;
      unclaimed = null;
    }
  }

  /** Whether this agent holds the Lease now. */
  public boolean leading() {
    return unclaimedInformer != null;
  }

  // --- workers
  // ----------------------------------------------------------------------------------------------

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
        // was away is
        // written soon after it returns, not after a backoff grown through the outage (up to 60 s).
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
      case UNCLAIMED -> {
        UnclaimedCaptures leader = unclaimed;
        yield leader == null ? null : leader.reconcile(item.key());
      }
    };
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
   * Stops the workers, informers, election and every tcpdump, keeping files and PodCaptures for the
   * next run.
   */
  @Override
  public void close() {
    closed = true;
    queue.close();
    for (Thread worker : workers) {
      try {
        worker.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    CompletableFuture<?> running = election;
    if (running != null) {
      running.cancel(
          true); // releases the Lease (releaseOnCancel), so another agent takes over at once
    }
    stopLeading();
    electionThread.shutdownNow();
    podInformer.close();
    captureInformer.close();
    capturer.close();
    events.close();
  }
}
