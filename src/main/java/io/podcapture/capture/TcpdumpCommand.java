package io.podcapture.capture;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Builds tcpdump's argv (never a shell line) for one capture.
 *
 * <p>{@code tcpdump -i <if> -n -U -Z root -B 4096 -C <MB> -W <N> -w <ring> -- <filter>}: {@code -n}
 * avoids DNS lookups, {@code -U} writes each packet at once so files are readable during the
 * capture, {@code -Z root} keeps Debian's tcpdump from switching to user tcpdump (which cannot
 * create rotated files in our root-owned 0700 folder), {@code -B 4096} gives the kernel's capture
 * ring 4 MiB instead of libpcap's 2 MiB: with 2 MiB a flood ping on a busy 2-core node lost
 * thousands of packets in 10 s ("dropped by kernel"), with 4 MiB none (see BENCHMARKS.md). The ring
 * is kernel memory, not charged to the container's memory cgroup. The filter follows {@code --}:
 * glibc's getopt permutes arguments, so without it a filter word such as {@code -w/etc/x} would be
 * taken as an option. The filter is one argv element: the Pod filter built from strictly parsed
 * {@link IpLiteral}s and interface indexes ({@link PodFilter}), and the user's filter, which was
 * checked ({@link UserFilter}) and compiled ({@link FilterCompiler}) first.
 *
 * @param executable tcpdump, a name looked up on PATH or a path
 * @param launcher argv put in front of tcpdump (e.g. setpriv bounding capabilities), may be empty
 * @param interfaceName the interface to listen on, normally {@code any}
 */
public record TcpdumpCommand(String executable, List<String> launcher, String interfaceName) {

  /** The kernel capture buffer per tcpdump, in KiB ({@code -B}). */
  static final String BUFFER_KIB = "4096";

  public TcpdumpCommand {
    launcher = List.copyOf(launcher);
  }

  /** The command a {@link CaptureConfig} asks for. */
  public static TcpdumpCommand of(CaptureConfig config) {
    return new TcpdumpCommand(config.tcpdump(), config.launcher(), config.interfaceName());
  }

  /** The argv of a capture of everything {@code filter} matches, until stopped. */
  public List<String> argv(Path ringBase, int maxFiles, int fileSizeMB, String filter) {
    return argv(ringBase, maxFiles, fileSizeMB, null, 0, filter);
  }

  /**
   * The full argv, launcher first.
   *
   * @param packetCount {@code -c}: tcpdump exits by itself after this many packets; null for no
   *     limit
   * @param snapLength {@code -s}: bytes kept of each packet; 0 passes nothing, so tcpdump keeps
   *     whole packets (its default snapshot length, 262144, is the largest packet {@code any}
   *     delivers)
   */
  public List<String> argv(
      Path ringBase,
      int maxFiles,
      int fileSizeMB,
      Integer packetCount,
      int snapLength,
      String filter) {
    List<String> argv = new ArrayList<>(launcher);
    argv.addAll(
        List.of(executable, "-i", interfaceName, "-n", "-U", "-Z", "root", "-B", BUFFER_KIB));
    if (packetCount != null) {
      argv.addAll(List.of("-c", Integer.toString(packetCount)));
    }
    if (snapLength > 0) {
      argv.addAll(List.of("-s", Integer.toString(snapLength)));
    }
    argv.addAll(
        List.of(
            "-C",
            Integer.toString(fileSizeMB),
            "-W",
            Integer.toString(maxFiles),
            "-w",
            ringBase.toString(),
            "--",
            filter));
    return argv;
  }

  /**
   * The argv that compiles {@code filter} for link type LINUX_SLL2 and prints the BPF program,
   * reading an empty capture file of that link type from stdin (see {@link FilterCompiler}).
   */
  public List<String> compileArgv(String filter) {
    List<String> argv = new ArrayList<>(launcher);
    argv.addAll(List.of(executable, "-Z", "root", "-d", "-r", "-", "--", filter));
    return argv;
  }

  /**
   * The old Pod filter, {@code host <ip>} for each IP: every copy of a packet {@code any} sees (the
   * benchmark compares).
   */
  public static String hostFilter(List<IpLiteral> ips) {
    if (ips.isEmpty()) {
      throw new IllegalArgumentException("a filter needs at least one IP");
    }
    return ips.stream().map(ip -> "host " + ip.text()).collect(Collectors.joining(" or "));
  }
}
