package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.podcapture.capture.NodeInterfaces.Device;
import io.podcapture.capture.NodeInterfaces.Kind;
import io.podcapture.testing.Requirements;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class PodFilterTest {

  private static List<IpLiteral> ips(String... ips) throws CaptureException {
    List<IpLiteral> parsed = new java.util.ArrayList<>();
    for (String ip : ips) {
      parsed.add(IpLiteral.parse(ip));
    }
    return parsed;
  }

  @Test
  void keepsWhatEntersFromThePodAndWhatLeavesForIt() throws CaptureException {
    assertEquals(
        "(inbound and (src host 10.1.2.3)) or (outbound and (dst host 10.1.2.3))",
        PodFilter.of(ips("10.1.2.3"), List.of()));
  }

  @Test
  void addsSolicitationsForTheIpv6AddressOfADualStackPod() throws CaptureException {
    assertEquals(
        "(inbound and (src host 10.1.2.3 or src host fd00::1a)) or (outbound and (dst host 10.1.2.3"
            + " or dst host fd00::1a or (icmp6 and icmp6[0] == 135 and icmp6[8:4] == 0xfd000000"
            + " and icmp6[12:4] == 0x00000000 and icmp6[16:4] == 0x00000000 and icmp6[20:4] == 0x0000001a)))",
        PodFilter.of(ips("10.1.2.3", "FD00::1A"), List.of()));
  }

  @Test
  void leavesOutTheDevicesThatRepeatPodTraffic() throws CaptureException {
    assertEquals(
        "((inbound and (src host 10.1.2.3)) or (outbound and (dst host 10.1.2.3))) and not ifindex 3"
            + " and not ifindex 17",
        PodFilter.of(
            ips("10.1.2.3"),
            List.of(new Device("cni0", 3, Kind.BRIDGE), new Device("flannel.1", 17, Kind.TUNNEL))));
  }

  @Test
  void solicitationTargetOfAnIpv4MappedAddressIsTheMappedForm() throws CaptureException {
    assertEquals(
        "(icmp6 and icmp6[0] == 135 and icmp6[8:4] == 0x00000000 and icmp6[12:4] == 0x00000000"
            + " and icmp6[16:4] == 0x0000ffff and icmp6[20:4] == 0x0a000001)",
        PodFilter.solicitationFor(IpLiteral.parse("::ffff:10.0.0.1")));
  }

  @Test
  void theUsersFilterNarrowsThePodFilterInParentheses() throws CaptureException {
    assertEquals(
        "(POD) and (tcp port 443 or udp)",
        PodFilter.complete("POD", UserFilter.parse(" tcp port 443 or udp\n")));
    assertEquals("POD", PodFilter.complete("POD", null));
  }

  @Test
  void refusesAPodWithoutIps() {
    assertThrows(IllegalArgumentException.class, () -> PodFilter.of(List.of(), List.of()));
  }

  @Test
  void everyPodFilterCompilesForTheLinkTypeOfAny() throws CaptureException {
    Requirements.commands("tcpdump");
    FilterCompiler compiler =
        new FilterCompiler(
            TcpdumpCommand.of(CaptureConfig.of(Path.of("/capture"))), Duration.ofSeconds(10));
    String pod =
        PodFilter.of(
            ips("10.1.2.3", "fd00::1a", "::ffff:10.0.0.1"),
            List.of(new Device("cni0", 3, Kind.BRIDGE), new Device("x", 99, Kind.VIRTUAL)));
    compiler.check(
        PodFilter.complete(pod, UserFilter.parse("tcp port 443 and inbound and ifindex 7")),
        UserFilter.parse("tcp port 443 and inbound and ifindex 7"));
  }
}
