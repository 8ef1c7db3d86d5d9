package io.podcapture.bench;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.NetnsPod.PingResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * 100 Pods annotated at once, the steady state with those 100 captures running, all 100 stopped at
 * once, and the agent's exit.
 */
final class LoadPhase {
  static final int BURST = 100;
  static final int BURST_MAX_CAPTURES = 128;
  static final int STEADY_SECONDS = 60;
  static final int REFRESH_SECONDS = 10;

  /** The burst: ms from the first PATCH until each tcpdump ran and each status said Running. */
  record Burst(
      double patchedMs,
      String load,
      List<Double> toTcpdump,
      List<Double> toRunning,
      List<String> runningByListOnly,
      long cpuMillis,
      List<BenchApiServer.Call> calls) {}

  /** The steady state's window: the agent's requests, CPU and memory with 100 captures. */
  record Steady(
      List<BenchApiServer.Call> calls,
      long windowNanos,
      long cpuMillis,
      String load0,
      String load1,
      AgentProcess.Footprint at100,
      List<long[]> tcpdumpKiB) {}

  /** ms from removing all 100 annotations until each was done; null if not within 60 s. */
  record StopAll(Double tcpdumpsGone, Double filesDeleted, Double capturesGone) {}

  /** All of it, and how long the agent took to exit on SIGTERM. */
  record Result(Burst burst, Steady steady, StopAll stopAll, double shutdownMs) {}

  private final Workbench bench;

  LoadPhase(Workbench bench) {
    this.bench = bench;
  }

  Result measure(Session s) throws Exception {
    List<String> burstPods = IntStream.range(0, BURST).mapToObj(Workload::podName).toList();
    Burst burst = burst(s, burstPods);
    Steady steady = steady(s);
    StopAll stopAll = stopAll(s, burstPods);
    double shutdown = s.agent.stop();
    return new Result(burst, steady, stopAll, shutdown);
  }

  /**
   * Burst PodCaptures the server holds Running that the informer has not seen so: noted as Running
   * now. The mock server's watch has been seen to drop one event of the burst (the server held the
   * PodCapture Running, its status write answered 200, and no watch or informer event ever came),
   * so once every tcpdump runs the benchmark also lists, every 200 ms.
   */
  private static List<String> runningOnTheServer(Session s, List<String> burstPods) {
    List<String> found = new ArrayList<>();
    for (PodCapture cr :
        s.user.resources(PodCapture.class).inNamespace(Workload.NAMESPACE).list().getItems()) {
      String name = cr.getMetadata().getName();
      if (burstPods.contains(name)
          && !s.runningAt.containsKey(name)
          && cr.getStatus() != null
          && "Running".equals(cr.getStatus().getPhase())
          && s.runningAt.putIfAbsent(name, System.nanoTime()) == null) {
        found.add(name);
      }
    }
    return found;
  }

  private static Burst burst(Session s, List<String> burstPods) throws Exception {
    s.api.forget();
    burstPods.forEach(
        p -> {
          s.runningAt.remove(p);
          s.deletedAt.remove(p);
        });
    String load = Machine.loadAverage();
    long cpu0 = s.agent.cpuMillis();
    long tb = System.nanoTime();
    s.annotateAll(burstPods, "5");
    double patched = Timing.ms(System.nanoTime() - tb);
    Map<String, Long> tcpdumpAt = new HashMap<>();
    List<String> listedOnly = new ArrayList<>();
    long nextList = 0;
    long deadline = tb + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline
        && (tcpdumpAt.size() < BURST || s.runningAt.size() < BURST)) {
      for (String p : burstPods) {
        if (!tcpdumpAt.containsKey(p) && s.ringStarted(p)) {
          tcpdumpAt.put(p, System.nanoTime());
        }
      }
      if (tcpdumpAt.size() == BURST && System.nanoTime() >= nextList) {
        listedOnly.addAll(runningOnTheServer(s, burstPods));
        nextList = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
      }
      AgentProcess.sleepMillis(2);
    }
    List<Double> toTcpdump = tcpdumpAt.values().stream().map(t -> Timing.ms(t - tb)).toList();
    List<Double> toRunning =
        burstPods.stream()
            .map(s.runningAt::get)
            .filter(Objects::nonNull)
            .map(t -> Timing.ms(t - tb))
            .toList();
    long cpu = s.agent.cpuMillis() - cpu0;
    List<BenchApiServer.Call> calls = s.api.agentCalls(tb, System.nanoTime());
    return new Burst(patched, load, toTcpdump, toRunning, List.copyOf(listedOnly), cpu, calls);
  }

  /**
   * A window of STEADY_SECONDS, starting a refresh and 5 s after the burst, while the real Pods
   * ping 5 times a second so their files grow.
   */
  private Steady steady(Session s) {
    List<CompletableFuture<PingResult>> traffic = new ArrayList<>();
    for (NetnsPod p : bench.realPods) {
      traffic.add(
          CompletableFuture.supplyAsync(
              () ->
                  p.ping(
                      Ping.count((STEADY_SECONDS + 25) * 5)
                          .interval(Duration.ofMillis(200))
                          .deadline(Duration.ofSeconds(STEADY_SECONDS + 25)))));
    }
    AgentProcess.sleepMillis((REFRESH_SECONDS + 5) * 1000L);
    s.api.forget();
    String load0 = Machine.loadAverage();
    long cpu0 = s.agent.cpuMillis();
    long w0 = System.nanoTime();
    AgentProcess.sleepMillis(STEADY_SECONDS * 1000L);
    long w1 = System.nanoTime();
    long cpu1 = s.agent.cpuMillis();
    String load1 = Machine.loadAverage();
    AgentProcess.Footprint at100 = s.agent.footprint();
    List<long[]> tcpdumpKiB = s.tcpdumpMemoryKiB();
    List<BenchApiServer.Call> calls = s.api.agentCalls(w0, w1);
    traffic.forEach(CompletableFuture::join);
    return new Steady(calls, w1 - w0, cpu1 - cpu0, load0, load1, at100, tcpdumpKiB);
  }

  private static StopAll stopAll(Session s, List<String> burstPods) throws Exception {
    long ts = System.nanoTime();
    s.annotateAll(burstPods, null);
    Long[] at =
        Timing.awaitAll(
            ts,
            60_000,
            () -> s.agent.children().isEmpty() ? System.nanoTime() : null,
            () -> burstPods.stream().allMatch(s::filesGone) ? System.nanoTime() : null,
            () -> s.deletedAt.keySet().containsAll(burstPods) ? System.nanoTime() : null);
    return new StopAll(Timing.since(at[0], ts), Timing.since(at[1], ts), Timing.since(at[2], ts));
  }
}
