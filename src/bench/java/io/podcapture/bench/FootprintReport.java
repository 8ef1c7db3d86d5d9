package io.podcapture.bench;

import static io.podcapture.bench.Markdown.mib;

import io.podcapture.bench.FootprintPhase.Reading;
import io.podcapture.bench.FootprintPhase.Row;
import java.util.Locale;

/** BENCHMARKS.md's footprint section: one row per way of running the agent. */
final class FootprintReport {
  private FootprintReport() {}

  static void targets(FootprintPhase.Result r, Targets targets) {
    for (Row row : r.rows()) {
      Reading m = row.reading();
      if (m == null || !row.variant().shipped()) {
        continue;
      }
      String which =
          FootprintPhase.SHIPPED_SERVING.equals(row.variant().how())
              ? " (file server serving)"
              : " (file server off)";
      targets.add(
          "footprint: agent RSS ≤ 96 MiB with 110 Pods and 16 captures" + which,
          "RSS "
              + mib(m.busy().rssKiB())
              + ", peak "
              + mib(m.busy().hwmKiB())
              + " (0 captures: "
              + mib(m.idle().rssKiB())
              + ")",
          m.busy().rssKiB() <= 96 * 1024 && m.busy().hwmKiB() <= 96 * 1024);
      targets.add(
          "ready ≤ 3 s after process start" + which,
          Stats.ms(m.readyMs())
              + " ("
              + m.readySource()
              + "), using "
              + String.format(Locale.ROOT, "%.1f", m.readyCpuMillis() / 1000.0)
              + " s of CPU",
          m.readyMs() <= 3000);
    }
  }

  static String markdown(FootprintPhase.Result r) {
    StringBuilder md = new StringBuilder("## Footprint of the agent process\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%d Pods on the node; the agent started, read 5 s after ready with no "
                + "capture, then again 5 s after %d captures are Running. The mock API server serves HTTPS, as a "
                + "real one does, so the agent's TLS client is loaded. RSS is VmRSS, peak is VmHWM. Load at start: "
                + "%s.%n%n",
            Workbench.PODS,
            FootprintPhase.FOOTPRINT_CAPTURES,
            r.load0()));
    md.append(
        "| HTTP client | how | ready | CPU to ready | RSS, 0 captures | heap used | threads | RSS, 16 captures "
            + "| peak RSS | heap used | metaspace | threads | each tcpdump | cgroup, 0 / 16 captures (peak) |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row row : r.rows()) {
      md.append(row.reading() == null ? failed(row) : measured(row));
    }
    md.append('\n');
    md.append(
        "Only fabric8's JDK HTTP client is measured: the comparison of clients in earlier runs (JDK the "
            + "smallest) is why the jar ships only that one, and since issue 21 the agent builds its client with "
            + "the JDK client's factory (`Agent.client`).\n\n");
    md.append(
        "*file server serving* is the shipped configuration as a cluster with the files API runs it: the agents' "
            + "Secret mounted, so the file server listens, and one HTTPS request (refused, 401) has loaded its TLS "
            + "classes; in the other shipped row the Secret's directory is absent and no file server starts.\n\n");
    md.append(
        "Flags: *JVM defaults* is no flag at all (on this machine the JVM then sizes its heap for "
            + r.memoryMiB()
            + " MiB of RAM; in a container it would size it for the limit); *before "
            + "tuning* is `"
            + String.join(" ", FootprintPhase.INITIAL_FLAGS)
            + "`; *shipped* is the Dockerfile's, with its class data archive made here from "
            + Shipped.CLASS_LIST
            + " for the jar, as the image's build makes it. *classpath* runs "
            + "the same classes unshaded (the dependencies as their own jars), without the archive, which is made "
            + "for the jar.\n\n");
    md.append(String.format(Locale.ROOT, "Load at end: %s.%n%n", r.load1()));
    return md.toString();
  }

  private static String failed(Row row) {
    return "| "
        + row.variant().client()
        + " | "
        + row.variant().how()
        + " | failed: "
        + row.failure().replace('|', '/')
        + " |||||||||||\n";
  }

  private static String measured(Row row) {
    Reading m = row.reading();
    boolean shipped = row.variant().shipped();
    return String.format(
        Locale.ROOT,
        "| %s | %s | %s | %.1f s | %s | %s | %d | %s | %s | %s | %s | %d | %s | %s |%n",
        row.variant().client(),
        shipped ? "**" + row.variant().how() + "**" : row.variant().how(),
        Stats.ms(m.readyMs()),
        m.readyCpuMillis() / 1000.0,
        mib(m.idle().rssKiB()),
        mib(m.idle().heapUsedKiB()),
        m.idle().threads(),
        shipped ? "**" + mib(m.busy().rssKiB()) + "**" : mib(m.busy().rssKiB()),
        mib(m.busy().hwmKiB()),
        mib(m.busy().heapUsedKiB()),
        mib(m.busy().metaspaceUsedKiB()),
        m.busy().threads(),
        Markdown.rssRange(m.tcpdumpKiB()),
        mib(m.idle().cgroupKiB()).replace(" MiB", "")
            + " / "
            + mib(m.busy().cgroupKiB())
            + " ("
            + mib(m.busy().cgroupPeakKiB())
            + ")");
  }
}
