package io.podcapture.bench;

import io.podcapture.capture.IpLiteral;
import io.podcapture.capture.TcpdumpCommand;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.PingResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** tcpdump's CPU time per packet with the old filter and the Pod filter, both on one flood. */
final class CpuPerPacketPhase {
  static final String OLD = "old: `host <ip>`";
  static final String POD = "Pod filter";

  /** One tcpdump's share of the flood. */
  record FilterRun(String name, long bpfInstructions, long captured, long dropped, long cpuMillis) {

    double microsPerPacket() {
      return captured > 0 ? 1000.0 * cpuMillis / captured : Double.NaN;
    }
  }

  /** What the flood measured, the old filter's run first. */
  record Result(
      double floodSeconds, PingResult ping, String load0, String load1, List<FilterRun> runs) {

    double micros(String name) {
      return runs.stream()
          .filter(r -> r.name().equals(name))
          .findFirst()
          .orElseThrow()
          .microsPerPacket();
    }

    double ratio() {
      return micros(POD) / micros(OLD);
    }
  }

  /** One tcpdump started for the phase. */
  private record Running(String name, String filter, Process process, Path stderr, Path dir) {}

  private final Workbench bench;

  CpuPerPacketPhase(Workbench bench) {
    this.bench = bench;
  }

  Result measure() throws Exception {
    NetnsPod pod = bench.realPods.get(0);
    List<IpLiteral> ips = FloodCapture.ips(pod);
    Map<String, String> filters = new LinkedHashMap<>();
    filters.put(OLD, TcpdumpCommand.hostFilter(ips));
    filters.put(POD, FloodCapture.podFilter(ips));
    List<Running> tcpdumps = new ArrayList<>();
    int n = 0;
    for (Map.Entry<String, String> f : filters.entrySet()) {
      Path dir = Files.createDirectories(bench.work.resolve("cpu-" + n));
      Path stderrFile = bench.work.resolve("cpu-" + n + "-stderr.txt");
      List<String> argv = FloodCapture.argv(dir, dir.resolve("capture-cpu.pcap"), f.getValue());
      Process p = FloodCapture.start(argv, dir.resolve("capture-cpu.pcap000"), stderrFile);
      tcpdumps.add(new Running(f.getKey(), f.getValue(), p, stderrFile, dir));
      n++;
    }
    String load0 = Machine.loadAverage();
    long[] cpu0 =
        tcpdumps.stream().mapToLong(t -> AgentProcess.cpuMillis(t.process().pid())).toArray();
    Workbench.log(
        "cpu per packet: flood ping for %d s into two tcpdumps", FloodCapture.FLOOD_SECONDS);
    long f0 = System.nanoTime();
    PingResult ping = FloodCapture.flood(pod);
    double floodSeconds = (System.nanoTime() - f0) / 1e9;
    FloodCapture.drain();
    long[] cpu1 =
        tcpdumps.stream().mapToLong(t -> AgentProcess.cpuMillis(t.process().pid())).toArray();
    for (Running t : tcpdumps) {
      t.process().destroy();
      t.process().waitFor(10, TimeUnit.SECONDS);
    }
    String load1 = Machine.loadAverage();
    List<FilterRun> runs = new ArrayList<>();
    for (int i = 0; i < tcpdumps.size(); i++) {
      Running t = tcpdumps.get(i);
      String err = Files.readString(t.stderr());
      runs.add(
          new FilterRun(
              t.name(),
              bpfInstructions(t.filter()),
              FloodCapture.counter(err, "packets captured"),
              FloodCapture.counter(err, "packets dropped by kernel"),
              cpu1[i] - cpu0[i]));
      Session.deleteTree(t.dir());
    }
    return new Result(floodSeconds, ping, load0, load1, runs);
  }

  /**
   * The length of the BPF program tcpdump compiles {@code filter} to for link type LINUX_SLL2
   * ({@code any}).
   */
  private static long bpfInstructions(String filter) throws Exception {
    Process p =
        new ProcessBuilder("tcpdump", "-d", "-r", "-", "--", filter)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (var stdin = p.getOutputStream()) {
      // an empty pcap file of link type LINUX_SLL2, as the agent compiles filters (FilterCompiler)
      stdin.write(HexFormat.of().parseHex("d4c3b2a10200040000000000000000000000040014010000"));
    }
    long lines =
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
            .lines()
            .filter(l -> l.startsWith("("))
            .count();
    p.waitFor(10, TimeUnit.SECONDS);
    return lines;
  }
}
