package io.podcapture.bench;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Turns one run's results into BENCHMARKS.md: the run's setting, the targets, then a section per
 * phase that ran, how it measures, and the notes.
 */
final class ReportWriter {

  /** What one run measured; a phase that did not run is null. */
  record Results(
      CompletenessPhase.Result completeness,
      CpuPerPacketPhase.Result cpu,
      FootprintPhase.Result footprint,
      AgentPhases.Result agent,
      RealServer real) {}

  /** The single captures against a real API server, and which one; null when none ran. */
  record RealServer(String server, LifecyclesPhase.Result lifecycles) {}

  /** What the run was: its command, machine, shipped flags, length and Pods. */
  record Setting(
      String command, Machine machine, Shipped shipped, double minutes, int podJsonBytes) {}

  private ReportWriter() {}

  static String write(Setting setting, Results results, List<String> notes) {
    StringBuilder md = new StringBuilder();
    md.append(header(setting, results.real()));
    md.append(targets(results).markdown());
    md.append(sections(results));
    md.append(
        HowItMeasures.markdown(
            setting.podJsonBytes(), results.real() == null ? null : results.real().server()));
    if (!notes.isEmpty()) {
      md.append("## Notes\n\n");
      notes.forEach(n -> md.append("- ").append(n).append('\n'));
      md.append('\n');
    }
    return md.toString();
  }

  /** The targets in the order the phases ran. */
  private static Targets targets(Results r) {
    Targets targets = new Targets();
    if (r.completeness() != null) {
      FloodReport.targets(r.completeness(), targets);
    }
    if (r.cpu() != null) {
      FloodReport.targets(r.cpu(), targets);
    }
    if (r.footprint() != null) {
      FootprintReport.targets(r.footprint(), targets);
    }
    if (r.agent() != null && r.agent().lifecycles() != null) {
      LatencyReport.targets(r.agent().lifecycles(), targets);
    }
    if (r.agent() != null && r.agent().load() != null) {
      LoadReport.targets(r.agent().load(), targets);
    }
    return targets;
  }

  /** The sections, the agent's first: they hold the figures most readers come for. */
  private static String sections(Results r) {
    StringBuilder md = new StringBuilder();
    if (r.agent() != null && r.agent().lifecycles() != null) {
      md.append(LatencyReport.markdown(r.agent().lifecycles()));
    }
    if (r.real() != null && r.agent() != null && r.agent().lifecycles() != null) {
      md.append(LatencyReport.mockAndReal(r.agent().lifecycles(), r.real()));
    }
    if (r.agent() != null && r.agent().load() != null) {
      md.append(LoadReport.markdown(r.agent().load()));
    }
    if (r.footprint() != null) {
      md.append(FootprintReport.markdown(r.footprint()));
    }
    if (r.completeness() != null) {
      md.append(FloodReport.markdown(r.completeness()));
    }
    if (r.cpu() != null) {
      md.append(FloodReport.markdown(r.cpu()));
    }
    return md.toString();
  }

  private static String header(Setting s, RealServer real) {
    Machine machine = s.machine();
    Shipped shipped = s.shipped();
    String env =
        shipped.env().isEmpty()
            ? ""
            : ", env "
                + shipped.env().entrySet().stream()
                    .map(e -> "`" + e.getKey() + "=" + e.getValue() + "`")
                    .collect(Collectors.joining(" "));
    String date =
        ZonedDateTime.now(ZoneOffset.UTC)
            .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME)
            .substring(0, 19);
    return "# Benchmarks\n\n"
        + "Written by `"
        + s.command()
        + "`; every number below comes from that one run. Re-run it to refresh this file.\n\n"
        + "| | |\n|---|---|\n"
        + "| date | "
        + date
        + " UTC |\n"
        + "| machine | "
        + machine.cores()
        + " cores ("
        + machine.cpu()
        + "), "
        + machine.memoryMiB()
        + " MiB memory, Linux "
        + machine.kernel()
        + " |\n"
        + "| JVM | "
        + machine.jvm()
        + " |\n"
        + "| tcpdump | "
        + machine.tcpdump()
        + " |\n"
        + "| shipped JVM flags (Dockerfile) | "
        + shipped.shown()
        + env
        + " |\n"
        + "| HTTP client | fabric8 7.5.2 JDK client (the only one in the shipped jar) |\n"
        + "| API server | "
        + (real == null
            ? "fabric8's mock API server in the benchmark's JVM, for every number"
            : "fabric8's mock API server in the benchmark's JVM, for every number but the *real*"
                + " columns of the start and stop latency, which come from "
                + real.server()
                + " on this machine (controlplane/up.sh)")
        + " |\n"
        + "| run time | "
        + String.format(Locale.ROOT, "%.1f", s.minutes())
        + " min |\n\n"
        + "The machine is shared with other engineers' test runs, so numbers are noisy; each section gives the "
        + "load average (1/5/15 min) it ran under, and comparisons are made within one run.\n\n";
  }
}
