package io.podcapture.capture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.NetnsNode;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPodOnNode;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Pod filter keeps each of a Pod's packets exactly once on nodes wired like the common CNIs
 * (routed, bridged, VXLAN to another node; see {@link NetnsNode}), IPv4 and IPv6, while the old
 * {@code host <ip>} filter, run at the same time on the same traffic, records duplicates where the
 * node repeats a Pod's packets.
 */
@Tag("real-capture")
class TopologyCaptureTest {

  private static final int PINGS = 5;

  private static NetnsNode routed;
  private static NetnsPodOnNode routedA;
  private static NetnsPodOnNode routedB;
  private static NetnsNode bridged;
  private static NetnsPodOnNode bridgedA;
  private static NetnsPodOnNode bridgedB;
  private static NetnsNode other;
  private static NetnsPodOnNode remote;

  @TempDir Path tmp;
  private CaptureManager manager;
  private Process oldFilter;

  @BeforeAll
  static void nodes() {
    Requirements.realCapture();
    Requirements.commands("nsenter", "mount", "umount");
    routed = NetnsNode.create();
    routedA = routed.addRoutedPod();
    routedB = routed.addRoutedPod();
    bridged = NetnsNode.create();
    bridgedA = bridged.addBridgedPod();
    bridgedB = bridged.addBridgedPod();
    other = NetnsNode.create();
    remote = other.addRoutedPod();
    routed.linkVxlan(other);
  }

  @AfterAll
  static void deleteNodes() {
    for (NetnsNode node : new NetnsNode[] {routed, bridged, other}) {
      if (node != null) {
        node.close();
      }
    }
  }

  @AfterEach
  void stopEverything() {
    if (manager != null) {
      manager.close();
    }
    if (oldFilter != null) {
      oldFilter.destroyForcibly();
    }
    Processes.writingInto(tmp)
        .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
  }

  /** What the two captures of one test recorded: ours, and the old filter's. */
  private record Recorded(List<String> ours, List<String> old, String filter) {}

  /**
   * Captures {@code pod} on {@code node} with the Pod filter and, at the same time, with the old
   * {@code host} filter, while {@code traffic} runs; returns each capture's echo packets once both
   * have all they will get.
   */
  private Recorded capture(
      NetnsNode node, NetnsPodOnNode pod, boolean ipv6, int expected, Runnable traffic)
      throws Exception {
    manager =
        new CaptureManager(
            CaptureConfig.of(tmp.resolve("capture"))
                .withLauncher(node.launcher())
                .withSysClassNet(node.sysClassNet()));
    CaptureKey key = new CaptureKey("default", "pod-a");
    CaptureSnapshot started = manager.ensure(new CaptureRequest(key, pod.ips(), 1, 10));
    Path oldFile = tmp.resolve("old.pcap");
    // the same tcpdump options as ours, only the filter differs
    List<String> argv =
        TcpdumpCommand.of(CaptureConfig.of(tmp).withLauncher(node.launcher()))
            .argv(
                oldFile,
                1,
                10,
                TcpdumpCommand.hostFilter(
                    List.of(IpLiteral.parse(pod.ipv4()), IpLiteral.parse(pod.ipv6()))));
    oldFilter =
        new ProcessBuilder(argv)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectInput(new File("/dev/null"))
            .start();
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(oldFile));

    traffic.run();

    List<Path> ours = CaptureFiles.of(tmp.resolve("capture"), key).ring();
    // libpcap hands packets over up to a second late; a duplicate would come with its original.
    // Both tcpdumps get that second before they are stopped, so neither loses a packet to the stop.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> echoes(Pcap.packets(ours), ipv6).size() >= expected);
    Thread.sleep(1500);
    List<String> ourPackets = echoes(Pcap.packets(ours), ipv6);
    oldFilter.destroy();
    oldFilter.waitFor(5, TimeUnit.SECONDS);
    List<String> oldPackets = echoes(Pcap.packets(oldFile), ipv6);
    manager.remove(key);
    return new Recorded(ourPackets, oldPackets, started.filter());
  }

  private static List<String> echoes(List<String> packets, boolean ipv6) {
    String echo = ipv6 ? "ICMP6, echo " : "ICMP echo ";
    return packets.stream().filter(p -> p.contains(echo)).toList();
  }

  private static void pings(NetnsPod.PingResult... results) {
    for (NetnsPod.PingResult result : results) {
      assertEquals(PINGS, result.received(), result.output());
    }
  }

  private static void assertRecorded(Recorded recorded, int ours, int old) {
    String detail =
        "filter "
            + recorded.filter()
            + "\nours:\n"
            + String.join("\n", recorded.ours())
            + "\nold:\n"
            + String.join("\n", recorded.old());
    assertEquals(ours, recorded.ours().size(), detail);
    assertEquals(old, recorded.old().size(), detail);
  }

  @ParameterizedTest(name = "IPv6 {0}")
  @CsvSource({"false", "true"})
  void routedPodToPodInBothDirectionsIsRecordedOnceWhereTheHostFilterRecordsItTwice(boolean ipv6)
      throws Exception {
    Recorded recorded =
        capture(
            routed,
            routedA,
            ipv6,
            4 * PINGS,
            () ->
                pings(
                    routedA.ping(ipv6 ? routedB.ipv6() : routedB.ipv4(), PINGS),
                    routedB.ping(ipv6 ? routedA.ipv6() : routedA.ipv4(), PINGS)));

    // 2 echo packets per ping, each way; the host filter also records them on B's veth
    assertRecorded(recorded, 4 * PINGS, 8 * PINGS);
  }

  @ParameterizedTest(name = "IPv6 {0}")
  @CsvSource({"false", "true"})
  void routedNodeToPodIsRecordedOnce(boolean ipv6) throws Exception {
    String node = ipv6 ? routed.nodeIpv6() : routed.nodeIpv4();
    Recorded recorded =
        capture(
            routed,
            routedA,
            ipv6,
            4 * PINGS,
            () ->
                pings(
                    routed.ping(ipv6 ? routedA.ipv6() : routedA.ipv4(), PINGS),
                    routedA.ping(node, PINGS)));

    assertRecorded(recorded, 4 * PINGS, 4 * PINGS);
  }

  @ParameterizedTest(name = "IPv6 {0}")
  @CsvSource({"false", "true"})
  void bridgedPodToPodIsRecordedOnceWhereTheHostFilterRecordsItTwice(boolean ipv6)
      throws Exception {
    Recorded recorded =
        capture(
            bridged,
            bridgedA,
            ipv6,
            4 * PINGS,
            () ->
                pings(
                    bridgedA.ping(ipv6 ? bridgedB.ipv6() : bridgedB.ipv4(), PINGS),
                    bridgedB.ping(ipv6 ? bridgedA.ipv6() : bridgedA.ipv4(), PINGS)));

    assertRecorded(recorded, 4 * PINGS, 8 * PINGS);
  }

  @ParameterizedTest(name = "IPv6 {0}")
  @CsvSource({"false", "true"})
  void bridgedNodeToPodIsRecordedOnceWhereTheHostFilterAlsoRecordsTheBridge(boolean ipv6)
      throws Exception {
    String node = ipv6 ? bridged.nodeIpv6() : bridged.nodeIpv4();
    Recorded recorded =
        capture(
            bridged,
            bridgedA,
            ipv6,
            4 * PINGS,
            () ->
                pings(
                    bridged.ping(ipv6 ? bridgedA.ipv6() : bridgedA.ipv4(), PINGS),
                    bridgedA.ping(node, PINGS)));

    assertRecorded(recorded, 4 * PINGS, 8 * PINGS);
    assertTrue(recorded.filter().contains(" and not ifindex "), recorded.filter());
  }

  @ParameterizedTest(name = "IPv6 {0}")
  @CsvSource({"false", "true"})
  void bridgedPodToGatewayIsRecordedOnceWhereTheHostFilterAlsoRecordsTheBridge(boolean ipv6)
      throws Exception {
    String gateway = ipv6 ? bridged.bridgeGateway6() : bridged.bridgeGateway4();
    Recorded recorded =
        capture(
            bridged,
            bridgedA,
            ipv6,
            4 * PINGS,
            () ->
                pings(
                    bridgedA.ping(gateway, PINGS),
                    bridged.ping(gateway, ipv6 ? bridgedA.ipv6() : bridgedA.ipv4(), PINGS)));

    assertRecorded(recorded, 4 * PINGS, 8 * PINGS);
  }

  @ParameterizedTest(name = "IPv6 {0}")
  @CsvSource({"false", "true"})
  void podToAPodOnAnotherNodeThroughVxlanIsRecordedOnceWhereTheHostFilterAlsoRecordsTheTunnel(
      boolean ipv6) throws Exception {
    Recorded recorded =
        capture(
            routed,
            routedA,
            ipv6,
            4 * PINGS,
            () ->
                pings(
                    routedA.ping(ipv6 ? remote.ipv6() : remote.ipv4(), PINGS),
                    remote.ping(ipv6 ? routedA.ipv6() : routedA.ipv4(), PINGS)));

    assertRecorded(recorded, 4 * PINGS, 8 * PINGS);
  }

  @Test
  void thePodsArpIsKeptOnceOnARoutedAndOnABridgedNode() throws Exception {
    for (NetnsNode node : List.of(routed, bridged)) {
      NetnsPodOnNode pod = node == routed ? routedA : bridgedA;
      String gateway = node == routed ? NetnsNode.ROUTED_GATEWAY4 : node.bridgeGateway4();
      manager =
          new CaptureManager(
              CaptureConfig.of(tmp.resolve("capture"))
                  .withLauncher(node.launcher())
                  .withSysClassNet(node.sysClassNet()));
      CaptureKey key = new CaptureKey("default", "arp");
      manager.ensure(new CaptureRequest(key, pod.ips(), 1, 10));
      pod.exec("ip", "neigh", "flush", "all");
      node.exec("ip", "neigh", "flush", "all");

      pod.exec("ping", "-c", "1", "-w", "5", gateway);

      List<Path> files = CaptureFiles.of(tmp.resolve("capture"), key).ring();
      String request = "ARP, Request who-has " + gateway + " tell " + pod.ipv4();
      String reply = "ARP, Reply " + gateway + " is-at ";
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> Pcap.packets(files).stream().anyMatch(p -> p.contains(reply)));
      Thread.sleep(1500);
      List<String> packets = Pcap.packets(files);
      assertEquals(
          1,
          packets.stream().filter(p -> p.contains(request)).count(),
          node + ":\n" + String.join("\n", packets));
      assertEquals(
          1,
          packets.stream().filter(p -> p.contains(reply)).count(),
          node + ":\n" + String.join("\n", packets));
      manager.close();
    }
  }

  @Test
  void aSolicitationForThePodFromTheNodesLinkLocalAddressIsKeptOnce() throws Exception {
    manager =
        new CaptureManager(
            CaptureConfig.of(tmp.resolve("capture"))
                .withLauncher(routed.launcher())
                .withSysClassNet(routed.sysClassNet()));
    CaptureKey key = new CaptureKey("default", "nd");
    manager.ensure(new CaptureRequest(key, routedA.ips(), 1, 10));
    routed.exec("ip", "-6", "neigh", "flush", "all");

    pings(routed.ping(routedA.ipv6(), PINGS));

    List<Path> files = CaptureFiles.of(tmp.resolve("capture"), key).ring();
    String solicitation = "neighbor solicitation, who has " + routedA.ipv6();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Pcap.packets(files).stream().anyMatch(p -> p.contains(solicitation)));
    Thread.sleep(1500);
    List<String> packets = Pcap.packets(files);
    List<String> solicitations = packets.stream().filter(p -> p.contains(solicitation)).toList();
    assertEquals(1, solicitations.size(), String.join("\n", packets));
    assertTrue(
        solicitations.get(0).contains("fe80::"),
        "from a link-local address: " + solicitations.get(0));
    assertTrue(
        packets.stream()
            .anyMatch(p -> p.contains("neighbor advertisement, tgt is " + routedA.ipv6())),
        String.join("\n", packets));
  }

  @Test
  void thePodsOwnSolicitationForItsGatewayIsKeptOnce() throws Exception {
    manager =
        new CaptureManager(
            CaptureConfig.of(tmp.resolve("capture"))
                .withLauncher(routed.launcher())
                .withSysClassNet(routed.sysClassNet()));
    CaptureKey key = new CaptureKey("default", "nd-pod");
    manager.ensure(new CaptureRequest(key, routedA.ips(), 1, 10));
    routedA.exec("ip", "-6", "neigh", "flush", "all");

    pings(routedA.ping(routed.nodeIpv6(), PINGS));

    List<Path> files = CaptureFiles.of(tmp.resolve("capture"), key).ring();
    String solicitation =
        routedA.ipv6() + " > ff02::1:ff00:1: ICMP6, neighbor solicitation, who has fe80::1";
    String advertisement =
        "> " + routedA.ipv6() + ": ICMP6, neighbor advertisement, tgt is fe80::1";
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Pcap.packets(files).stream().anyMatch(p -> p.contains(advertisement)));
    Thread.sleep(1500);
    List<String> packets = Pcap.packets(files);
    assertEquals(
        1,
        packets.stream().filter(p -> p.contains(solicitation)).count(),
        String.join("\n", packets));
    assertEquals(
        1,
        packets.stream().filter(p -> p.contains(advertisement)).count(),
        String.join("\n", packets));
  }

  @Test
  void aBroadcastArpForThePodOnABridgeIsRecordedOncePerBridgePort() throws Exception {
    manager =
        new CaptureManager(
            CaptureConfig.of(tmp.resolve("capture"))
                .withLauncher(bridged.launcher())
                .withSysClassNet(bridged.sysClassNet()));
    CaptureKey key = new CaptureKey("default", "arp-broadcast");
    manager.ensure(new CaptureRequest(key, bridgedA.ips(), 1, 10));
    bridged.exec("ip", "neigh", "flush", "all");

    pings(bridged.ping(bridgedA.ipv4(), PINGS));

    List<Path> files = CaptureFiles.of(tmp.resolve("capture"), key).ring();
    String request = "ARP, Request who-has " + bridgedA.ipv4() + " tell ";
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Pcap.packets(files).stream().anyMatch(p -> p.contains(request)));
    Thread.sleep(1500);
    List<String> packets = Pcap.packets(files);
    // the bridge floods it out of both ports, A's and B's: a documented limit of a filter by
    // address
    assertEquals(
        2, packets.stream().filter(p -> p.contains(request)).count(), String.join("\n", packets));
  }
}
