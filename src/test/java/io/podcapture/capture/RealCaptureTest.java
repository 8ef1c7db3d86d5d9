package io.podcapture.capture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.Command;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real tcpdump on two network-namespace "Pods": what it captures, how it stops, fails and restarts.
 */
@Tag("real-capture")
class RealCaptureTest {

  private static NetnsPod a;
  private static NetnsPod b;

  @TempDir Path tmp;
  private Path captureDir;
  private CaptureManager manager;
  private final CaptureKey key = new CaptureKey("shop", "pod-a");

  @BeforeAll
  static void pods() {
    Requirements.realCapture();
    a = NetnsPod.create();
    b = NetnsPod.create();
  }

  @AfterAll
  static void deletePods() {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
  }

  @BeforeEach
  void manager() {
    captureDir = tmp.resolve("capture");
    manager = new CaptureManager(CaptureConfig.of(captureDir));
  }

  @AfterEach
  void closeManager() {
    manager.close();
    Processes.writingInto(captureDir)
        .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
  }

  private CaptureRequest requestForA(int maxFiles) {
    return new CaptureRequest(key, a.ips(), maxFiles, 1);
  }

  private List<Path> ringFiles() throws Exception {
    return CaptureFiles.of(captureDir, key).ring();
  }

  private long pid() throws Exception {
    return PidFile.read(CaptureFiles.of(captureDir, key).pidFile()).orElseThrow().pid();
  }

  @Test
  void capturesOnlyThePodsOwnTrafficOverIpv4AndIpv6() throws Exception {
    CaptureSnapshot started = manager.ensure(requestForA(5));
    assertTrue(
        started
            .filter()
            .contains(
                "(inbound and (src host "
                    + a.ipv4()
                    + " or src host "
                    + a.ipv6()
                    + "))"
                    + " or (outbound and (dst host "
                    + a.ipv4()
                    + " or dst host "
                    + a.ipv6()
                    + " or "),
        started.filter());

    assertEquals(3, a.ping(Ping.count(3)).received());
    assertEquals(3, a.ping(Ping.count(3).overIpv6()).received());
    assertEquals(3, b.ping(Ping.count(3)).received());
    assertEquals(3, b.ping(Ping.count(3).overIpv6()).received());

    String v4Request = a.ipv4() + " > " + a.hostIpv4() + ": ICMP echo request";
    String v4Reply = a.hostIpv4() + " > " + a.ipv4() + ": ICMP echo reply";
    String v6Request = a.ipv6() + " > " + a.hostIpv6() + ": ICMP6, echo request";
    // -U writes every packet at once, so the running capture can be read
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> {
              List<String> packets = Pcap.packets(ringFiles());
              assertEquals(
                  3,
                  packets.stream().filter(p -> p.contains(v4Request)).count(),
                  String.join("\n", packets));
              assertEquals(
                  3,
                  packets.stream().filter(p -> p.contains(v4Reply)).count(),
                  String.join("\n", packets));
              assertEquals(
                  3,
                  packets.stream().filter(p -> p.contains(v6Request)).count(),
                  String.join("\n", packets));
            });
    List<String> packets = Pcap.packets(ringFiles());
    assertTrue(
        packets.stream().noneMatch(p -> p.contains(b.ipv4()) || p.contains(b.ipv6())),
        "B's traffic must not be in A's capture:\n" + String.join("\n", packets));
    assertTrue(
        packets.stream().allMatch(p -> p.contains(a.ipv4()) || p.contains(a.ipv6())),
        String.join("\n", packets));
  }

  @Test
  void stopDeletesEveryFileAndLeavesNoTcpdump() throws Exception {
    manager.ensure(requestForA(3));
    long pid = pid();
    a.ping(Ping.count(2));

    long began = System.nanoTime();
    manager.remove(key);
    System.out.printf(
        "stop of a real tcpdump took %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));

    assertFalse(Processes.alive(pid));
    assertEquals(List.of(), Processes.writingInto(captureDir));
    try (Stream<Path> files = Files.walk(captureDir)) {
      assertEquals(List.of(), files.filter(Files::isRegularFile).toList());
    }
    manager.remove(key);
    assertTrue(manager.snapshot(key).isEmpty());
  }

  @Test
  void tcpdumpKilledFromOutsideIsReportedAndRestartedKeepingItsFiles() throws Exception {
    BlockingQueue<CaptureKey> exited = new LinkedBlockingQueue<>();
    manager.onExit(exited::add);
    manager.ensure(requestForA(3));
    long pid = pid();
    a.ping(Ping.count(2).size(321));
    // libpcap hands packets over in blocks (TPACKET_V3, up to tcpdump's 1 s timeout later): wait
    // for them
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Pcap.packets(ringFiles()).stream().anyMatch(p -> p.contains("length 329")));

    Command.run("kill", "-9", Long.toString(pid)).orThrow();

    assertEquals(key, exited.poll(5, TimeUnit.SECONDS));
    CaptureSnapshot dead = manager.snapshot(key).orElseThrow();
    assertFalse(dead.running());
    assertEquals(137, dead.exitCode());
    assertEquals("killed by signal 9 (SIGKILL)", dead.exitReason());

    CaptureSnapshot restarted = manager.ensure(requestForA(3));
    a.ping(Ping.count(2).size(654));

    assertTrue(restarted.running());
    assertEquals(1, restarted.restartCount());
    List<Path> previous = CaptureFiles.of(captureDir, key).previous();
    assertEquals(
        List.of("capture-pod-a.pcap0"),
        previous.stream().map(p -> p.getFileName().toString()).toList());
    assertTrue(
        restarted.files().stream()
            .anyMatch(f -> f.previous() && f.name().equals("capture-pod-a.pcap0")));
    // the earlier run's packets survived in previous/, the new run's go to the new ring
    assertTrue(
        Pcap.packets(previous).stream().anyMatch(p -> p.contains("length 329")),
        "size 321 + 8 ICMP header");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Pcap.packets(ringFiles()).stream().anyMatch(p -> p.contains("length 662")));
    assertTrue(Pcap.packets(ringFiles()).stream().noneMatch(p -> p.contains("length 329")));
  }

  @Test
  void cannotStartOnAMissingInterface() throws Exception {
    manager.close();
    manager = new CaptureManager(CaptureConfig.of(captureDir).withInterfaceName("podcapnosuch0"));

    CaptureException e = assertThrows(CaptureException.class, () -> manager.ensure(requestForA(3)));

    System.out.println("tcpdump on a missing interface: " + e.getMessage());
    assertEquals(CaptureException.Reason.TcpdumpFailed, e.reason());
    assertTrue(e.getMessage().contains("podcapnosuch0: No such device exists"), e.getMessage());
    assertEquals(List.of(), Processes.writingInto(captureDir));
    try (Stream<Path> files = Files.walk(captureDir)) {
      assertEquals(List.of(), files.filter(Files::isRegularFile).toList());
    }
    assertTrue(manager.captures().isEmpty());
  }

  /** ensure waits for the first file under the name we expect, so a wrong guess would time out. */
  @ParameterizedTest(name = "maxFiles = {0}: {1}")
  @CsvSource({
    "1, capture-pod-a.pcap",
    "2, capture-pod-a.pcap0",
    "10, capture-pod-a.pcap0",
    "11, capture-pod-a.pcap00",
    "12, capture-pod-a.pcap00",
    "100, capture-pod-a.pcap00",
    "101, capture-pod-a.pcap000",
    "1000, capture-pod-a.pcap000"
  })
  void tcpdumpNamesTheFirstFileAsExpected(int maxFiles, String name) throws Exception {
    CaptureSnapshot snapshot = manager.ensure(requestForA(maxFiles));
    assertEquals(List.of(name), snapshot.files().stream().map(RingFile::name).toList());
    assertEquals(List.of(name), ringFiles().stream().map(p -> p.getFileName().toString()).toList());
  }

  @Test
  void theLongestAcceptedPodNameFitsTheFileSystem() throws Exception {
    CaptureKey longest = new CaptureKey("shop", "p".repeat(ValidRequest.MAX_POD_NAME));
    CaptureSnapshot snapshot = manager.ensure(new CaptureRequest(longest, a.ips(), 1000, 1));
    assertTrue(snapshot.running());
    assertEquals(255, snapshot.files().get(0).name().length());
    manager.remove(longest);
  }

  private CaptureRequest requestForA(
      CaptureKey key, String filter, Integer packetCount, Duration duration) {
    return new CaptureRequest(key, a.ips(), 3, 1, filter, packetCount, duration, 0);
  }

  /**
   * {@code count} UDP datagrams from A to its host side, port {@code port} (nobody listens: the
   * host says so in ICMP).
   */
  private static void udpFromA(int count, int port) {
    for (int i = 0; i < count; i++) {
      Command.run(
              "ip",
              "netns",
              "exec",
              a.netns(),
              "bash",
              "-c",
              "echo datagram-" + i + " > /dev/udp/" + a.hostIpv4() + "/" + port)
          .orThrow();
    }
  }

  @Test
  void aUdpPortFilterRecordsTheDatagramsAndNoIcmp() throws Exception {
    CaptureSnapshot started = manager.ensure(requestForA(key, "udp port 9999", null, null));
    assertTrue(started.filter().endsWith(") and (udp port 9999)"), started.filter());

    udpFromA(5, 9999);
    udpFromA(3, 9998);
    assertEquals(3, a.ping(Ping.count(3)).received());

    await().atMost(Duration.ofSeconds(5)).until(() -> Pcap.packets(ringFiles()).size() >= 5);
    Thread.sleep(1500);
    List<String> packets = Pcap.packets(ringFiles());
    assertEquals(5, packets.size(), String.join("\n", packets));
    assertTrue(
        packets.stream()
            .allMatch(p -> p.contains(a.ipv4() + ".") && p.contains(a.hostIpv4() + ".9999: UDP")),
        String.join("\n", packets));
    assertTrue(packets.stream().noneMatch(p -> p.contains("ICMP")), String.join("\n", packets));
  }

  @Test
  void aDurationOf3SecondsCompletesKeepingEveryPacketAndFileAndLeavesNoTcpdump() throws Exception {
    BlockingQueue<CaptureKey> exited = new LinkedBlockingQueue<>();
    manager.onExit(exited::add);
    CaptureSnapshot started = manager.ensure(requestForA(key, null, null, Duration.ofSeconds(3)));
    long pid = pid();
    // pings until just before the end: the last ones must be in the file too
    assertEquals(25, a.ping(Ping.count(25).interval(Duration.ofMillis(100))).received());

    assertEquals(key, exited.poll(10, TimeUnit.SECONDS));
    CaptureSnapshot done = manager.snapshot(key).orElseThrow();
    long ranMillis = Duration.between(started.startTime(), java.time.Instant.now()).toMillis();
    assertTrue(done.completed());
    assertFalse(done.running());
    assertTrue(ranMillis >= 3000 && ranMillis < 6000, "ran " + ranMillis + " ms");
    assertFalse(Processes.alive(pid));
    assertEquals(List.of(), Processes.writingInto(captureDir));
    assertEquals(
        List.of("capture-pod-a.pcap0"), done.files().stream().map(RingFile::name).toList());
    List<String> packets = Pcap.packets(ringFiles());
    String request = a.ipv4() + " > " + a.hostIpv4() + ": ICMP echo request";
    assertEquals(
        25, packets.stream().filter(p -> p.contains(request)).count(), String.join("\n", packets));
    assertEquals(
        25,
        packets.stream().filter(p -> p.contains("ICMP echo reply")).count(),
        String.join("\n", packets));

    assertTrue(
        manager.ensure(requestForA(key, null, null, Duration.ofSeconds(3))).completed(),
        "not restarted");
    assertEquals(List.of(), Processes.writingInto(captureDir));
  }

  @Test
  void aPacketCountOf10LeavesExactly10Packets() throws Exception {
    BlockingQueue<CaptureKey> exited = new LinkedBlockingQueue<>();
    manager.onExit(exited::add);
    manager.ensure(requestForA(key, null, 10, null));
    long pid = pid();

    assertEquals(20, a.ping(Ping.count(20)).received());

    assertEquals(key, exited.poll(10, TimeUnit.SECONDS));
    CaptureSnapshot done = manager.snapshot(key).orElseThrow();
    assertTrue(done.completed());
    assertEquals(0, done.exitCode());
    assertFalse(Processes.alive(pid));
    assertEquals(
        10, Pcap.packets(ringFiles()).size(), String.join("\n", Pcap.packets(ringFiles())));
    assertEquals(List.of(), Processes.writingInto(captureDir));
  }

  @Test
  void twoCapturesOfOnePodRunAtOnceAndStoppingOneLeavesTheOther() throws Exception {
    CaptureKey icmp = new CaptureKey("shop", "pod-a-icmp");
    CaptureKey everything = new CaptureKey("shop", "pod-a-all");
    manager.ensure(requestForA(icmp, "icmp", null, null));
    manager.ensure(requestForA(everything, null, null, null));
    List<Path> icmpFiles = CaptureFiles.of(captureDir, icmp).ring();
    List<Path> allFiles = CaptureFiles.of(captureDir, everything).ring();
    assertEquals(2, Processes.writingInto(captureDir).size());

    a.ping(Ping.count(3).size(111));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                Pcap.packets(icmpFiles).stream().filter(p -> p.contains("length 119")).count() == 6
                    && Pcap.packets(allFiles).stream().filter(p -> p.contains("length 119")).count()
                        == 6);

    manager.remove(icmp);

    assertTrue(manager.snapshot(icmp).isEmpty());
    assertTrue(icmpFiles.stream().noneMatch(Files::exists));
    assertTrue(manager.snapshot(everything).orElseThrow().running());
    assertEquals(1, Processes.writingInto(captureDir).size());
    a.ping(Ping.count(2).size(222));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                Pcap.packets(allFiles).stream().filter(p -> p.contains("length 230")).count() == 4);
  }

  @Test
  void aSnapLengthKeepsOnlyThatManyBytesOfEachPacket() throws Exception {
    CaptureKey cut = new CaptureKey("shop", "pod-a-cut");
    CaptureKey whole = new CaptureKey("shop", "pod-a-whole");
    // "icmp": the echo packets only, each longer than 100 bytes (an ARP packet would be shorter)
    manager.ensure(new CaptureRequest(cut, a.ips(), 1, 1, "icmp", 10, null, 100));
    manager.ensure(new CaptureRequest(whole, a.ips(), 1, 1, "icmp", 10, null, 0));

    assertEquals(5, a.ping(Ping.count(5).size(1000)).received());

    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                manager.snapshot(cut).orElseThrow().completed()
                    && manager.snapshot(whole).orElseThrow().completed());
    // pcap: 24-byte file header, then per packet a 16-byte record header and the bytes kept
    long cutBytes = Files.size(CaptureFiles.of(captureDir, cut).ring().get(0));
    long wholeBytes = Files.size(CaptureFiles.of(captureDir, whole).ring().get(0));
    assertEquals(24 + 10 * (16 + 100), cutBytes);
    assertTrue(wholeBytes > 10 * 1000, wholeBytes + " bytes");
  }
}
