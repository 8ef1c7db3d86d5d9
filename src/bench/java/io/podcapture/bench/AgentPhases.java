package io.podcapture.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent phases on one agent with the shipped flags: the single captures of both kinds when
 * asked for "lifecycles", then 100 captures at once and the steady state when asked for "load".
 */
final class AgentPhases {

  /** Either part may be null: it was not asked for. */
  record Result(LifecyclesPhase.Result lifecycles, LoadPhase.Result load) {}

  private final Workbench bench;

  AgentPhases(Workbench bench) {
    this.bench = bench;
  }

  Result measure(Shipped shipped, boolean lifecycles, boolean load) throws Exception {
    Map<String, String> env = new HashMap<>(shipped.env());
    env.put("MAX_CAPTURES", Integer.toString(LoadPhase.BURST_MAX_CAPTURES));
    env.put("STATUS_REFRESH_SECONDS", Integer.toString(LoadPhase.REFRESH_SECONDS));
    try (Session s =
        new Session(
            bench.work.resolve("agent"),
            bench.logs().resolve("agent.log"),
            bench.podIps,
            shipped.flags(),
            List.of("-jar", bench.jar().toString()),
            env)) {
      bench.podJsonBytesSeen = s.podJsonBytes;
      double readyMs = s.agent.awaitReady(60);
      Workbench.log("agent ready in %.0f ms (%s)", readyMs, s.agent.readySource());
      AgentProcess.sleepMillis(2000);
      LifecyclesPhase.Result single =
          lifecycles ? new LifecyclesPhase(bench).measure(s, readyMs) : null;
      LoadPhase.Result many = load ? new LoadPhase(bench).measure(s) : null;
      return new Result(single, many);
    }
  }
}
