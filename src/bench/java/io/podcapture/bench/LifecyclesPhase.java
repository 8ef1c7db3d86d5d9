package io.podcapture.bench;

import io.podcapture.testing.Processes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Single captures of each kind, one after the other, each on its own Pod: start and stop latency
 * and the agent's requests per capture lifecycle.
 */
final class LifecyclesPhase {

  /**
   * Rounds of a kind that fail one after the other before the benchmark gives the kind up: each
   * failed round waits 20 s, and an agent that stopped answering would hold the run for an hour.
   */
  static final int GIVE_UP_AFTER = 3;

  /**
   * How the single-capture rounds start and stop one capture of a kind, and the name of its
   * PodCapture.
   */
  record CaptureKind(
      String title,
      String started,
      String stopped,
      UnaryOperator<String> captureName,
      BiConsumer<Session, String> start,
      BiConsumer<Session, String> stop) {}

  /**
   * The annotation's capture: its PodCapture is named after the Pod, made and deleted by the agent.
   */
  static final CaptureKind ANNOTATION =
      new CaptureKind(
          "annotation capture",
          "annotation",
          "annotation removed",
          pod -> pod,
          (s, pod) -> s.annotate(pod, "5"),
          (s, pod) -> s.annotate(pod, null));

  /**
   * A PodCapture a user creates and deletes, with no annotation: the agent labels it, holds it and
   * lets it go.
   */
  static final CaptureKind DIRECT =
      new CaptureKind(
          "direct PodCapture",
          "PodCapture created",
          "PodCapture deleted",
          pod -> pod + "-direct",
          (s, pod) -> s.createCapture(pod + "-direct", pod),
          (s, pod) -> s.deleteCapture(pod + "-direct"));

  /** One capture's times in ms, from the start or the stop request. */
  record Times(
      double toTcpdump, double toRunning, double toGone, double toFilesDeleted, double toCrGone) {
    double toGoneAndFilesDeleted() {
      return Math.max(toGone, toFilesDeleted);
    }
  }

  /** What the single-capture rounds of one kind measured; times in ms. */
  record Rounds(
      CaptureKind kind,
      List<Times> times,
      List<Map<String, Integer>> lifecycles,
      int otherCalls,
      int failures) {

    List<Double> of(java.util.function.ToDoubleFunction<Times> what) {
      return times.stream().map(t -> what.applyAsDouble(t)).toList();
    }
  }

  /** Both kinds, with the agent's ready time and the load before and after. */
  record Result(
      int rounds, double readyMs, String load0, String load1, Rounds annotation, Rounds direct) {}

  private final Workbench bench;

  LifecyclesPhase(Workbench bench) {
    this.bench = bench;
  }

  Result measure(Session s, double readyMs) {
    String load0 = Machine.loadAverage();
    Rounds annotation = rounds(s, ANNOTATION);
    Rounds direct = rounds(s, DIRECT);
    return new Result(bench.rounds(), readyMs, load0, Machine.loadAverage(), annotation, direct);
  }

  /**
   * {@link Workbench#rounds()} captures of one kind, one after the other, each on its own Pod:
   * started, held 200 ms, stopped; times taken as BENCHMARKS.md says, and the agent's requests
   * about each capture counted from its start until 300 ms after its PodCapture is gone.
   */
  private Rounds rounds(Session s, CaptureKind kind) {
    List<Times> times = new ArrayList<>();
    List<Map<String, Integer>> lifecycles = new ArrayList<>();
    int failures = 0;
    int failedInARow = 0;
    int otherCalls = 0;
    int rounds = bench.rounds();
    for (int r = 0; r < rounds; r++) {
      if (failedInARow == GIVE_UP_AFTER) {
        bench.notes.add(
            kind.title()
                + " against "
                + s.api.describe()
                + ": "
                + GIVE_UP_AFTER
                + " captures in a row did not complete, the other "
                + (rounds - r)
                + " were not tried (see target/bench/logs/)");
        failures += rounds - r;
        break;
      }
      String pod = Workload.podName(r);
      String name = kind.captureName().apply(pod);
      long t0 = System.nanoTime();
      Times t = oneCapture(s, kind, pod, r);
      if (t == null) {
        failures++;
        failedInARow++;
        continue;
      }
      failedInARow = 0;
      times.add(t);
      if (r % 10 == 9) {
        Workbench.log(
            "%s, round %d: start %s / %s, stop %s",
            kind.title(),
            r + 1,
            Stats.ms(t.toTcpdump()),
            Stats.ms(t.toRunning()),
            Stats.ms(t.toFilesDeleted()));
      }
      if (!s.api.recordsCalls()) {
        continue;
      }
      List<BenchApiServer.Call> window = s.api.agentCalls(t0, System.nanoTime());
      // the capture's PodCapture, and Events about it or its Pod (the annotation's capture
      // reports on the Pod)
      List<BenchApiServer.Call> mine =
          window.stream().filter(c -> c.concerns(name) || c.concerns(pod)).toList();
      otherCalls += window.size() - mine.size();
      lifecycles.add(lifecycle(kind, name, mine));
    }
    return new Rounds(kind, times, lifecycles, otherCalls, failures);
  }

  /** Starts, holds and stops one capture; its times, or null (logged) when one never came. */
  private static Times oneCapture(Session s, CaptureKind kind, String pod, int r) {
    String name = kind.captureName().apply(pod);
    long t0 = System.nanoTime();
    kind.start().accept(s, pod);
    Long[] started =
        Timing.awaitAll(
            t0,
            10_000,
            () -> s.ringStarted(name) ? System.nanoTime() : null,
            () -> s.runningAt.get(name));
    long pid = s.tcpdumpPid(name);
    AgentProcess.sleepMillis(200);
    long t1 = System.nanoTime();
    kind.stop().accept(s, pod);
    Long[] stopped =
        Timing.awaitAll(
            t1,
            10_000,
            () -> pid > 0 && !Processes.alive(pid) ? System.nanoTime() : null,
            () -> s.filesGone(name) ? System.nanoTime() : null,
            () -> s.deletedAt.get(name));
    AgentProcess.sleepMillis(300);
    if (Stream.of(started).anyMatch(x -> x == null)
        || Stream.of(stopped).anyMatch(x -> x == null)
        || pid < 0) {
      Workbench.log(
          "%s %d (%s) incomplete: started %s stopped %s pid %d",
          kind.title(), r, name, Arrays.toString(started), Arrays.toString(stopped), pid);
      return null;
    }
    return new Times(
        Timing.ms(started[0] - t0),
        Timing.ms(started[1] - t0),
        Timing.ms(stopped[0] - t1),
        Timing.ms(stopped[1] - t1),
        Timing.ms(stopped[2] - t1));
  }

  /**
   * The capture's requests by verb, size refreshes apart; a note lists them all when the lifecycle
   * took more than 6 writes.
   */
  private Map<String, Integer> lifecycle(
      CaptureKind kind, String name, List<BenchApiServer.Call> mine) {
    Map<String, Integer> counts = ApiCalls.countByVerb(mine);
    int refreshes = ApiCalls.sizeRefreshes(mine);
    if (refreshes > 0) {
      counts.put("update podcaptures/status, sizes only", refreshes);
      counts.merge("update podcaptures/status", -refreshes, Integer::sum);
    }
    long writes = mine.stream().filter(BenchApiServer.Call::isWrite).count() - refreshes;
    if (writes > 6) {
      bench.notes.add(
          kind.title()
              + " "
              + name
              + " made "
              + writes
              + " writes: "
              + mine.stream().map(ApiCalls::describe).collect(Collectors.joining("; ")));
    }
    return counts;
  }
}
