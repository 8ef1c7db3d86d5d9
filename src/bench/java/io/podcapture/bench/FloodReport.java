package io.podcapture.bench;

import io.podcapture.bench.CpuPerPacketPhase.FilterRun;
import java.util.Locale;

/** BENCHMARKS.md's completeness and CPU-per-packet sections, both from a flood ping. */
final class FloodReport {
  private FloodReport() {}

  static void targets(CompletenessPhase.Result r, Targets targets) {
    targets.add(
        "completeness: 100% of sent packets in the ring, 0 dropped",
        String.format(
            Locale.ROOT,
            "%.3f%% (%,d of %,d pings), %d dropped by the kernel at %,.0f pings/s",
            r.share(),
            r.inRing(),
            r.expected(),
            r.dropped(),
            r.ping().transmitted() / r.floodSeconds()),
        r.inRing() == r.expected() && r.dropped() == 0 && !r.wrapped());
  }

  static void targets(CpuPerPacketPhase.Result r, Targets targets) {
    targets.add(
        "tcpdump CPU per packet, Pod filter / old filter (same flood)",
        String.format(
            Locale.ROOT,
            "%.2f (%.2f µs / %.2f µs)",
            r.ratio(),
            r.micros(CpuPerPacketPhase.POD),
            r.micros(CpuPerPacketPhase.OLD)),
        r.ratio() < 1.5);
  }

  static String markdown(CompletenessPhase.Result r) {
    StringBuilder md = new StringBuilder("## Completeness under a flood ping\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`ping -f` from a namespace Pod to its host side for %.1f s, captured "
                + "by `%s`. Load %s → %s.%n%n",
            r.floodSeconds(),
            r.argvShown(),
            r.load0(),
            r.load1()));
    md.append("| | |\n|---|---|\n");
    md.append(
        String.format(
            Locale.ROOT,
            "| echo requests sent / replies received | %,d / %,d (%,.0f per second) |%n",
            r.ping().transmitted(),
            r.ping().received(),
            r.ping().transmitted() / r.floodSeconds()));
    md.append(
        String.format(
            Locale.ROOT, "| pings on the wire (requests + replies) | %,d |%n", r.expected()));
    md.append(
        String.format(
            Locale.ROOT, "| pings in the ring | %,d (%.3f%%) |%n", r.inRing(), r.share()));
    md.append(
        String.format(
            Locale.ROOT,
            "| all packets in the ring | %,d (the rest: neighbour discovery and such of "
                + "the Pod's addresses), %d files, %.0f MB%s |%n",
            r.ring().packets(),
            r.files(),
            r.bytes() / 1e6,
            r.wrapped() ? ", ring full: older files rotated away" : ""));
    md.append(
        String.format(
            Locale.ROOT,
            "| tcpdump: captured / received by filter / dropped by kernel | %,d / %,d / %,d |%n",
            r.captured(),
            r.byFilter(),
            r.dropped()));
    md.append(
        String.format(
            Locale.ROOT,
            "| tcpdump RSS idle / under flood (peak) | %s / %s |%n",
            Markdown.mib(r.idleRssKiB()),
            Markdown.mib(r.peakRssKiB())));
    md.append(
        String.format(
            Locale.ROOT,
            "| tcpdump CPU during the flood | %.0f%% of one core |%n%n",
            100.0 * r.cpuMillis() / 1000 / r.floodSeconds()));
    return md.toString();
  }

  static String markdown(CpuPerPacketPhase.Result r) {
    StringBuilder md =
        new StringBuilder("## tcpdump CPU time per packet: old filter and Pod filter\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Both at once on one `ping -f` from a namespace Pod to its host side for "
                + "%.1f s (%,d requests sent, %,d replies); the agent's argv with each filter. Load %s → %s.%n%n",
            r.floodSeconds(),
            r.ping().transmitted(),
            r.ping().received(),
            r.load0(),
            r.load1()));
    md.append(
        "| filter | BPF instructions | packets captured | dropped by kernel | CPU (user + system) "
            + "| CPU per packet |\n|---|---|---|---|---|---|\n");
    for (FilterRun run : r.runs()) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %,d | %,d | %,d ms | %.2f µs |%n",
              run.name(),
              run.bpfInstructions(),
              run.captured(),
              run.dropped(),
              run.cpuMillis(),
              run.microsPerPacket()));
    }
    md.append(
        String.format(
            Locale.ROOT, "%nPod filter / old filter, CPU per packet: **%.2f**.%n%n", r.ratio()));
    return md.toString();
  }
}
