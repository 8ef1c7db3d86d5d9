package io.podcapture.capture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which capabilities tcpdump needs (issue 6), shown by bounding them with setpriv: NET_RAW and
 * SETGID are needed, SETUID and NET_ADMIN are not (as uid 0 with {@code -i any -Z root}).
 */
@Tag("real-capture")
class CapabilitiesTest {

  private static final long CAP_SETGID = 1L << 6;
  private static final long CAP_SETUID = 1L << 7;
  private static final long CAP_NET_ADMIN = 1L << 12;
  private static final long CAP_NET_RAW = 1L << 13;

  private static NetnsPod pod;

  @TempDir Path tmp;
  private CaptureManager manager;
  private final CaptureKey key = new CaptureKey("caps", "pod-c");

  @BeforeAll
  static void pod() {
    Requirements.realCapture();
    Requirements.commands("setpriv");
    pod = NetnsPod.create();
  }

  @AfterAll
  static void deletePod() {
    if (pod != null) {
      pod.close();
    }
  }

  @AfterEach
  void closeManager() {
    if (manager != null) {
      manager.close();
    }
  }

  private static List<String> boundedTo(String capabilities) {
    return List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all," + capabilities, "--");
  }

  private CaptureSnapshot start(List<String> launcher) throws CaptureException {
    manager = new CaptureManager(CaptureConfig.of(tmp).withLauncher(launcher));
    return manager.ensure(new CaptureRequest(key, pod.ips(), 2, 1));
  }

  private long effectiveCapabilities() throws Exception {
    long pid = PidFile.read(CaptureFiles.of(tmp, key).pidFile()).orElseThrow().pid();
    String capEff = Processes.statusField(pid, "CapEff");
    if (capEff == null) {
      throw new AssertionError("no CapEff for " + pid);
    }
    return Long.parseUnsignedLong(capEff, 16);
  }

  private void assertCaptures() throws Exception {
    pod.ping(Ping.count(2).size(432));
    CaptureFiles files = CaptureFiles.of(tmp, key);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                Pcap.packets(files.ring()).stream()
                    .anyMatch(
                        p ->
                            p.contains(pod.ipv4() + " > " + pod.hostIpv4() + ": ICMP echo request")
                                && p.contains("length 440")));
  }

  private void assertNothingLeft() throws Exception {
    assertEquals(List.of(), Processes.writingInto(tmp));
    try (Stream<Path> files = Files.walk(tmp)) {
      assertEquals(List.of(), files.filter(Files::isRegularFile).toList());
    }
  }

  @Test
  void capturesWithNetRawSetuidAndSetgidOnly() throws Exception {
    start(boundedTo("+net_raw,+setuid,+setgid"));
    assertEquals(CAP_NET_RAW | CAP_SETUID | CAP_SETGID, effectiveCapabilities());
    assertCaptures();
  }

  @Test
  void theMinimalLauncherCapturesWithNetRawAndSetgidAlone() throws Exception {
    start(CaptureConfig.MINIMAL_CAPABILITIES);
    long capabilities = effectiveCapabilities();
    assertEquals(CAP_NET_RAW | CAP_SETGID, capabilities);
    assertEquals(
        0, capabilities & (CAP_NET_ADMIN | CAP_SETUID), "needs neither NET_ADMIN nor SETUID");
    assertCaptures();
  }

  @Test
  void withoutSetgidTcpdumpCannotSwitchToRoot() throws Exception {
    CaptureException e =
        assertThrows(CaptureException.class, () -> start(boundedTo("+net_raw,+setuid")));
    System.out.println("without SETGID: " + e.getMessage());
    assertEquals(CaptureException.Reason.TcpdumpFailed, e.reason());
    assertTrue(
        e.getMessage().contains("Couldn't change to 'root' uid=0 gid=0: Operation not permitted"),
        e.getMessage());
    assertNothingLeft();
  }

  @Test
  void withoutNetRawTcpdumpCannotOpenTheDevice() throws Exception {
    CaptureException e =
        assertThrows(CaptureException.class, () -> start(boundedTo("+setuid,+setgid")));
    System.out.println("without NET_RAW: " + e.getMessage());
    assertEquals(CaptureException.Reason.TcpdumpFailed, e.reason());
    assertTrue(
        e.getMessage()
            .contains("any: You don't have permission to perform this capture on that device"),
        e.getMessage());
    assertNothingLeft();
  }

  @Test
  void aUsersFilterIsCheckedAndRunWithTheMinimalCapabilitiesToo() throws Exception {
    manager =
        new CaptureManager(CaptureConfig.of(tmp).withLauncher(CaptureConfig.MINIMAL_CAPABILITIES));
    CaptureSnapshot snapshot =
        manager.ensure(new CaptureRequest(key, pod.ips(), 2, 1, "icmp and inbound", null, null, 0));
    assertTrue(snapshot.filter().endsWith(" and (icmp and inbound)"), snapshot.filter());
    assertEquals(CAP_NET_RAW | CAP_SETGID, effectiveCapabilities());
    assertCaptures();

    CaptureException e =
        assertThrows(
            CaptureException.class,
            () ->
                manager.ensure(
                    new CaptureRequest(
                        new CaptureKey("default", "bad"),
                        pod.ips(),
                        2,
                        1,
                        "icmp and and",
                        null,
                        null,
                        0)));
    assertEquals(CaptureException.Reason.InvalidFilter, e.reason(), e.getMessage());
  }
}
