package io.podcapture.capture;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The node's network devices as sysfs shows them ({@code /sys/class/net}), and which of them repeat
 * Pod traffic.
 *
 * <p>On {@code -i any} a Pod's packet is seen on its own host-side interface (a veth whose peer is
 * in the Pod's namespace) and again on node devices it passes through. Measured here: a Linux
 * bridge repeats every packet between a Pod and the node (or the gateway address on the bridge)
 * with the same direction as on the veth, and so do devices that play the same part: Open vSwitch
 * internal ports (Antrea's {@code antrea-gw0}) and a veth pair whose both ends are on the node
 * (Cilium's {@code cilium_host}). Tunnel devices ({@code flannel.1}, {@code vxlan.calico}, {@code
 * genev_sys_6081}) carry a Pod's packets in the other direction than its veth, so the direction
 * rule already drops them; they are excluded as well, which costs nothing. What is never excluded:
 * the Pods' own interfaces, hardware NICs (they carry Pod packets only to other nodes, never
 * matching the direction rule), the loopback and tap devices (the interface of a VM-based Pod).
 *
 * <p>How sysfs tells them apart: {@code iflink} differs from {@code ifindex} for a veth (it names
 * the peer); a bridge has a {@code bridge/} folder ({@code DEVTYPE=bridge} in {@code uevent});
 * vxlan and geneve say so in {@code uevent}; IP tunnels and WireGuard are not Ethernet ({@code
 * type} is not 1); hardware has a {@code device} link; a tap device has {@code tun_flags}; a port
 * of a bridge has {@code brport/}, a port of an Open vSwitch datapath a {@code master} link. Open
 * vSwitch internal ports show nothing of their own (no {@code DEVTYPE}, no {@code master}), so
 * every other Ethernet device without hardware and without a peer counts as repeating: that takes
 * in OVS internal ports, dummies and bonds alike, none of which is a Pod's interface. One case this
 * cannot tell: a veth whose peer has the very same interface index in the Pod's namespace looks
 * like a device without a peer. Indexes are allocated per namespace, in turn; on a node, with its
 * many devices, the host end's index is far above the few of a Pod's namespace, so this was only
 * seen in a bare test namespace.
 *
 * @param all every device read, by interface index
 */
public record NodeInterfaces(List<Device> all) {

  /**
   * Where the kernel lists the devices of the agent's network namespace (the node's, with
   * hostNetwork).
   */
  public static final Path SYS_CLASS_NET = Path.of("/sys/class/net");

  private static final int ARPHRD_ETHER = 1;
  private static final int ARPHRD_LOOPBACK = 772;

  public NodeInterfaces {
    all = all.stream().sorted(Comparator.comparingInt(Device::ifindex)).toList();
  }

  /** What a device is, as far as the Pod filter cares. */
  public enum Kind {
    /**
     * A veth (or netkit) whose peer is in another namespace, or a port of a bridge or of Open
     * vSwitch: a Pod's host-side interface (or an uplink). Kept.
     */
    POD_LINK(false),
    /** A NIC (it has a {@code device} link in sysfs). Kept. */
    HARDWARE(false),
    /** The loopback. Kept. */
    LOOPBACK(false),
    /** A tap device (a VM-based Pod's interface). Kept. */
    TAP(false),
    /** A Linux bridge. Repeats node-to-Pod traffic. */
    BRIDGE(true),
    /** vxlan, geneve, or any non-Ethernet device (IP tunnels, WireGuard). */
    TUNNEL(true),
    /** A veth pair with both ends on the node (Cilium's {@code cilium_host}/{@code cilium_net}). */
    NODE_VETH(true),
    /**
     * Any other Ethernet device without hardware and without a peer: Open vSwitch ports, dummies,
     * bonds.
     */
    VIRTUAL(true);

    private final boolean repeats;

    Kind(boolean repeats) {
      this.repeats = repeats;
    }

    /**
     * Whether packets of Pods seen on such a device are copies of what the Pod's own interface
     * shows.
     */
    public boolean repeatsPodTraffic() {
      return repeats;
    }
  }

  /** One device: its name, interface index (what {@code ifindex} in a filter matches) and kind. */
  public record Device(String name, int ifindex, Kind kind) {}

  /** The devices in {@code sysClassNet}; a device that vanishes while it is read is left out. */
  public static NodeInterfaces read(Path sysClassNet) {
    Map<Integer, Raw> byIndex = new HashMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(sysClassNet)) {
      for (Path entry : entries) {
        Raw raw = Raw.read(entry);
        if (raw != null) {
          byIndex.put(raw.ifindex, raw);
        }
      }
    } catch (IOException e) {
      // no sysfs (not Linux, or a bare container): no device can be excluded, the direction rule
      // still holds
      return new NodeInterfaces(List.of());
    }
    List<Device> devices = new ArrayList<>();
    for (Raw raw : byIndex.values()) {
      devices.add(new Device(raw.name, raw.ifindex, raw.kind(byIndex)));
    }
    return new NodeInterfaces(devices);
  }

  /**
   * The devices whose copies of Pod packets a capture on {@code any} must leave out, by interface
   * index.
   */
  public List<Device> repeating() {
    return all.stream().filter(d -> d.kind().repeatsPodTraffic()).toList();
  }

  /** What sysfs says about one device. */
  private record Raw(
      String name,
      int ifindex,
      int iflink,
      int type,
      String devtype,
      boolean hardware,
      boolean bridge,
      boolean tap,
      boolean port) {

    static Raw read(Path dir) {
      OptionalInt ifindex = readInt(dir.resolve("ifindex"));
      OptionalInt iflink = readInt(dir.resolve("iflink"));
      OptionalInt type = readInt(dir.resolve("type"));
      if (ifindex.isEmpty() || iflink.isEmpty() || type.isEmpty()) {
        return null;
      }
      return new Raw(
          dir.getFileName().toString(),
          ifindex.getAsInt(),
          iflink.getAsInt(),
          type.getAsInt(),
          devtype(dir.resolve("uevent")),
          Files.exists(dir.resolve("device")),
          Files.isDirectory(dir.resolve("bridge")),
          Files.exists(dir.resolve("tun_flags")),
          Files.isDirectory(dir.resolve("brport"))
              || Files.exists(dir.resolve("master"), LinkOption.NOFOLLOW_LINKS));
    }

    Kind kind(Map<Integer, Raw> byIndex) {
      if (type == ARPHRD_LOOPBACK) {
        return Kind.LOOPBACK;
      }
      if (bridge || "bridge".equals(devtype)) {
        return Kind.BRIDGE;
      }
      if (type != ARPHRD_ETHER || "vxlan".equals(devtype) || "geneve".equals(devtype)) {
        return Kind.TUNNEL;
      }
      if (hardware) {
        return Kind.HARDWARE;
      }
      if (tap) {
        return Kind.TAP;
      }
      if (port) {
        // a bridge port or a port of an Open vSwitch datapath (a Pod's veth, or an uplink), never a
        // gateway
        return Kind.POD_LINK;
      }
      if (iflink != ifindex) {
        // a veth's iflink is its peer's index; a peer on the node points back at us. Interface
        // indexes are per namespace, so a Pod-side peer can share a number with a node device, but
        // not point back too.
        Raw peer = byIndex.get(iflink);
        return peer != null && peer.iflink == ifindex ? Kind.NODE_VETH : Kind.POD_LINK;
      }
      return Kind.VIRTUAL;
    }

    private static OptionalInt readInt(Path file) {
      try {
        return OptionalInt.of(Integer.parseInt(Files.readString(file).trim()));
      } catch (IOException | NumberFormatException e) {
        return OptionalInt.empty();
      }
    }

    private static String devtype(Path uevent) {
      try {
        for (String line : Files.readAllLines(uevent)) {
          if (line.startsWith("DEVTYPE=")) {
            return line.substring("DEVTYPE=".length()).trim();
          }
        }
      } catch (IOException e) {
        // no uevent: no DEVTYPE
      }
      return null;
    }
  }
}
