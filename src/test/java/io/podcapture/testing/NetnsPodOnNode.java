package io.podcapture.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Pod of a {@link NetnsNode}: a namespace whose {@code eth0} is the peer of {@link
 * #hostInterface()} on the node.
 */
public final class NetnsPodOnNode {

  private final NetnsNode node;
  private final String netns;
  private final String hostInterface;
  private final String ipv4;
  private final String ipv6;

  NetnsPodOnNode(NetnsNode node, String netns, String hostInterface, String ipv4, String ipv6) {
    this.node = node;
    this.netns = netns;
    this.hostInterface = hostInterface;
    this.ipv4 = ipv4;
    this.ipv6 = ipv6;
  }

  public String netns() {
    return netns;
  }

  /** The Pod's veth on the node. */
  public String hostInterface() {
    return hostInterface;
  }

  public String ipv4() {
    return ipv4;
  }

  public String ipv6() {
    return ipv6;
  }

  /** Both IPs, IPv4 first, as {@code status.podIPs} lists them. */
  public List<String> ips() {
    return List.of(ipv4, ipv6);
  }

  /** The Pod's address of the family of {@code target}. */
  public String ipFor(String target) {
    return target.contains(":") ? ipv6 : ipv4;
  }

  /** {@code count} pings, 10 ms apart, from this Pod's own address to {@code target}. */
  public NetnsPod.PingResult ping(String target, int count) {
    return NetnsNode.pingFrom(List.of("ip", "netns", "exec", netns), ipFor(target), target, count);
  }

  /** Runs {@code argv} in the Pod's namespace. */
  public Command.Result exec(String... argv) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns));
    full.addAll(List.of(argv));
    return Command.run(full).orThrow();
  }

  void ip(String... args) {
    List<String> argv = new ArrayList<>(List.of("ip", "-n", netns));
    argv.addAll(List.of(args));
    Command.run(argv).orThrow();
  }

  /**
   * The veth needs a moment to get a carrier; one answered ping per family shows the Pod is wired.
   */
  void awaitReachable(String gateway4, String target6) {
    for (String target : List.of(gateway4, target6)) {
      List<String> argv =
          List.of("ip", "netns", "exec", netns, "ping", "-q", "-n", "-c", "1", "-w", "5", target);
      Command.Result result = Command.run(Duration.ofSeconds(10), argv);
      if (!result.ok()) {
        throw new IllegalStateException(
            "Pod " + netns + " cannot reach " + target + ": " + result.output());
      }
    }
  }

  @Override
  public String toString() {
    return "Pod " + netns + " " + ipv4 + " " + ipv6 + " on " + node.name();
  }
}
