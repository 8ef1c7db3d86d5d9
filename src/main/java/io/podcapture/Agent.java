package io.podcapture;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.capture.CaptureConfig;
import io.podcapture.capture.CaptureManager;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.controller.PodCaptureController;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running agent: the capture layer, the controller over it, wired to a Kubernetes client. */
public final class Agent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  private static final Duration SYNC_TIMEOUT = Duration.ofMinutes(2);

  private final PacketCapturer capturer;
  private final PodCaptureController controller;

  private Agent(PacketCapturer capturer, PodCaptureController controller) {
    this.capturer = capturer;
    this.controller = controller;
  }

  /** Starts the agent and returns once its caches are synced and its workers run. */
  public static Agent start(AgentConfig config, KubernetesClient client) throws Exception {
    return start(config, client, captureConfig(config));
  }

  /** The capture layer's settings that follow from the agent's. */
  public static CaptureConfig captureConfig(AgentConfig config) {
    return CaptureConfig.of(config.captureDir()).withStopGrace(config.stopGrace());
  }

  /** Starts the agent with the given capture settings (tests bound tcpdump's capabilities through them). */
  public static Agent start(AgentConfig config, KubernetesClient client, CaptureConfig captureConfig)
      throws Exception {
    PacketCapturer capturer = new CaptureManager(captureConfig);
    PodCaptureController controller = new PodCaptureController(client, config, capturer, Clock.systemUTC());
    try {
      controller.start(SYNC_TIMEOUT);
    } catch (Exception e) {
      controller.close();
      throw e;
    }
    return new Agent(capturer, controller);
  }

  public PodCaptureController controller() {
    return controller;
  }

  public PacketCapturer capturer() {
    return capturer;
  }

  /** Stops every tcpdump (files and PodCaptures stay, so captures resume when an agent returns). */
  @Override
  public void close() {
    LOG.info("agent stopping: ending tcpdump processes, keeping files and PodCaptures");
    controller.close();
  }
}
