package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.FakeTcpdump;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A user's filter is checked, then compiled by tcpdump itself, before any capture starts; whatever
 * it holds, it never reaches tcpdump as an option or through a shell. The tcpdump here is a wrapper
 * that logs each argv it is run with and then runs the real tcpdump for a filter check ({@code -d})
 * or the fake one for a capture, so a test sees exactly what was run.
 */
@Tag("integration")
class UserFilterTest {

  private static final CaptureKey KEY = new CaptureKey("shop", "web-443");

  @TempDir Path tmp;
  private Path captureDir;
  private Path log;
  private CaptureManager manager;

  @BeforeEach
  void setUp() throws IOException {
    Requirements.commands("tcpdump");
    captureDir = tmp.resolve("capture");
    log = tmp.resolve("argv.log");
    Path fake = FakeTcpdump.install(tmp);
    Path wrapper = tmp.resolve("logging-tcpdump");
    Files.writeString(
        wrapper,
        "#!/bin/bash\nprintf '%s\\n' \"$*\" >> '" + log + "'\nexec '" + fake + "' \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
    manager =
        new CaptureManager(
            CaptureConfig.of(captureDir)
                .withTcpdump(wrapper.toString())
                .withSysClassNet(tmp.resolve("no-sysfs"))
                .withStopGrace(Duration.ofSeconds(2)));
  }

  @AfterEach
  void tearDown() {
    manager.close();
    Processes.writingInto(captureDir)
        .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
  }

  private static CaptureRequest request(String filter) {
    return new CaptureRequest(KEY, List.of("10.0.0.1", "fd00::1"), 3, 1, filter, null, null, 0);
  }

  private List<String> runs() throws IOException {
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  private List<String> captureRuns() throws IOException {
    return runs().stream().filter(argv -> !argv.startsWith("-Z root -d -r - -- ")).toList();
  }

  static Stream<Arguments> hostileFilters() {
    return Stream.of(
        // looks like options: after "--" they are filter text, which does not compile
        Arguments.of("-z /bin/sh", "syntax error"),
        Arguments.of("-w /etc/cron.d/x", "syntax error"),
        Arguments.of("--help", "syntax error"),
        Arguments.of("-r /etc/shadow", "syntax error"),
        Arguments.of("icmp -z /bin/sh", "syntax error"),
        // shell syntax: no shell ever sees it
        Arguments.of("$(reboot)", "syntax error"),
        Arguments.of("`reboot`", "syntax error"),
        Arguments.of("icmp; reboot", "syntax error"),
        Arguments.of("icmp && reboot", "syntax error"),
        Arguments.of("icmp | sh", "syntax error"),
        // does not compile
        Arguments.of("icmp and and", "syntax error"),
        Arguments.of("tcp port 99999", "illegal port number 99999 > 65535"),
        Arguments.of("icmp or", "syntax error"),
        Arguments.of("ether proto \\nosuch", "unknown ether proto"),
        // would reach outside the parentheses around it (and capture the whole node): not an
        // expression alone
        Arguments.of("icmp) or (ip", "syntax error"),
        Arguments.of("icmp)) or ((ip", "syntax error"),
        Arguments.of("ip) or not (ip", "syntax error"));
  }

  @ParameterizedTest
  @MethodSource("hostileFilters")
  void aFilterThatDoesNotCompileIsRefusedWithTcpdumpsWordsAndNothingStarts(
      String filter, String tcpdumpSays) throws IOException {
    CaptureException e =
        assertThrows(CaptureException.class, () -> manager.ensure(request(filter)));

    assertEquals(CaptureException.Reason.InvalidFilter, e.reason());
    assertTrue(
        e.getMessage().startsWith("filter " + Quote.value(filter) + " does not compile: tcpdump: "),
        e.getMessage());
    assertTrue(e.getMessage().contains(tcpdumpSays), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().length() < 600, e.getMessage());
    assertEquals(List.of(), captureRuns(), "no capture was started");
    assertTrue(
        runs().contains("-Z root -d -r - -- " + filter), "compiled on its own after --: " + runs());
    assertTrue(manager.captures().isEmpty());
    assertFalse(Files.exists(captureDir), "nothing written");
  }

  static Stream<Arguments> refusedUnseen() {
    return Stream.of(
        Arguments.of("a".repeat(1025), "is too long: at most 1024 characters are accepted"),
        Arguments.of("icmp and " + " ".repeat(1020), "is too long"),
        Arguments.of("icmp\u0000", "contains the character U+0000 at position 5"),
        Arguments.of("icmp\u001b[2J", "contains the character U+001B"),
        Arguments.of("icmp\u0007", "contains the character U+0007"),
        Arguments.of("host caf\u00e9", "contains the character U+00E9"),
        Arguments.of("icmp\u2028or ip", "contains the character U+2028"),
        Arguments.of("icmp\u007f", "contains the character U+007F"));
  }

  @ParameterizedTest
  @MethodSource("refusedUnseen")
  void aFilterTooLongOrWithCharactersTcpdumpMustNotGetIsRefusedBeforeAnythingRuns(
      String filter, String message) throws IOException {
    CaptureException e =
        assertThrows(CaptureException.class, () -> manager.ensure(request(filter)));

    assertEquals(CaptureException.Reason.InvalidFilter, e.reason());
    assertTrue(e.getMessage().contains(message), e.getMessage());
    assertTrue(e.getMessage().contains("accepted"), e.getMessage());
    assertTrue(e.getMessage().length() < 400, e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertEquals(List.of(), runs(), "tcpdump did not even run to compile it");
    assertFalse(Files.exists(captureDir));
  }

  @Test
  void exactly1024CharactersAreAccepted() throws Exception {
    String filter = "icmp" + " ".repeat(1016) + "or ip";
    assertEquals(1025, filter.length());
    assertThrows(CaptureException.class, () -> manager.ensure(request(filter)));
    String longest = "icmp" + " ".repeat(1015) + "or ip";
    assertEquals(1024, longest.length());
    assertTrue(manager.ensure(request(longest)).running());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "\n\t ", "\r\n"})
  void aBlankFilterIsNoFilterAndNeedsNoCompiling(String blank) throws Exception {
    CaptureSnapshot snapshot = manager.ensure(request(blank));

    assertTrue(snapshot.running());
    assertEquals(
        "(inbound and (src host 10.0.0.1 or src host fd00::1)) or (outbound and (dst host 10.0.0.1 or"
            + " dst host fd00::1 or (icmp6 and icmp6[0] == 135 and icmp6[8:4] == 0xfd000000 and icmp6[12:4] =="
            + " 0x00000000 and icmp6[16:4] == 0x00000000 and icmp6[20:4] == 0x00000001)))",
        snapshot.filter());
    assertEquals(1, runs().size(), "only the capture ran: " + runs());
  }

  @Test
  void aValidFilterSpanningLinesIsAndedWithThePodFilterAndShownWhole() throws Exception {
    CaptureSnapshot snapshot = manager.ensure(request("  udp port 9999\n   or tcp port 443\n"));

    assertTrue(snapshot.running());
    assertTrue(snapshot.filter().startsWith("((inbound and (src host 10.0.0.1"), snapshot.filter());
    assertTrue(
        snapshot.filter().endsWith(")))) and (udp port 9999\n   or tcp port 443)"),
        snapshot.filter());
    assertEquals(
        1, runs().stream().filter(argv -> argv.startsWith("-i any ")).count(), runs().toString());
  }

  @Test
  void anInvalidFilterForARunningCaptureLeavesItRunningAsItWas() throws Exception {
    CaptureSnapshot running = manager.ensure(request("udp"));
    long pid = PidFile.read(CaptureFiles.of(captureDir, KEY).pidFile()).orElseThrow().pid();

    CaptureException e =
        assertThrows(CaptureException.class, () -> manager.ensure(request("udp and and")));

    assertEquals(CaptureException.Reason.InvalidFilter, e.reason());
    assertTrue(Processes.alive(pid));
    CaptureSnapshot after = manager.snapshot(KEY).orElseThrow();
    assertTrue(after.running());
    assertEquals(running.filter(), after.filter());
  }

  @Test
  void aChangedFilterRestartsTheCapture() throws Exception {
    manager.ensure(request("udp"));
    long pid = PidFile.read(CaptureFiles.of(captureDir, KEY).pidFile()).orElseThrow().pid();

    CaptureSnapshot changed = manager.ensure(request("tcp"));

    assertFalse(Processes.alive(pid));
    assertTrue(changed.filter().endsWith(" and (tcp)"), changed.filter());
    assertNotNull(changed.startTime());
  }

  @Test
  void aTcpdumpThatCannotCompileAnythingIsATcpdumpFailureNotTheFilters() {
    CaptureManager broken =
        new CaptureManager(
            CaptureConfig.of(captureDir)
                .withTcpdump("/bin/false")
                .withSysClassNet(tmp.resolve("no-sysfs")));
    try {
      CaptureException e =
          assertThrows(CaptureException.class, () -> broken.ensure(request("udp")));
      assertEquals(CaptureException.Reason.TcpdumpFailed, e.reason());
      assertTrue(
          e.getMessage().startsWith("cannot check filters: /bin/false -d exited with code 1"),
          e.getMessage());
    } finally {
      broken.close();
    }
  }
}
