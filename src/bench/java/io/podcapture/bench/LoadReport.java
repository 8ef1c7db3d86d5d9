package io.podcapture.bench;

import static io.podcapture.bench.LoadPhase.BURST;
import static io.podcapture.bench.LoadPhase.BURST_MAX_CAPTURES;
import static io.podcapture.bench.LoadPhase.REFRESH_SECONDS;
import static io.podcapture.bench.Workbench.REAL_PODS;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/** BENCHMARKS.md's sections on 100 captures at once, their steady state and their stop. */
final class LoadReport {
  private LoadReport() {}

  static void targets(LoadPhase.Result r, Targets targets) {
    Stats bt = Stats.of(r.burst().toTcpdump());
    Stats br = Stats.of(r.burst().toRunning());
    boolean allRunning = br.n() == BURST;
    targets.add(
        "100 simultaneous annotations all `Running` ≤ 5 s",
        allRunning
            ? "all "
                + BURST
                + " in "
                + Stats.ms(br.max())
                + " (tcpdump: "
                + Stats.ms(bt.max())
                + ")"
            : "only " + br.n() + " of " + BURST + " Running within 60 s",
        allRunning && br.max() <= 5000);
    StatusWrites w = StatusWrites.of(r.steady());
    double seconds = r.steady().windowNanos() / 1e9;
    targets.add(
        "steady state: ≤ 1 status write per capture per refresh, none when unchanged",
        String.format(
            Locale.ROOT,
            "%d writes for %d unchanged captures; at most %d per changing capture in %.0f s (≤ %d allowed); "
                + "%.1f requests/min in all",
            w.idle(),
            BURST - REAL_PODS,
            w.maxPerCapture(),
            seconds,
            w.allowed(),
            r.steady().calls().size() / (r.steady().windowNanos() / 60e9)),
        w.idle() == 0 && w.maxPerCapture() <= w.allowed());
  }

  static String markdown(LoadPhase.Result r) {
    LoadPhase.StopAll stop = r.stopAll();
    return burst(r.burst())
        + steady(r.steady())
        + String.format(
            Locale.ROOT,
            "Removing the annotation from all %d Pods at once: every tcpdump gone "
                + "after %s, every file deleted after %s, every PodCapture gone after %s.%n%n",
            BURST,
            Markdown.opt(stop.tcpdumpsGone()),
            Markdown.opt(stop.filesDeleted()),
            Markdown.opt(stop.capturesGone()))
        + String.format(Locale.ROOT, "The agent exited %.0f ms after SIGTERM.%n%n", r.shutdownMs());
  }

  private static String burst(LoadPhase.Burst b) {
    StringBuilder md = new StringBuilder("## 100 Pods annotated at once\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%d Pods annotated by 8 concurrent PATCHes (all sent within %.0f ms), "
                + "with `MAX_CAPTURES=%d` for this run (the default, 16, would keep %d of them Pending by design). "
                + "Times from the first PATCH. Load %s.%n%n",
            BURST,
            b.patchedMs(),
            BURST_MAX_CAPTURES,
            BURST - 16,
            b.load()));
    md.append("| | n | p50 | p90 | p99 | last (all) |\n|---|---|---|---|---|---|\n");
    md.append(Markdown.row("tcpdump running", Stats.of(b.toTcpdump())));
    md.append(Markdown.row("`Running` in the PodCapture status", Stats.of(b.toRunning())));
    md.append('\n');
    if (!b.runningByListOnly().isEmpty()) {
      md.append(
          String.format(
              Locale.ROOT,
              "The mock server's watch never delivered `Running` for %s, though the server held it "
                  + "(the agent's status write was answered 200): its time is when the benchmark's "
                  + "LIST, every 200 ms once all tcpdumps ran, first showed it, an upper bound.%n%n",
              String.join(", ", b.runningByListOnly())));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "The agent used %.1f s of CPU for the burst and made %d requests (%s).%n%n",
            b.cpuMillis() / 1000.0,
            b.calls().size(),
            ApiCalls.summary(ApiCalls.countByVerb(b.calls()))));
    return md.toString();
  }

  /** The steady state's status writes: by captures with traffic and without, and how close. */
  private record StatusWrites(
      int withTraffic, int idle, int maxPerCapture, double minGap, int allowed) {

    static StatusWrites of(LoadPhase.Steady s) {
      Map<String, List<Long>> byCapture = new TreeMap<>();
      for (BenchApiServer.Call c : s.calls()) {
        if (c.isWrite() && "podcaptures/status".equals(c.resource())) {
          byCapture.computeIfAbsent(c.name(), k -> new ArrayList<>()).add(c.nanos());
        }
      }
      List<String> trafficPods = IntStream.range(0, REAL_PODS).mapToObj(Workload::podName).toList();
      int withTraffic = 0;
      int idle = 0;
      double minGap = Double.MAX_VALUE;
      int maxPerCapture = 0;
      for (Map.Entry<String, List<Long>> e : byCapture.entrySet()) {
        List<Long> times = e.getValue();
        if (trafficPods.contains(e.getKey())) {
          withTraffic += times.size();
        } else {
          idle += times.size();
        }
        maxPerCapture = Math.max(maxPerCapture, times.size());
        for (int i = 1; i < times.size(); i++) {
          minGap = Math.min(minGap, (times.get(i) - times.get(i - 1)) / 1e9);
        }
      }
      int allowed = (int) Math.ceil(s.windowNanos() / 1e9 / REFRESH_SECONDS);
      return new StatusWrites(withTraffic, idle, maxPerCapture, minGap, allowed);
    }
  }

  private static String steady(LoadPhase.Steady s) {
    double minutes = s.windowNanos() / 60e9;
    StatusWrites w = StatusWrites.of(s);
    StringBuilder md = new StringBuilder("## Steady state with 100 captures\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%d captures running, `STATUS_REFRESH_SECONDS=%d`; %d of the Pods "
                + "(real namespaces) ping 5 times a second so their files grow, the other %d see no traffic. Window of "
                + "%.0f s, starting %d s after the burst. Load %s → %s.%n%n",
            BURST,
            REFRESH_SECONDS,
            REAL_PODS,
            BURST - REAL_PODS,
            s.windowNanos() / 1e9,
            REFRESH_SECONDS + 5,
            s.load0(),
            s.load1()));
    md.append("| request | write | per minute |\n|---|---|---|\n");
    ApiCalls.countByVerb(s.calls())
        .forEach(
            (k, v) ->
                md.append(
                    String.format(
                        Locale.ROOT,
                        "| %s | %s | %.1f |%n",
                        k,
                        ApiCalls.isWrite(k) ? "yes" : "no",
                        v / minutes)));
    md.append(String.format(Locale.ROOT, "| all | | %.1f |%n%n", s.calls().size() / minutes));
    md.append(
        String.format(
            Locale.ROOT,
            "Status writes: %d for the %d captures with traffic (at most %d for one "
                + "capture in the window, %s apart at the closest), %d for the %d captures without. Agent CPU: %.0f "
                + "millicores on average. Agent with 100 captures: RSS %s, heap used %s, %d threads; tcpdump %s "
                + "each; agent and tcpdumps together in their memory cgroup: %s.%n%n",
            w.withTraffic(),
            REAL_PODS,
            w.maxPerCapture(),
            w.minGap() == Double.MAX_VALUE
                ? "n/a"
                : String.format(Locale.ROOT, "%.1f s", w.minGap()),
            w.idle(),
            BURST - REAL_PODS,
            s.cpuMillis() / (s.windowNanos() / 1e9),
            Markdown.mib(s.at100().rssKiB()),
            Markdown.mib(s.at100().heapUsedKiB()),
            s.at100().threads(),
            Markdown.rssRange(s.tcpdumpKiB()),
            Markdown.mib(s.at100().cgroupKiB())));
    return md.toString();
  }
}
