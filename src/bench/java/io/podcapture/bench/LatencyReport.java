package io.podcapture.bench;

import io.podcapture.bench.LifecyclesPhase.CaptureKind;
import io.podcapture.bench.LifecyclesPhase.Rounds;
import io.podcapture.bench.LifecyclesPhase.Times;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** BENCHMARKS.md's start and stop latency and API cost sections, from the single captures. */
final class LatencyReport {
  private LatencyReport() {}

  static void targets(LifecyclesPhase.Result r, Targets targets) {
    for (Rounds rounds : List.of(r.annotation(), r.direct())) {
      latencyTargets(rounds, targets);
    }
    for (Rounds rounds : List.of(r.annotation(), r.direct())) {
      ApiCost cost = ApiCost.of(rounds);
      targets.add(
          "≤ 6 writes per capture lifecycle, " + rounds.kind().title() + " (beyond size refreshes)",
          String.format(
              Locale.ROOT, "%.2f on average, at most %d", cost.writes(), cost.maxWrites()),
          !rounds.lifecycles().isEmpty() && cost.maxWrites() <= 6);
    }
  }

  private static void latencyTargets(Rounds r, Targets targets) {
    Stats startT = Stats.of(r.of(Times::toTcpdump));
    Stats stopPF = Stats.of(r.of(Times::toGoneAndFilesDeleted));
    CaptureKind k = r.kind();
    targets.add(
        "start (" + k.title() + "): p99 " + k.started() + " → tcpdump running ≤ 200 ms",
        "p99 "
            + Stats.ms(startT.p99())
            + " (p50 "
            + Stats.ms(startT.p50())
            + "; Running in status p99 "
            + Stats.ms(Stats.of(r.of(Times::toRunning)).p99())
            + ")",
        startT.n() > 0 && startT.p99() <= 200);
    targets.add(
        "stop ("
            + k.title()
            + "): p99 "
            + k.stopped()
            + " → tcpdump gone and files deleted ≤ 500 ms",
        "p99 "
            + Stats.ms(stopPF.p99())
            + " (p50 "
            + Stats.ms(stopPF.p50())
            + "; CR gone p99 "
            + Stats.ms(Stats.of(r.of(Times::toCrGone)).p99())
            + ")",
        stopPF.n() > 0 && stopPF.p99() <= 500);
  }

  static String markdown(LifecyclesPhase.Result r) {
    StringBuilder md = new StringBuilder("## Start and stop latency\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%d single captures of each kind, one after the other, each on its "
                + "own Pod: by annotation (`\"5\"`, then removed; %d incomplete), then by a PodCapture created directly "
                + "(`podName` and `maxFiles: 1`, labelled with the node as the cluster controller labels it, no annotation; then deleted; %d incomplete). Agent: shipped "
                + "jar and flags, ready %.0f ms after process start. Load %s → %s.%n%n",
            r.rounds(),
            r.annotation().failures(),
            r.direct().failures(),
            r.readyMs(),
            r.load0(),
            r.load1()));
    md.append("| | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n");
    for (Rounds rounds : List.of(r.annotation(), r.direct())) {
      md.append(latencyRows(rounds));
    }
    md.append('\n');
    md.append(
        "In a cluster a direct PodCapture goes through two hands on its way to tcpdump: the cluster "
            + "controller labels it with its Pod's node, then that node's agent, watching its label, sees it, "
            + "adds the finalizer and starts tcpdump. No controller runs here: the PodCapture is created "
            + "labelled, so these times are the agent's part only.\n\n");
    md.append("## API cost of one capture\n\n");
    md.append(apiCost(r.annotation(), "annotate → Running → remove → PodCapture gone"));
    md.append(apiCost(r.direct(), "create → Running → delete → PodCapture gone"));
    return md.toString();
  }

  /**
   * The single captures' start and stop latency side by side: the agent against the mock API server
   * and against a real one, one after the other in this run.
   */
  static String mockAndReal(LifecyclesPhase.Result mock, ReportWriter.RealServer real) {
    LifecyclesPhase.Result r = real.lifecycles();
    StringBuilder md = new StringBuilder("## Start and stop latency: mock and real API server\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "The same %d single captures of each kind again, the agent (shipped jar and flags, ready"
                + " %.0f ms after process start) now talking to %s, started for this run on loopback"
                + " with controlplane/up.sh (%d and %d incomplete); the mock columns are the table"
                + " above. Load %s → %s.%n%n",
            r.rounds(),
            r.readyMs(),
            real.server(),
            r.annotation().failures(),
            r.direct().failures(),
            r.load0(),
            r.load1()));
    md.append(
        "| | n (mock / real) | p50 mock | p50 real | p99 mock | p99 real |\n"
            + "|---|---|---|---|---|---|\n");
    List<Rounds> mockKinds = List.of(mock.annotation(), mock.direct());
    List<Rounds> realKinds = List.of(r.annotation(), r.direct());
    for (int i = 0; i < 2; i++) {
      Rounds m = mockKinds.get(i);
      Rounds x = realKinds.get(i);
      CaptureKind k = m.kind();
      md.append(pair(k.started() + " → tcpdump running", m, x, Times::toTcpdump));
      md.append(pair(k.started() + " → `Running` in the status", m, x, Times::toRunning));
      md.append(
          pair(
              k.stopped() + " → tcpdump gone and files deleted",
              m,
              x,
              Times::toGoneAndFilesDeleted));
      md.append(pair(k.stopped() + " → PodCapture gone", m, x, Times::toCrGone));
    }
    return md.append('\n').toString();
  }

  private static String pair(
      String what, Rounds mock, Rounds real, java.util.function.ToDoubleFunction<Times> of) {
    Stats m = Stats.of(mock.of(of));
    Stats x = Stats.of(real.of(of));
    return String.format(
        Locale.ROOT,
        "| %s | %d / %d | %s | %s | %s | %s |%n",
        what,
        m.n(),
        x.n(),
        Stats.ms(m.p50()),
        Stats.ms(x.p50()),
        Stats.ms(m.p99()),
        Stats.ms(x.p99()));
  }

  private static String latencyRows(Rounds r) {
    CaptureKind k = r.kind();
    return Markdown.row(k.started() + " → tcpdump running", Stats.of(r.of(Times::toTcpdump)))
        + Markdown.row(
            k.started() + " → `Running` in the PodCapture status (watch)",
            Stats.of(r.of(Times::toRunning)))
        + Markdown.row(k.stopped() + " → tcpdump gone", Stats.of(r.of(Times::toGone)))
        + Markdown.row(k.stopped() + " → files deleted", Stats.of(r.of(Times::toFilesDeleted)))
        + Markdown.row(
            k.stopped() + " → tcpdump gone and files deleted",
            Stats.of(r.of(Times::toGoneAndFilesDeleted)))
        + Markdown.row(k.stopped() + " → PodCapture gone (watch)", Stats.of(r.of(Times::toCrGone)));
  }

  /** Requests per lifecycle: each "verb resource" summed and at most, writes per lifecycle. */
  private record ApiCost(
      Map<String, int[]> byVerb, double total, double writes, int maxWrites, int n) {

    static ApiCost of(Rounds rounds) {
      Map<String, int[]> byVerb = new TreeMap<>();
      int maxWrites = 0;
      double writes = 0;
      double total = 0;
      for (Map<String, Integer> l : rounds.lifecycles()) {
        int w = 0;
        for (Map.Entry<String, Integer> e : l.entrySet()) {
          if (e.getValue() == 0) {
            continue;
          }
          int[] agg = byVerb.computeIfAbsent(e.getKey(), k -> new int[2]);
          agg[0] += e.getValue();
          agg[1] = Math.max(agg[1], e.getValue());
          total += e.getValue();
          if (ApiCalls.isWrite(e.getKey()) && !e.getKey().endsWith("sizes only")) {
            w += e.getValue();
          }
        }
        maxWrites = Math.max(maxWrites, w);
        writes += w;
      }
      int n = Math.max(1, rounds.lifecycles().size());
      return new ApiCost(byVerb, total / n, writes / n, maxWrites, n);
    }
  }

  private static String apiCost(Rounds rounds, String lifecycle) {
    ApiCost cost = ApiCost.of(rounds);
    StringBuilder md = new StringBuilder();
    md.append("### ").append(Markdown.capitalised(rounds.kind().title())).append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Requests the agent made per capture lifecycle (%s), over the %d single "
                + "captures above: %.2f in all, %.2f of them writes (at most %d in one lifecycle). Counted are the "
                + "requests about the capture's own PodCapture and the Events about it or its Pod; the agent made %d "
                + "requests about other things (Lease renewals, for one) during these lifecycles. No size refresh is due "
                + "inside a lifecycle this short.%n%n",
            lifecycle,
            rounds.lifecycles().size(),
            cost.total(),
            cost.writes(),
            cost.maxWrites(),
            rounds.otherCalls()));
    md.append("| request | write | mean per lifecycle | max |\n|---|---|---|---|\n");
    cost.byVerb()
        .forEach(
            (k, v) ->
                md.append(
                    String.format(
                        Locale.ROOT,
                        "| %s | %s | %.2f | %d |%n",
                        k,
                        k.endsWith("sizes only")
                            ? "yes, a size refresh"
                            : ApiCalls.isWrite(k) ? "yes" : "no",
                        v[0] / (double) cost.n(),
                        v[1])));
    md.append('\n');
    return md.toString();
  }
}
