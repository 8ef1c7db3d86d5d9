package io.podcapture.clusterwide;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.podcapture.monitoring.MonitoringServer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster controller ({@code PODCAPTURE_MODE=controller}): one of its replicas holds Lease
 * {@value #LEASE} in its own namespace and runs the {@link LeaderDuties}; the others stand by,
 * reading the Lease and writing nothing else. A replica that loses the Lease stops its duties and
 * runs for it again; a stopped one releases it, so a standby takes over at its next try.
 *
 * <p>Besides, every replica, leading or not, runs its replica duties from start to close (the
 * aggregated files API, at merge): they answer requests and write nothing a leader would.
 */
public final class ClusterController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterController.class);

  public static final String LEASE = "podcapture-controller";
  static final Duration LEASE_DURATION = Duration.ofSeconds(15);
  static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
  static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final ControllerConfig config;
  private final Clock clock;
  private final List<LeaderDuties.Duty> furtherDuties;
  private final List<AutoCloseable> replicaDuties = new ArrayList<>();
  private final ClusterMetrics metrics;
  private final ExecutorService electionThread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "leader-election");
            t.setDaemon(true);
            return t;
          });
  private MonitoringServer monitoring;
  private volatile LeaderDuties duties;
  private volatile CompletableFuture<?> election;
  private volatile boolean closed;

  private ClusterController(
      KubernetesClient client,
      ControllerConfig config,
      Clock clock,
      List<LeaderDuties.Duty> furtherDuties) {
    this.client = client;
    this.config = config;
    this.clock = clock;
    this.furtherDuties = List.copyOf(furtherDuties);
    this.metrics =
        new ClusterMetrics(
            () -> duties == null ? 0 : 1,
            () -> {
              LeaderDuties running = duties;
              return running == null ? 0 : running.agentNodes();
            });
  }

  /**
   * Starts the monitoring endpoint and runs for the Lease; returns at once. {@code furtherDuties}
   * run beside placement while this replica leads (the PodCaptureSet controller, at merge).
   */
  public static ClusterController start(
      ControllerConfig config,
      KubernetesClient client,
      Clock clock,
      List<LeaderDuties.Duty> furtherDuties)
      throws IOException {
    return start(config, client, clock, furtherDuties, List.of());
  }

  /**
   * As {@link #start(ControllerConfig, KubernetesClient, Clock, List)}, and starts {@code
   * replicaDuties} on this replica whether it leads or not; each runs until {@link #close()}. One
   * that cannot start is logged and left out: it must not stop the others or the election (a duty
   * that needs the API server retries by itself).
   */
  public static ClusterController start(
      ControllerConfig config,
      KubernetesClient client,
      Clock clock,
      List<LeaderDuties.Duty> furtherDuties,
      List<LeaderDuties.Duty> replicaDuties)
      throws IOException {
    ClusterController controller = new ClusterController(client, config, clock, furtherDuties);
    // Ready while it runs, leading or standing by: the standby must count for the
    // PodDisruptionBudget, so that a drain can move the active replica.
    controller.monitoring =
        new MonitoringServer(
            config.httpPort(),
            controller.metrics.registry(),
            () -> !controller.closed,
            () -> !controller.closed);
    LOG.info("monitoring on port {}: /healthz /readyz /metrics", controller.monitoring.port());
    for (LeaderDuties.Duty duty : replicaDuties) {
      try {
        AutoCloseable started = duty.start(client, config, clock);
        synchronized (controller.replicaDuties) {
          controller.replicaDuties.add(started);
        }
      } catch (Exception e) {
        LOG.error("a replica duty could not start: {}", e.toString(), e);
      }
    }
    controller.campaign();
    return controller;
  }

  /** The port of /healthz, /readyz and /metrics. */
  public int monitoringPort() {
    return monitoring.port();
  }

  /** Whether this replica holds the Lease and runs the duties now. */
  public boolean leading() {
    return duties != null;
  }

  private void campaign() {
    if (closed) {
      return;
    }
    LeaderElectionConfig lease =
        new LeaderElectionConfigBuilder()
            .withName(LEASE)
            .withLock(new LeaseLock(config.podNamespace(), LEASE, config.podName()))
            .withLeaseDuration(LEASE_DURATION)
            .withRenewDeadline(RENEW_DEADLINE)
            .withRetryPeriod(RETRY_PERIOD)
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(
                new LeaderCallbacks(this::startLeading, this::stopLeading, this::newLeader))
            .build();
    CompletableFuture<?> running = new LeaderElector(client, lease, electionThread).start();
    this.election = running;
    CompletableFuture<?> unused =
        running.whenComplete(
            (ok, error) -> {
              if (!closed) {
                LOG.info(
                    "left the leader election ({}), running for the Lease again",
                    error == null ? "lost" : error.toString());
                campaign();
              }
            });
  }

  private void newLeader(String leader) {
    metrics.leadershipChanged();
    LOG.info("Lease {}/{} held by {}", config.podNamespace(), LEASE, leader);
  }

  private synchronized void startLeading() {
    if (closed || duties != null) {
      return;
    }
    LOG.info("{} leads: running the cluster-wide duties", config.podName());
    duties = LeaderDuties.start(client, config, clock, metrics, furtherDuties);
  }

  private synchronized void stopLeading() {
    LeaderDuties running = duties;
    if (running != null) {
      LOG.info("{} no longer leads: cluster-wide duties stopped", config.podName());
      duties = null;
      running.close();
    }
  }

  /**
   * Stops the duties and leaves the election, releasing the Lease (releaseOnCancel): a standby
   * takes over at its next try instead of waiting for the Lease to run out.
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
    List<AutoCloseable> replicas;
    synchronized (replicaDuties) {
      replicas = new ArrayList<>(replicaDuties);
      replicaDuties.clear();
    }
    for (int i = replicas.size() - 1; i >= 0; i--) {
      try {
        replicas.get(i).close();
      } catch (Exception e) {
        LOG.warn("a replica duty did not close cleanly: {}", e.toString());
      }
    }
    if (monitoring != null) {
      monitoring.close();
    }
  }
}
