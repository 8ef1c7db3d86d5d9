package io.podcapture.faults;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.Agent;
import io.podcapture.AgentConfig;
import io.podcapture.capture.CaptureConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/** The real agent (controller and CaptureManager running real tcpdump) inside the test JVM, with its own client. */
final class LocalAgent implements AutoCloseable {
  final AgentConfig config;
  final Agent agent;
  private final KubernetesClient client;

  private LocalAgent(AgentConfig config, Agent agent, KubernetesClient client) {
    this.config = config;
    this.agent = agent;
    this.client = client;
  }

  /** Starts an agent on node-a writing into {@code captureDir}; {@code env} overrides the test defaults. */
  static LocalAgent start(KubernetesClient client, Path captureDir, Map<String, String> env) throws Exception {
    return start(client, captureDir, env, UnaryOperator.identity());
  }

  static LocalAgent start(KubernetesClient client, Path captureDir, Map<String, String> env,
      UnaryOperator<CaptureConfig> capture) throws Exception {
    Map<String, String> all = new HashMap<>(Map.of("NODE_NAME", Cluster.NODE, "POD_NAME", "agent-a",
        "CAPTURE_DIR", captureDir.toString(), "STATUS_REFRESH_SECONDS", "1", "STOP_GRACE_SECONDS", "2",
        "HTTP_PORT", "0"));
    all.putAll(env);
    AgentConfig config = AgentConfig.fromEnvironment(all);
    try {
      return new LocalAgent(config, Agent.start(config, client, capture.apply(Agent.captureConfig(config))), client);
    } catch (Exception e) {
      client.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      agent.close();
    } finally {
      client.close();
    }
  }
}
