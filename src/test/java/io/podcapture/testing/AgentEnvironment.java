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
}
