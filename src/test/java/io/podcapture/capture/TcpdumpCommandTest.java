package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpdumpCommandTest {

  private static final Path RING = Path.of("/capture/default/capture-web.pcap");
  private static final TcpdumpCommand TCPDUMP = TcpdumpCommand.of(CaptureConfig.of(Path.of("/capture")));

  private static List<IpLiteral> ips(String... ips) throws CaptureException {
    List<IpLiteral> parsed = new java.util.ArrayList<>();
    for (String ip : ips) {
      parsed.add(IpLiteral.parse(ip));
    }
    return parsed;
  }

  @Test
  void buildsTheDocumentedArgvForIpv4() throws CaptureException {
    assertEquals(List.of("tcpdump", "-i", "any", "-n", "-U", "-Z", "root", "-B", "4096", "-C", "1", "-W", "5",
            "-w", "/capture/default/capture-web.pcap", "--", "host 10.1.2.3"),
        TCPDUMP.argv(RING, 5, 1, ips("10.1.2.3")));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 5, 10, 12, 1000})
  void passesRingSizeAndFileSizeAsGiven(int maxFiles) throws CaptureException {
    List<String> argv = TCPDUMP.argv(RING, maxFiles, 7, ips("10.1.2.3"));
    assertEquals(Integer.toString(maxFiles), argv.get(argv.indexOf("-W") + 1));
    assertEquals("7", argv.get(argv.indexOf("-C") + 1));
    assertEquals(RING.toString(), argv.get(argv.indexOf("-w") + 1), "-w gets the base name, tcpdump adds the index");
  }

  @Test
  void filtersIpv6() throws CaptureException {
    List<String> argv = TCPDUMP.argv(RING, 5, 1, ips("FD00::1A"));
    assertEquals("host fd00::1a", argv.get(argv.size() - 1));
  }

  @Test
  void filtersEveryIpOfADualStackPod() throws CaptureException {
    List<String> argv = TCPDUMP.argv(RING, 5, 1, ips("10.1.2.3", "fd00::1a"));
    assertEquals("host 10.1.2.3 or host fd00::1a", argv.get(argv.size() - 1));
  }

  @Test
  void putsDoubleDashRightBeforeTheFilterWhichComesLast() throws CaptureException {
    List<String> argv = TCPDUMP.argv(RING, 5, 1, ips("10.1.2.3", "fd00::1a"));
    assertEquals("--", argv.get(argv.size() - 2));
    assertEquals(1, argv.stream().filter("--"::equals).count());
  }

  @Test
  void putsTheLauncherFirst() throws CaptureException {
    TcpdumpCommand command = TcpdumpCommand.of(CaptureConfig.of(Path.of("/capture"))
        .withLauncher(CaptureConfig.MINIMAL_CAPABILITIES).withTcpdump("/usr/bin/tcpdump"));
    List<String> argv = command.argv(RING, 5, 1, ips("10.1.2.3"));
    assertEquals(CaptureConfig.MINIMAL_CAPABILITIES, argv.subList(0, CaptureConfig.MINIMAL_CAPABILITIES.size()));
    assertEquals("/usr/bin/tcpdump", argv.get(CaptureConfig.MINIMAL_CAPABILITIES.size()));
  }

  @Test
  void usesTheConfiguredInterface() throws CaptureException {
    TcpdumpCommand command = TcpdumpCommand.of(CaptureConfig.of(Path.of("/capture")).withInterfaceName("eth9"));
    List<String> argv = command.argv(RING, 5, 1, ips("10.1.2.3"));
    assertEquals("eth9", argv.get(argv.indexOf("-i") + 1));
  }

  @Test
  void refusesAnEmptyFilter() {
    assertThrows(IllegalArgumentException.class, () -> TcpdumpCommand.filter(List.of()));
  }
}
