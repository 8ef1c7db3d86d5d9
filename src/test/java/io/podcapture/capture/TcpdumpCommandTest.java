package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpdumpCommandTest {

  private static final Path RING = Path.of("/capture/default/capture-web.pcap");
  private static final TcpdumpCommand TCPDUMP =
      TcpdumpCommand.of(CaptureConfig.of(Path.of("/capture")));
  private static final String FILTER =
      "(inbound and (src host 10.1.2.3)) or (outbound and (dst host 10.1.2.3))";

  private static List<IpLiteral> ips(String... ips) throws CaptureException {
    List<IpLiteral> parsed = new java.util.ArrayList<>();
    for (String ip : ips) {
      parsed.add(IpLiteral.parse(ip));
    }
    return parsed;
  }

  @Test
  void buildsTheDocumentedArgv() {
    assertEquals(
        List.of(
            "tcpdump",
            "-i",
            "any",
            "-n",
            "-U",
            "-Z",
            "root",
            "-B",
            "4096",
            "-C",
            "1",
            "-W",
            "5",
            "-w",
            "/capture/default/capture-web.pcap",
            "--",
            FILTER),
        TCPDUMP.argv(RING, 5, 1, FILTER));
  }

  @Test
  void passesPacketCountAndSnapLengthBeforeTheRing() {
    assertEquals(
        List.of(
            "tcpdump",
            "-i",
            "any",
            "-n",
            "-U",
            "-Z",
            "root",
            "-B",
            "4096",
            "-c",
            "10",
            "-s",
            "96",
            "-C",
            "2",
            "-W",
            "3",
            "-w",
            "/capture/default/capture-web.pcap",
            "--",
            FILTER),
        TCPDUMP.argv(RING, 3, 2, 10, 96, FILTER));
  }

  @Test
  void snapLengthZeroLeavesTcpdumpsWholePacketDefault() {
    List<String> argv = TCPDUMP.argv(RING, 3, 2, null, 0, FILTER);
    assertFalse(argv.contains("-s"), argv.toString());
    assertFalse(argv.contains("-c"), argv.toString());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 5, 10, 12, 1000})
  void passesRingSizeAndFileSizeAsGiven(int maxFiles) {
    List<String> argv = TCPDUMP.argv(RING, maxFiles, 7, FILTER);
    assertEquals(Integer.toString(maxFiles), argv.get(argv.indexOf("-W") + 1));
    assertEquals("7", argv.get(argv.indexOf("-C") + 1));
    assertEquals(
        RING.toString(),
        argv.get(argv.indexOf("-w") + 1),
        "-w gets the base name, tcpdump adds the index");
  }

  @Test
  void putsDoubleDashRightBeforeTheFilterWhichComesLastAsOneArgument() {
    String hostile = "(pod) and (-w /etc/x -z /bin/sh)";
    List<String> argv = TCPDUMP.argv(RING, 5, 1, 10, 0, hostile);
    assertEquals("--", argv.get(argv.size() - 2));
    assertEquals(hostile, argv.get(argv.size() - 1));
    assertEquals(1, argv.stream().filter("--"::equals).count());
  }

  @Test
  void compilesWithoutAnInterfaceFromStdinAfterDoubleDash() {
    assertEquals(
        List.of("tcpdump", "-Z", "root", "-d", "-r", "-", "--", "-z /bin/sh"),
        TCPDUMP.compileArgv("-z /bin/sh"));
  }

  @Test
  void putsTheLauncherFirst() {
    TcpdumpCommand command =
        TcpdumpCommand.of(
            CaptureConfig.of(Path.of("/capture"))
                .withLauncher(CaptureConfig.MINIMAL_CAPABILITIES)
                .withTcpdump("/usr/bin/tcpdump"));
    for (List<String> argv :
        List.of(command.argv(RING, 5, 1, FILTER), command.compileArgv("icmp"))) {
      assertEquals(
          CaptureConfig.MINIMAL_CAPABILITIES,
          argv.subList(0, CaptureConfig.MINIMAL_CAPABILITIES.size()));
      assertEquals("/usr/bin/tcpdump", argv.get(CaptureConfig.MINIMAL_CAPABILITIES.size()));
    }
  }

  @Test
  void usesTheConfiguredInterface() {
    TcpdumpCommand command =
        TcpdumpCommand.of(CaptureConfig.of(Path.of("/capture")).withInterfaceName("eth9"));
    List<String> argv = command.argv(RING, 5, 1, FILTER);
    assertEquals("eth9", argv.get(argv.indexOf("-i") + 1));
  }

  @Test
  void theOldHostFilterNamesEveryIp() throws CaptureException {
    assertEquals(
        "host 10.1.2.3 or host fd00::1a", TcpdumpCommand.hostFilter(ips("10.1.2.3", "FD00::1A")));
    assertThrows(IllegalArgumentException.class, () -> TcpdumpCommand.hostFilter(List.of()));
    assertTrue(TcpdumpCommand.hostFilter(ips("10.1.2.3")).startsWith("host "));
  }
}
