package io.podcapture.capture;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The BPF expression that keeps each of a Pod's packets once, on {@code -i any} (link type
 * LINUX_SLL2, which records each packet's direction and interface index).
 *
 * <pre>
 *   (inbound and (src host A or src host B))
 *   or (outbound and (dst host A or dst host B or &lt;neighbour solicitation for B&gt;))
 *   [and not ifindex N ...]
 * </pre>
 *
 * <p>Why: a Pod's packets enter the node on its own host-side interface (direction "inbound" there)
 * and reach the Pod through it ("outbound"). Every other copy {@code -i any} sees has the other
 * direction (the veth of the Pod at the other end, a tunnel device), or is on a node device that
 * repeats the traffic in the same direction (a bridge, an Open vSwitch gateway port): those are
 * excluded by interface index, see {@link NodeInterfaces}. {@code host A} was measured to record
 * every Pod-to-Pod packet twice on a routed node and every node-to-Pod packet twice on a bridge.
 *
 * <p>ARP: libpcap's {@code src host}/{@code dst host} of an IPv4 address also match ARP's
 * sender/target protocol address, so the Pod's requests and replies (sender A, inbound) and those
 * for it (target A, outbound) are kept. IPv6 neighbour discovery from a link-local source does not
 * name the Pod's address in its IPv6 header: the node asking for the Pod's address sends from its
 * link-local address to a multicast group, so solicitations whose ICMPv6 target is the Pod's
 * address are matched by that field. The Pod's own solicitations and answers carry its global
 * address as source (Linux answers from the address asked for and asks from the address of the
 * packet waiting), except its neighbour-unreachability probes later on, which come from its
 * link-local address: those are not kept, as nothing in them names an address of the Pod that the
 * agent knows.
 */
public final class PodFilter {

  private PodFilter() {}

  /** The Pod filter for {@code ips}, leaving out the copies seen on {@code excluded} devices. */
  public static String of(List<IpLiteral> ips, List<NodeInterfaces.Device> excluded) {
    if (ips.isEmpty()) {
      throw new IllegalArgumentException("a filter needs at least one IP");
    }
    String from =
        ips.stream().map(ip -> "src host " + ip.text()).collect(Collectors.joining(" or "));
    List<String> to = new ArrayList<>();
    ips.forEach(ip -> to.add("dst host " + ip.text()));
    ips.stream().filter(IpLiteral::ipv6).forEach(ip -> to.add(solicitationFor(ip)));
    String filter =
        "(inbound and (" + from + ")) or (outbound and (" + String.join(" or ", to) + "))";
    if (excluded.isEmpty()) {
      return filter;
    }
    return "("
        + filter
        + ")"
        + excluded.stream()
            .map(d -> " and not ifindex " + d.ifindex())
            .collect(Collectors.joining());
  }

  /**
   * An ICMPv6 neighbour solicitation (type 135) whose target address (ICMPv6 bytes 8 to 23) is
   * {@code ip}. Neighbour discovery has no extension headers (RFC 4861 requires hop limit 255 and
   * sets none), so libpcap's fixed ICMPv6 offset is right for it.
   */
  static String solicitationFor(IpLiteral ip) {
    byte[] bytes = bytes(ip);
    StringBuilder out = new StringBuilder("(icmp6 and icmp6[0] == 135");
    for (int word = 0; word < 4; word++) {
      long value = 0;
      for (int i = 0; i < 4; i++) {
        value = (value << 8) | (bytes[word * 4 + i] & 0xff);
      }
      out.append(" and icmp6[")
          .append(8 + word * 4)
          .append(":4] == 0x")
          .append(String.format("%08x", value));
    }
    return out.append(')').toString();
  }

  /** The 16 bytes of an IPv6 literal (already strictly parsed, so no name is ever looked up). */
  private static byte[] bytes(IpLiteral ip) {
    try {
      InetAddress address = InetAddress.getByName(ip.text());
      if (address instanceof Inet4Address v4) {
        // Java turns ::ffff:a.b.c.d into an IPv4 address; the packet carries the mapped form
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4.getAddress(), 0, mapped, 12, 4);
        return mapped;
      }
      return address.getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP literal: " + ip.text(), e);
    }
  }

  /** What tcpdump runs: the Pod filter, narrowed by the user's filter if there is one. */
  static String complete(String podFilter, UserFilter userFilter) {
    // pcap-filter gives "and" and "or" the same precedence, left to right: both sides need their
    // parentheses
    return userFilter == null ? podFilter : "(" + podFilter + ") and (" + userFilter.text() + ")";
  }
}
