package io.podcapture.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader election among the node agents: whoever holds the Lease watches the PodCaptures no
 * node agent holds yet and runs {@link UnclaimedCaptures} for them. An agent that loses runs for
 * the Lease again.
 */
final class ElectedAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ElectedAgent.class);
  private static final Duration LEASE_DURATION = Duration.ofSeconds(15);
  private static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
  private static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final AgentConfig config;
  private final Clock clock;

  /** Queues a pass over an unclaimed PodCapture. */
  private final Consumer<CaptureKey> enqueue;

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
  private volatile boolean closed;

  ElectedAgent(
      KubernetesClient client, AgentConfig config, Clock clock, Consumer<CaptureKey> enqueue) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.enqueue = enqueue;
  }

  /**
   * Runs for the Lease; whoever holds it answers for PodCaptures without a node. Runs again when it
   * loses.
   */
  void campaign() {
    if (closed) {
      return;
    }
    String identity = config.podName().isEmpty() ? config.nodeName() : config.podName();
    LeaderElectionConfig lease =
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
    this.election = new LeaderElector(client, lease, electionThread).start();
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
    // this node's passes, like PodCaptures of this node.
    CaptureRecords own = new CaptureRecords(clock, 0, 0);
    unclaimed =
        new UnclaimedCaptures(
            client,
            new Lister<>(informer.getIndexer()),
            new Writes(client, clock, config.statusRefresh(), own),
            new PodCaptureApi(client, config.nodeName()),
            clock);
    informer.addEventHandler(
        PodCaptureController.handler(cr -> enqueue.accept(PodCaptures.key(cr))));
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
  boolean leading() {
    return unclaimedInformer != null;
  }

  /** One pass over an unclaimed PodCapture; nothing unless this agent leads. */
  Duration reconcile(CaptureKey key) {
    UnclaimedCaptures leader = unclaimed;
    return leader == null ? null : leader.reconcile(key);
  }

  /**
   * Leaves the election, releasing the Lease (releaseOnCancel): another agent takes over at once.
   */
  @Override
  public void close() {
    closed = true;
    CompletableFuture<?> running = election;
    if (running != null) {
      running.cancel(true);
    }
    stopLeading();
    electionThread.shutdownNow();
  }
}
