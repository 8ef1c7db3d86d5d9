package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.podcapture.capture.NodeInterfaces.Device;
import io.podcapture.capture.NodeInterfaces.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tells node devices apart from a sysfs-like folder, laid out as the kernel lays out
 * /sys/class/net.
 */
class NodeInterfacesTest {

  @TempDir Path sys;

  private Path device(String name, int ifindex, int iflink, int type, String devtype)
      throws IOException {
    Path dir = Files.createDirectories(sys.resolve(name));
    Files.writeString(dir.resolve("ifindex"), ifindex + "\n");
    Files.writeString(dir.resolve("iflink"), iflink + "\n");
    Files.writeString(dir.resolve("type"), type + "\n");
    Files.writeString(
        dir.resolve("uevent"),
        (devtype == null ? "" : "DEVTYPE=" + devtype + "\n")
            + "INTERFACE="
            + name
            + "\nIFINDEX="
            + ifindex
            + "\n");
    return dir;
  }

  private Map<String, Kind> kinds() {
    return NodeInterfaces.read(sys).all().stream()
        .collect(Collectors.toMap(Device::name, Device::kind));
  }

  @Test
  void tellsTheDevicesOfCommonCnisApart() throws IOException {
    device("lo", 1, 1, 772, null);
    Files.createDirectories(device("eth0", 2, 2, 1, null).resolve("device"));
    Files.createDirectories(device("cni0", 3, 3, 1, "bridge").resolve("bridge"));
    // a Pod's veth: its peer has index 2 in the Pod's namespace, which eth0 has here; eth0 does not
    // point back
    device("veth1a2b", 4, 2, 1, null);
    device("flannel.1", 5, 5, 1, "vxlan");
    device("antrea-gw0", 6, 6, 1, null);
    device("cilium_host", 7, 8, 1, null);
    device("cilium_net", 8, 7, 1, null);
    device("tunl0", 9, 9, 768, null);
    device("wireguard.cali", 10, 10, 65534, null);
    Files.writeString(device("tap0", 11, 11, 1, null).resolve("tun_flags"), "0x1002\n");
    device("genev_sys_6081", 12, 12, 1, "geneve");
    // ports whose index happens to equal their peer's: told apart by being ports
    Files.createDirectories(device("veth-on-bridge", 13, 13, 1, null).resolve("brport"));
    Files.createSymbolicLink(
        device("veth-on-ovs", 14, 14, 1, null).resolve("master"), sys.resolve("ovs-system"));
    device("ovs-system", 15, 15, 1, null);
    Files.createDirectories(sys.resolve("gone-meanwhile"));

    assertEquals(
        Map.ofEntries(
            Map.entry("lo", Kind.LOOPBACK),
            Map.entry("eth0", Kind.HARDWARE),
            Map.entry("cni0", Kind.BRIDGE),
            Map.entry("veth1a2b", Kind.POD_LINK),
            Map.entry("flannel.1", Kind.TUNNEL),
            Map.entry("antrea-gw0", Kind.VIRTUAL),
            Map.entry("cilium_host", Kind.NODE_VETH),
            Map.entry("cilium_net", Kind.NODE_VETH),
            Map.entry("tunl0", Kind.TUNNEL),
            Map.entry("wireguard.cali", Kind.TUNNEL),
            Map.entry("tap0", Kind.TAP),
            Map.entry("genev_sys_6081", Kind.TUNNEL),
            Map.entry("veth-on-bridge", Kind.POD_LINK),
            Map.entry("veth-on-ovs", Kind.POD_LINK),
            Map.entry("ovs-system", Kind.VIRTUAL)),
        kinds());
  }

  @Test
  void repeatingDevicesAreTheBridgesTunnelsAndNodeOnlyDevicesByIndex() throws IOException {
    device("lo", 1, 1, 772, null);
    Files.createDirectories(device("eth0", 2, 2, 1, null).resolve("device"));
    Files.createDirectories(device("cni0", 3, 3, 1, "bridge").resolve("bridge"));
    device("veth1a2b", 4, 2, 1, null);
    device("flannel.1", 5, 5, 1, "vxlan");

    assertEquals(
        List.of(new Device("cni0", 3, Kind.BRIDGE), new Device("flannel.1", 5, Kind.TUNNEL)),
        NodeInterfaces.read(sys).repeating());
  }

  @Test
  void noSysfsMeansNothingToExclude() {
    assertEquals(List.of(), NodeInterfaces.read(sys.resolve("missing")).all());
  }

  @Test
  void readsThisMachinesOwnDevices() {
    NodeInterfaces real = NodeInterfaces.read(NodeInterfaces.SYS_CLASS_NET);
    assertEquals(
        List.of(Kind.LOOPBACK),
        real.all().stream().filter(d -> d.name().equals("lo")).map(Device::kind).toList());
  }
}
