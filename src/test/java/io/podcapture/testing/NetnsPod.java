package io.podcapture.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for a Pod: a network namespace joined to the root namespace by a veth pair, with an
 * IPv4 {@code /30} and an IPv6 {@code /64} on each side. The "Pod" addresses ({@link #ipv4()},
 * {@link #ipv6()}) are inside the namespace, the host side addresses in the root namespace, where
 * {@code tcpdump -i any} sees the Pod's traffic on the host-side veth.
 *
 * <p>Safe next to other JVMs on the same machine: names carry this JVM's pid, and subnets (IPv4
 * from the benchmarking range 198.18.0.0/15, IPv6 from fd70:6361:7074::/48) are picked under a
 * machine-wide file lock after checking {@code ip -o addr} for any overlap. Namespaces left by JVMs
 * that died are deleted on first use; {@link #close()} is idempotent and also runs from a shutdown
 * hook. Needs root ({@link Requirements#realCapture()}).
 */
public final class NetnsPod implements AutoCloseable {

  /** Namespace names are {@code podcap-<jvm pid>-<n>}; the pid tells whose they are. */
  private static final String NETNS_PREFIX = "podcap-";

  private static final Pattern NETNS_NAME = Pattern.compile(NETNS_PREFIX + "(\\d+)-\\d+");
  private static final Path LOCK_FILE = Path.of("/tmp/podcapture-netns.lock");

  /** 198.18.0.0/15 holds 32768 /30 blocks. */
  private static final int BLOCKS = 32768;

  private static final int BASE_V4 = (198 << 24) | (18 << 16);
  private static final String V6_PREFIX = "fd70:6361:7074:";

  private static final long PID = ProcessHandle.current().pid();
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final Object JVM_LOCK = new Object();
  private static final Set<NetnsPod> OPEN = ConcurrentHashMap.newKeySet();
  private static final AtomicBoolean STARTED = new AtomicBoolean();

  private final String netns;
  private final String hostInterface;
  private final String podInterface;
  private final String hostIpv4;
  private final String podIpv4;
  private final String hostIpv6;
  private final String podIpv6;
  private final AtomicBoolean closed = new AtomicBoolean();

  private NetnsPod(int n, int block) {
    this.netns = NETNS_PREFIX + PID + "-" + n;
    String tag = "pc" + Long.toString(PID, 36) + "-" + Integer.toString(n, 36);
    this.hostInterface = tag + "h";
    this.podInterface = tag + "p";
    int base = BASE_V4 + block * 4;
    this.hostIpv4 = v4(base + 1);
    this.podIpv4 = v4(base + 2);
    this.hostIpv6 = V6_PREFIX + Integer.toHexString(block) + "::1";
    this.podIpv6 = V6_PREFIX + Integer.toHexString(block) + "::2";
  }

  /** Creates a namespace "Pod" with working IPv4 and IPv6 to the host side. */
  public static NetnsPod create() {
    if (STARTED.compareAndSet(false, true)) {
      deleteNamespacesOfDeadJvms();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(() -> List.copyOf(OPEN).forEach(NetnsPod::close), "netns-pod-cleanup"));
    }
    int n = COUNTER.incrementAndGet();
    NetnsPod pod;
    // the JVM lock because a FileLock is held per JVM; the file lock against other JVMs
    synchronized (JVM_LOCK) {
      try (FileChannel channel =
              FileChannel.open(LOCK_FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = channel.lock()) {
        pod = new NetnsPod(n, freeBlock(n));
        OPEN.add(pod);
        try {
          pod.setUpHostSide();
        } catch (RuntimeException e) {
          pod.close();
          throw e;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot lock " + LOCK_FILE, e);
      }
    }
    try {
      pod.setUpPodSide();
      pod.awaitReachable();
    } catch (RuntimeException e) {
      pod.close();
      throw e;
    }
    return pod;
  }

  private void setUpHostSide() {
    ip("netns", "add", netns);
    ip("link", "add", hostInterface, "type", "veth", "peer", "name", podInterface, "netns", netns);
    ip("addr", "add", hostIpv4 + "/30", "dev", hostInterface);
    // nodad: usable at once instead of after duplicate address detection (about 1-2 s)
    ip("-6", "addr", "add", hostIpv6 + "/64", "dev", hostInterface, "nodad");
    ip("link", "set", hostInterface, "up");
  }

  private void setUpPodSide() {
    ip("-n", netns, "link", "set", "lo", "up");
    ip("-n", netns, "addr", "add", podIpv4 + "/30", "dev", podInterface);
    ip("-n", netns, "-6", "addr", "add", podIpv6 + "/64", "dev", podInterface, "nodad");
    ip("-n", netns, "link", "set", podInterface, "up");
  }

  /** The veth needs a moment to get a carrier; one answered ping per family shows it is there. */
  private void awaitReachable() {
    for (boolean v6 : new boolean[] {false, true}) {
      PingResult result =
          ping(
              Ping.count(1)
                  .interval(Duration.ofMillis(50))
                  .overIpv6(v6)
                  .deadline(Duration.ofSeconds(5)));
      if (result.received() < 1) {
        throw new IllegalStateException(
            "netns " + netns + " cannot reach the host side: " + result.output());
      }
    }
  }

  public String netns() {
    return netns;
  }

  /** The Pod's IPv4 (inside the namespace). */
  public String ipv4() {
    return podIpv4;
  }

  /** The Pod's IPv6 (inside the namespace). */
  public String ipv6() {
    return podIpv6;
  }

  /** Both Pod IPs, IPv4 first, as {@code status.podIPs} lists them for a dual-stack Pod. */
  public List<String> ips() {
    return List.of(podIpv4, podIpv6);
  }

  public String hostIpv4() {
    return hostIpv4;
  }

  public String hostIpv6() {
    return hostIpv6;
  }

  public String hostInterface() {
    return hostInterface;
  }

  /**
   * Pings the host side from inside the namespace, so the packets come from the Pod's own address.
   */
  public PingResult ping(Ping ping) {
    List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns, "ping", "-q", "-n"));
    if (ping.ipv6()) {
      argv.add("-6");
    }
    argv.addAll(List.of("-c", Integer.toString(ping.count()), "-s", Integer.toString(ping.size())));
    if (ping.flood()) {
      argv.add("-f");
    } else {
      argv.addAll(
          List.of("-i", String.format(Locale.ROOT, "%.3f", ping.interval().toMillis() / 1000.0)));
    }
    if (ping.pattern() != null) {
      argv.addAll(List.of("-p", ping.pattern()));
    }
    argv.addAll(List.of("-w", Long.toString(Math.max(1, ping.deadline().toSeconds()))));
    argv.add(ping.ipv6() ? hostIpv6 : hostIpv4);
    Command.Result result = Command.run(ping.deadline().plusSeconds(10), argv);
    return PingResult.of(result);
  }

  /** {@code count} pings of {@code size} payload bytes, flooded or 10 ms apart, over IPv4. */
  public PingResult ping(int count, int size, boolean flood) {
    Ping ping = Ping.count(count).size(size);
    return ping(flood ? ping.flooding() : ping);
  }

  /** Deletes the namespace (which takes the veth pair with it). Harmless twice. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Command.run("ip", "netns", "del", netns);
    // normally gone with the namespace; this covers a failure between "link add" and moving
    // the peer
    if (Command.run("ip", "link", "show", hostInterface).ok()) {
      Command.run("ip", "link", "del", hostInterface);
    }
    OPEN.remove(this);
  }

  @Override
  public String toString() {
    return "NetnsPod " + netns + " " + podIpv4 + " " + podIpv6;
  }

  /** A /30 block, and the matching /64, that no interface on this machine uses. */
  private static int freeBlock(int n) {
    List<long[]> used = usedV4Networks();
    String v6 = Command.run("ip", "-o", "-6", "addr").orThrow().output();
    int start = (int) Math.floorMod(PID * 64 + n, (long) BLOCKS);
    for (int i = 0; i < BLOCKS; i++) {
      int block = (start + i) % BLOCKS;
      long first = (BASE_V4 + block * 4L) & 0xffffffffL;
      boolean v4Used = used.stream().anyMatch(net -> first <= net[1] && net[0] <= first + 3);
      boolean v6Used = v6.contains(V6_PREFIX + Integer.toHexString(block) + ":");
      if (!v4Used && !v6Used) {
        return block;
      }
    }
    throw new IllegalStateException("no free test subnet in 198.18.0.0/15");
  }

  /** Every IPv4 network on this machine's interfaces, as [first, last] address. */
  private static List<long[]> usedV4Networks() {
    List<long[]> networks = new ArrayList<>();
    Matcher m =
        Pattern.compile("inet (\\d+\\.\\d+\\.\\d+\\.\\d+)/(\\d+)")
            .matcher(Command.run("ip", "-o", "-4", "addr").orThrow().output());
    while (m.find()) {
      try {
        byte[] b = InetAddress.getByName(m.group(1)).getAddress();
        long address =
            ((b[0] & 0xffL) << 24)
                | ((b[1] & 0xffL) << 16)
                | ((b[2] & 0xffL) << 8)
                | (b[3] & 0xffL);
        int prefix = Integer.parseInt(m.group(2));
        long size = 1L << (32 - prefix);
        long first = address & ~(size - 1) & 0xffffffffL;
        networks.add(new long[] {first, first + size - 1});
      } catch (UnknownHostException e) {
        // a dotted quad is never looked up; cannot happen
      }
    }
    return networks;
  }

  /** Namespaces named by this fixture in a JVM that has died (killed before its clean-up ran). */
  private static void deleteNamespacesOfDeadJvms() {
    Command.Result list = Command.run("ip", "netns", "list");
    for (String line : list.output().split("\n")) {
      String name = line.split(" ")[0];
      Matcher m = NETNS_NAME.matcher(name);
      if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
        Command.run("ip", "netns", "del", name);
      }
    }
  }

  private static String v4(int address) {
    return ((address >>> 24) & 0xff)
        + "."
        + ((address >>> 16) & 0xff)
        + "."
        + ((address >>> 8) & 0xff)
        + "."
        + (address & 0xff);
  }

  private static void ip(String... args) {
    List<String> argv = new ArrayList<>();
    argv.add("ip");
    argv.addAll(List.of(args));
    Command.run(argv).orThrow();
  }

  /**
   * What to ping: {@code count} echo requests of {@code size} payload bytes, flooded ({@link
   * #flooding()}, {@code -f}) or {@code interval} apart, with an optional hex {@code pattern}
   * ({@code -p}) to find them in a capture.
   */
  public record Ping(
      int count,
      int size,
      boolean flood,
      boolean ipv6,
      String pattern,
      Duration interval,
      Duration deadline) {

    public static Ping count(int count) {
      return new Ping(count, 56, false, false, null, Duration.ofMillis(10), Duration.ofSeconds(10));
    }

    public Ping size(int size) {
      return new Ping(count, size, flood, ipv6, pattern, interval, deadline);
    }

    public Ping flooding() {
      return new Ping(count, size, true, ipv6, pattern, interval, deadline);
    }

    public Ping overIpv6() {
      return overIpv6(true);
    }

    public Ping overIpv6(boolean ipv6) {
      return new Ping(count, size, flood, ipv6, pattern, interval, deadline);
    }

    public Ping pattern(String hex) {
      return new Ping(count, size, flood, ipv6, hex, interval, deadline);
    }

    public Ping interval(Duration interval) {
      return new Ping(count, size, flood, ipv6, pattern, interval, deadline);
    }

    public Ping deadline(Duration deadline) {
      return new Ping(count, size, flood, ipv6, pattern, interval, deadline);
    }
  }

  /** What ping reported. */
  public record PingResult(int exitCode, int transmitted, int received, String output) {

    private static final Pattern SUMMARY =
        Pattern.compile("(\\d+) packets transmitted, (\\d+) received");

    static PingResult of(Command.Result result) {
      Matcher m = SUMMARY.matcher(result.output());
      return m.find()
          ? new PingResult(
              result.exitCode(),
              Integer.parseInt(m.group(1)),
              Integer.parseInt(m.group(2)),
              result.output())
          : new PingResult(result.exitCode(), 0, 0, result.output());
    }
  }
}
