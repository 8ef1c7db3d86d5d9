package io.podcapture.testing;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The tests' one place that builds the agent's environment (what the DaemonSet sets), for an
 * in-process agent ({@code AgentConfig.fromEnvironment}) and an agent JVM alike. Defaults suit
 * tests: node {@link Pods#NODE}, status refreshed every second, a 2 s stop grace, the monitoring
 * port picked by the kernel.
 */
public final class AgentEnvironment {
  private AgentEnvironment() {}

  /**
   * The defaults, then {@code overrides}; {@code captureDir} may be null (an agent that captures
   * nothing).
   */
  public static Map<String, String> of(Path captureDir, Map<String, String> overrides) {
    Map<String, String> env =
        new HashMap<>(
            Map.of(
                "NODE_NAME",
                Pods.NODE,
                "POD_NAME",
                "agent-a",
                "STATUS_REFRESH_SECONDS",
                "1",
                "STOP_GRACE_SECONDS",
                "2",
                "HTTP_PORT",
                "0"));
    if (captureDir != null) {
      env.put("CAPTURE_DIR", captureDir.toString());
    }
    env.putAll(overrides);
    return env;
  }

  /**
   * What the DaemonSet sets and nothing more, every other setting at the agent's own default (the
   * benchmark measures the agent as shipped): node, agent Pod, capture folder, then {@code
   * overrides}.
   */
  public static Map<String, String> asDeployed(
      String node, Path captureDir, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("NODE_NAME", node);
    env.put("POD_NAME", "podcapture-agent-" + node);
    env.put("POD_NAMESPACE", "kube-system");
    env.put("CAPTURE_DIR", captureDir.toString());
    env.putAll(overrides);
    return env;
  }
}
