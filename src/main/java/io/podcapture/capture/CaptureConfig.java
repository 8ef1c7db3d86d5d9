package io.podcapture.capture;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How this node runs captures.
 *
 * @param captureDir root of all capture files; the capturer creates it (mode 0700) if absent
 * @param tcpdump tcpdump executable, a name looked up on PATH or a path
 * @param launcher argv put in front of tcpdump to bound its privileges, e.g. {@link
 *     #MINIMAL_CAPABILITIES}; empty to run tcpdump directly
 * @param interfaceName interface tcpdump listens on; {@code any} sees a Pod's traffic whatever its
 *     veth
 * @param stopGrace how long tcpdump gets to exit after SIGTERM before SIGKILL
 * @param startTimeout how long tcpdump gets to create its first file before the start counts as
 *     failed, and to compile a user's filter
 * @param sysClassNet where the node's network devices are listed ({@link NodeInterfaces}); tests
 *     point it at a folder of their own
 */
public record CaptureConfig(
    Path captureDir,
    String tcpdump,
    List<String> launcher,
    String interfaceName,
    Duration stopGrace,
    Duration startTimeout,
    Path sysClassNet) {

  public static final String DEFAULT_TCPDUMP = "tcpdump";
  public static final String DEFAULT_INTERFACE = "any";
  public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(5);
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(5);

  /**
   * A launcher that runs tcpdump (as uid 0) with only the capabilities it needs: NET_RAW for the
   * packet socket and SETGID for the {@code setgroups} of {@code -Z root}. Measured with Debian's
   * tcpdump 4.99.3: without NET_RAW it fails with "You don't have permission to perform this
   * capture on that device", without SETGID with "Couldn't change to 'root' uid=0 gid=0: Operation
   * not permitted". SETUID is not needed because {@code setuid(0)} by a process whose uid already
   * is 0 needs no capability, and NET_ADMIN is not needed because {@code any} is never put in
   * promiscuous mode.
   */
  public static final List<String> MINIMAL_CAPABILITIES =
      List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all,+net_raw,+setgid", "--");

  public CaptureConfig {
    Objects.requireNonNull(captureDir, "captureDir");
    captureDir = captureDir.toAbsolutePath().normalize();
    Objects.requireNonNull(tcpdump, "tcpdump");
    launcher = List.copyOf(launcher);
    Objects.requireNonNull(interfaceName, "interfaceName");
    Objects.requireNonNull(sysClassNet, "sysClassNet");
    if (stopGrace.isNegative() || startTimeout.isNegative() || startTimeout.isZero()) {
      throw new IllegalArgumentException(
          "stopGrace must not be negative and startTimeout must be positive");
    }
  }

  /**
   * The defaults for a capture folder: tcpdump from PATH, no launcher, interface any, 5 s grace and
   * timeout.
   */
  public static CaptureConfig of(Path captureDir) {
    return new CaptureConfig(
        captureDir,
        DEFAULT_TCPDUMP,
        List.of(),
        DEFAULT_INTERFACE,
        DEFAULT_STOP_GRACE,
        DEFAULT_START_TIMEOUT,
        NodeInterfaces.SYS_CLASS_NET);
  }

  public CaptureConfig withTcpdump(String tcpdump) {
    return new CaptureConfig(
        captureDir, tcpdump, launcher, interfaceName, stopGrace, startTimeout, sysClassNet);
  }

  public CaptureConfig withLauncher(List<String> launcher) {
    return new CaptureConfig(
        captureDir, tcpdump, launcher, interfaceName, stopGrace, startTimeout, sysClassNet);
  }

  public CaptureConfig withInterfaceName(String interfaceName) {
    return new CaptureConfig(
        captureDir, tcpdump, launcher, interfaceName, stopGrace, startTimeout, sysClassNet);
  }

  public CaptureConfig withStopGrace(Duration stopGrace) {
    return new CaptureConfig(
        captureDir, tcpdump, launcher, interfaceName, stopGrace, startTimeout, sysClassNet);
  }

  public CaptureConfig withStartTimeout(Duration startTimeout) {
    return new CaptureConfig(
        captureDir, tcpdump, launcher, interfaceName, stopGrace, startTimeout, sysClassNet);
  }

  public CaptureConfig withSysClassNet(Path sysClassNet) {
    return new CaptureConfig(
        captureDir, tcpdump, launcher, interfaceName, stopGrace, startTimeout, sysClassNet);
  }

  /**
   * Whether captures run on {@code any}, the only interface whose link type knows interface
   * indexes.
   */
  boolean onAnyInterface() {
    return DEFAULT_INTERFACE.equals(interfaceName);
  }
}
