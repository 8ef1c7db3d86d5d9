package io.podcapture;

import io.fabric8.kubernetes.client.KubernetesClient;
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
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running agent: the capture layer, the controller over it, and the monitoring endpoint. */
public final class Agent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  private static final Duration SYNC_TIMEOUT = Duration.ofMinutes(2);

  private final PacketCapturer capturer;
  private final PodCaptureController controller;
  private final MonitoringServer monitoring;

  private Agent(
      PacketCapturer capturer, PodCaptureController controller, MonitoringServer monitoring) {
    this.capturer = capturer;
    this.controller = controller;
    this.monitoring = monitoring;
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
    return new Agent(capturer, controller, monitoring);
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

  /** Stops every tcpdump (files and PodCaptures stay, so captures resume when an agent returns). */
  @Override
  public void close() {
    LOG.info("agent stopping: ending tcpdump processes, keeping files and PodCaptures");
    controller.close();
    monitoring.close();
  }
}
