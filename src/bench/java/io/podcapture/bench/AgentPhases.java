package io.podcapture.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent phases on one agent with the shipped flags: the single captures of both kinds when
 * asked for "lifecycles", then 100 captures at once and the steady state when asked for "load"; and
 * the single captures again against a real API server when there is one.
 */
final class AgentPhases {

  /** Either part may be null: it was not asked for. */
  record Result(LifecyclesPhase.Result lifecycles, LoadPhase.Result load) {}

  private final Workbench bench;

  AgentPhases(Workbench bench) {
    this.bench = bench;
  }

  Result measure(Shipped shipped, boolean lifecycles, boolean load) throws Exception {
    try (Session s = open(new BenchApiServer(), "agent", shipped)) {
      double readyMs = ready(s);
      LifecyclesPhase.Result single =
          lifecycles ? new LifecyclesPhase(bench).measure(s, readyMs) : null;
      LoadPhase.Result many = load ? new LoadPhase(bench).measure(s) : null;
      return new Result(single, many);
    }
  }

  /** The single captures of both kinds, with the agent talking to {@code real}. */
  LifecyclesPhase.Result measureOnRealServer(Shipped shipped, RealApiServer real) throws Exception {
    try (Session s = open(real, "agent-real", shipped)) {
      return new LifecyclesPhase(bench).measure(s, ready(s));
    }
  }

  private Session open(ApiServer api, String name, Shipped shipped) throws Exception {
    Map<String, String> env = new HashMap<>(shipped.env());
    env.put("MAX_CAPTURES", Integer.toString(LoadPhase.BURST_MAX_CAPTURES));
    env.put("STATUS_REFRESH_SECONDS", Integer.toString(LoadPhase.REFRESH_SECONDS));
    Session s =
        new Session(
            api,
            bench.work.resolve(name),
            bench.logs().resolve(name + ".log"),
            bench.podIps,
            shipped.flags(),
            List.of("-jar", bench.jar().toString()),
            env);
    bench.podJsonBytesSeen = api.recordsCalls() ? s.podJsonBytes : bench.podJsonBytesSeen;
    return s;
  }

  private static double ready(Session s) throws Exception {
    double readyMs = s.agent.awaitReady(60);
    Workbench.log(
        "agent ready in %.0f ms (%s) against %s", readyMs, s.agent.readySource(), s.api.describe());
    AgentProcess.sleepMillis(2000);
    return readyMs;
  }
}
