package io.podcapture;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.podcapture.agentfiles.AgentCaptures;
import io.podcapture.agentfiles.ApiTokenReviewer;
import io.podcapture.agentfiles.FilesServer;
import io.podcapture.capture.CaptureConfig;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureManager;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.controller.PodCaptureController;
import io.podcapture.monitoring.AgentMetrics;
import io.podcapture.monitoring.MonitoringServer;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running agent: the capture layer, the controller over it, the monitoring endpoint and the
 * file server.
 */
public final class Agent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  private static final Duration SYNC_TIMEOUT = Duration.ofMinutes(2);

  private final PacketCapturer capturer;
  private final PodCaptureController controller;
  private final MonitoringServer monitoring;
  private final FilesServer files;

  private Agent(
      PacketCapturer capturer,
      PodCaptureController controller,
      MonitoringServer monitoring,
      FilesServer files) {
    this.capturer = capturer;
    this.controller = controller;
    this.monitoring = monitoring;
    this.files = files;
  }

  /**
   * The agent's API client: fabric8's JDK HTTP client, with small bounded thread pools in place of
   * the client's unbounded cached ones. Those grew with the bursts of requests captures bring
   * (measured: 10 pool threads with 16 captures, kept for a minute after), so the agent's threads
   * grew with its captures; now only the capture layer's process reaper (one per tcpdump) does. Two
   * informers, one status writer at a time per capture and Events need no more than these.
   */
  public static KubernetesClient client(Config config) {
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(
            new JdkHttpClientFactory() {
              @Override
              protected void additionalConfig(java.net.http.HttpClient.Builder builder) {
                builder.executor(boundedPool("api-client", CLIENT_THREADS));
              }
            })
        .withTaskExecutor(boundedPool("api-tasks", CLIENT_THREADS))
        .build();
  }

  private static final int CLIENT_THREADS = 2;

  /**
   * {@code threads} daemon threads, started now and kept (a thread count that does not rise and
   * fall with the traffic); tasks wait in line beyond that.
   */
  static ExecutorService boundedPool(String name, int threads) {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, name + "-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.prestartAllCoreThreads();
    return pool;
  }

  /** The capture layer's settings that follow from the agent's. */
  public static CaptureConfig captureConfig(AgentConfig config) {
    return CaptureConfig.of(config.captureDir()).withStopGrace(config.stopGrace());
  }

  /** Starts the agent and returns once its caches are synced and its workers run. */
  public static Agent start(AgentConfig config, KubernetesClient client) throws Exception {
    return start(config, client, captureConfig(config));
  }

  /**
   * Starts the agent with the given capture settings (tests bound tcpdump's capabilities through
   * them). The monitoring endpoint answers from the beginning, {@code /readyz} with 503 until the
   * caches are synced.
   */
  public static Agent start(
      AgentConfig config, KubernetesClient client, CaptureConfig captureConfig) throws Exception {
    PacketCapturer capturer = new CaptureManager(captureConfig);
    AtomicReference<PodCaptureController> ref = new AtomicReference<>();
    AgentMetrics metrics =
        new AgentMetrics(
            config.nodeName(),
            new AgentMetrics.Gauges(
                () ->
                    capturer.captures().stream()
                        .map(capturer::snapshot)
                        .filter(s -> s.map(CaptureSnapshot::running).orElse(false))
                        .count(),
                () ->
                    Optional.ofNullable(ref.get())
                        .map(PodCaptureController::pendingCaptures)
                        .orElse(0),
                () -> bytesOnDisk(capturer),
                () ->
                    Optional.ofNullable(ref.get())
                        .map(PodCaptureController::queueDepth)
                        .orElse(0)));
    PodCaptureController controller =
        new PodCaptureController(client, config, capturer, Clock.systemUTC(), metrics);
    ref.set(controller);
    MonitoringServer monitoring =
        new MonitoringServer(
            config.httpPort(), metrics.registry(), controller::healthy, controller::synced);
    LOG.info("monitoring on port {}: /healthz /readyz /metrics", monitoring.port());
    try {
      controller.start(SYNC_TIMEOUT);
    } catch (Exception e) {
      monitoring.close();
      controller.close();
      throw e;
    }
    // After the caches are synced: a file request is answered from them.
    FilesServer files =
        FilesServer.start(
            config.files(),
            captureConfig.captureDir(),
            new AgentCaptures(config.nodeName(), controller::cachedCapture, capturer),
            new ApiTokenReviewer(client));
    return new Agent(capturer, controller, monitoring, files);
  }

  private static double bytesOnDisk(PacketCapturer capturer) {
    long total = 0;
    for (CaptureKey key : capturer.captures()) {
      total += capturer.snapshot(key).map(CaptureSnapshot::totalBytes).orElse(0L);
    }
    return total;
  }

  public PodCaptureController controller() {
    return controller;
  }

  public PacketCapturer capturer() {
    return capturer;
  }

  /** The port of /healthz, /readyz and /metrics. */
  public int monitoringPort() {
    return monitoring.port();
  }

  /** The port of the file server, or -1 while it does not run (no certificate yet, or off). */
  public int filesPort() {
    return files.port();
  }

  /** Stops every tcpdump (files and PodCaptures stay, so captures resume when an agent returns). */
  @Override
  public void close() {
    LOG.info("agent stopping: ending tcpdump processes, keeping files and PodCaptures");
    files.close();
    controller.close();
    monitoring.close();
  }
}
