package io.podcapture.bench;

import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.PingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Completeness: a flood ping into tcpdump's ring, every ping counted in the ring's records. */
final class CompletenessPhase {

  /** What the flood measured. */
  record Result(
      String argvShown,
      double floodSeconds,
      PingResult ping,
      PcapRecords.Count ring,
      int files,
      long bytes,
      long captured,
      long byFilter,
      long dropped,
      long idleRssKiB,
      long peakRssKiB,
      long cpuMillis,
      String load0,
      String load1) {

    /** Pings on the wire: requests and replies. */
    long expected() {
      return (long) ping.transmitted() + ping.received();
    }

    long inRing() {
      return ring.echoes();
    }

    double share() {
      return expected() == 0 ? 0 : 100.0 * inRing() / expected();
    }

    boolean wrapped() {
      return files >= FloodCapture.FLOOD_RING_FILES;
    }
  }

  private final Workbench bench;

  CompletenessPhase(Workbench bench) {
    this.bench = bench;
  }

  Result measure() throws Exception {
    NetnsPod pod = bench.realPods.get(0);
    Path dir = bench.work.resolve("flood");
    Files.createDirectories(dir);
    Path ring = dir.resolve("capture-flood.pcap");
    List<String> argv = FloodCapture.argv(dir, ring, FloodCapture.podFilter(FloodCapture.ips(pod)));
    String load0 = Machine.loadAverage();
    Path stderrFile = bench.work.resolve("flood-stderr.txt");
    Process tcpdump = FloodCapture.start(argv, dir.resolve("capture-flood.pcap000"), stderrFile);
    long cpu0 = AgentProcess.cpuMillis(tcpdump.pid());
    long idleRss = AgentProcess.procStatus(tcpdump.pid()).getOrDefault("VmRSS", -1L);
    Workbench.log("completeness: flood ping for %d s", FloodCapture.FLOOD_SECONDS);
    long f0 = System.nanoTime();
    PingResult ping = FloodCapture.flood(pod);
    double floodSeconds = (System.nanoTime() - f0) / 1e9;
    FloodCapture.drain();
    Map<String, Long> status = AgentProcess.procStatus(tcpdump.pid());
    long cpu1 = AgentProcess.cpuMillis(tcpdump.pid());
    tcpdump.destroy();
    tcpdump.waitFor(10, TimeUnit.SECONDS);
    String err = Files.readString(stderrFile);
    long captured = FloodCapture.counter(err, "packets captured");
    long dropped = FloodCapture.counter(err, "packets dropped by kernel");
    if (captured < 0 || dropped < 0) {
      bench.notes.add(
          "tcpdump's counters were not found in its stderr: " + err.strip().replace('\n', ' '));
    }
    List<Path> files = ringFiles(dir);
    PcapRecords.Count ringCount = new PcapRecords.Count(0, 0);
    long bytes = 0;
    for (Path f : files) {
      ringCount = ringCount.plus(PcapRecords.count(f));
      bytes += Files.size(f);
    }
    Session.deleteTree(dir);
    return new Result(
        String.join(" ", argv).replace(dir.toString(), "<dir>"),
        floodSeconds,
        ping,
        ringCount,
        files.size(),
        bytes,
        captured,
        FloodCapture.counter(err, "packets received by filter"),
        dropped,
        idleRss,
        status.getOrDefault("VmHWM", -1L),
        cpu1 - cpu0,
        load0,
        Machine.loadAverage());
  }

  private static List<Path> ringFiles(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.filter(p -> p.getFileName().toString().startsWith("capture-flood.pcap"))
          .sorted()
          .toList();
    }
  }
}
