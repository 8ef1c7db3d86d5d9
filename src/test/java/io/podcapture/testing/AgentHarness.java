package io.podcapture.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.Agent;
import io.podcapture.AgentConfig;
import io.podcapture.capture.CaptureConfig;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.controller.ControllerMetrics;
import io.podcapture.controller.PodCaptureController;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The agent inside the test JVM against a {@link MockApiServer}, with its own client (User-Agent
 * {@link #AGENT_USER_AGENT}, so its requests can be told from the user's), plus the user's actions
 * ({@link User}). Two modes: {@link #AgentHarness(MockApiServer, PacketCapturer, Map) the
 * controller alone} with a given capturer (usually a fake), or {@link #wholeAgent the whole agent}
 * ({@link Agent#start}: controller, real CaptureManager running real tcpdump, monitoring server).
 */
public class AgentHarness extends User implements AutoCloseable {
  public static final String AGENT_USER_AGENT = "podcapture-agent-under-test";
  public final MockApiServer api;

  /** The user's client (the same as {@link #client()}). */
  public final KubernetesClient user;

  public final KubernetesClient agentClient;
  public final PacketCapturer capturer;
  public final AgentConfig config;

  /** The running controller (controller mode), or null. */
  public PodCaptureController controller;

  /** The running agent (whole-agent mode), or null. */
  public Agent agent;

  /**
   * The controller alone with {@code capturer}; {@code env} overrides {@link AgentEnvironment}'s
   * defaults.
   */
  public AgentHarness(MockApiServer api, PacketCapturer capturer, Map<String, String> env) {
    this(api, capturer, AgentConfig.fromEnvironment(AgentEnvironment.of(null, env)));
  }

  private AgentHarness(MockApiServer api, PacketCapturer capturer, AgentConfig config) {
    super(api.client());
    this.api = api;
    this.user = client();
    this.agentClient = api.client(AGENT_USER_AGENT);
    this.capturer = capturer;
    this.config = config;
  }

  /** What the controller reports into (controller mode); set before {@link #start}. */
  public ControllerMetrics metrics = ControllerMetrics.NONE;

  /** Starts the controller (controller mode). */
  public AgentHarness start() throws Exception {
    controller =
        new PodCaptureController(agentClient, config, capturer, Clock.systemUTC(), metrics);
    controller.start(Duration.ofSeconds(10));
    return this;
  }

  /** Starts the whole agent on {@link Pods#NODE} writing into {@code captureDir}. */
  public static AgentHarness wholeAgent(MockApiServer api, Path captureDir, Map<String, String> env)
      throws Exception {
    return wholeAgent(api, captureDir, env, UnaryOperator.identity());
  }

  /**
   * As above, with the capture settings derived from the environment changed by {@code capture}.
   */
  public static AgentHarness wholeAgent(
      MockApiServer api,
      Path captureDir,
      Map<String, String> env,
      UnaryOperator<CaptureConfig> capture)
      throws Exception {
    AgentHarness harness =
        new AgentHarness(
            api, null, AgentConfig.fromEnvironment(AgentEnvironment.of(captureDir, env)));
    try {
      harness.agent =
          Agent.start(
              harness.config,
              harness.agentClient,
              capture.apply(Agent.captureConfig(harness.config)));
    } catch (Exception e) {
      harness.close();
      throw e;
    }
    return harness;
  }

  /**
   * Stops the agent. In controller mode the capturer is left as it is (as a crash would leave it);
   * the whole agent stops as on SIGTERM.
   */
  public void stopAgent() {
    if (controller != null) {
      controller.close();
      controller = null;
    }
    if (agent != null) {
      agent.close();
      agent = null;
    }
  }

  @Override
  public void close() {
    try {
      stopAgent();
    } finally {
      user.close();
      agentClient.close();
    }
  }
}
