package io.podcapture.bench;

import io.podcapture.capture.CaptureConfig;
import io.podcapture.capture.CaptureException;
import io.podcapture.capture.IpLiteral;
import io.podcapture.capture.NodeInterfaces;
import io.podcapture.capture.PodFilter;
import io.podcapture.capture.TcpdumpCommand;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.NetnsPod.PingResult;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the completeness and CPU phases share: tcpdump started with the agent's argv into a ring
 * large enough that nothing rotates away, a flood ping from a namespace Pod, and tcpdump's
 * counters.
 */
final class FloodCapture {
  static final int FLOOD_SECONDS = 10;
  static final int FLOOD_RING_FILES = 1000;

  private FloodCapture() {}

  static List<IpLiteral> ips(NetnsPod pod) throws CaptureException {
    List<IpLiteral> ips = new ArrayList<>();
    for (String ip : pod.ips()) {
      ips.add(IpLiteral.parse(ip));
    }
    return ips;
  }

  /**
   * The filter the agent runs on this machine: the Pod filter, without the node devices that repeat
   * Pod traffic.
   */
  static String podFilter(List<IpLiteral> ips) throws IOException {
    return PodFilter.of(ips, NodeInterfaces.read(NodeInterfaces.SYS_CLASS_NET).repeating());
  }

  /** The agent's argv for a ring at {@code ring} in {@code dir}. */
  static List<String> argv(Path dir, Path ring, String filter) {
    return TcpdumpCommand.of(CaptureConfig.of(dir)).argv(ring, FLOOD_RING_FILES, 1, filter);
  }

  /**
   * Starts tcpdump and waits up to 5 s for its first ring file, i.e. for the capture to be open.
   */
  static Process start(List<String> argv, Path firstFile, Path stderrFile) throws IOException {
    Process tcpdump =
        new ProcessBuilder(argv)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(stderrFile.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    long t0 = System.nanoTime();
    while (!Files.exists(firstFile) && System.nanoTime() - t0 < 5e9) {
      AgentProcess.sleepMillis(1);
    }
    return tcpdump;
  }

  /** A flood ping from the Pod to its host side for FLOOD_SECONDS. */
  static PingResult flood(NetnsPod pod) {
    return pod.ping(Ping.count(100_000_000).flooding().deadline(Duration.ofSeconds(FLOOD_SECONDS)));
  }

  /**
   * Waits for libpcap to hand over the flood's last packets: it does so in blocks, a block once
   * full or after its timeout (tcpdump's 1 s). Stopping sooner would leave the flood's last packets
   * unread in the kernel ring, which is not what these phases measure.
   */
  static void drain() {
    AgentProcess.sleepMillis(2500);
  }

  /** One of the counters tcpdump prints on its stderr when it stops, or -1. */
  static long counter(String stderr, String what) {
    Matcher m = Pattern.compile("(\\d+) " + Pattern.quote(what)).matcher(stderr);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }
}
