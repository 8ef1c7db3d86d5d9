package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad names, IPs and numbers are refused with a message, before any file is written or anything
 * runs.
 */
class HostileInputTest {

  @TempDir Path tmp;

  private static final String LONG = "a".repeat(10_000);

  static Stream<Arguments> hostileRequests() {
    return Stream.of(
        pod("-w/etc/x"),
        pod("--help"),
        pod("../.."),
        pod(".."),
        pod("a/b"),
        pod("/etc/passwd"),
        pod("web..x"),
        pod(".web"),
        pod("web."),
        pod("-web"),
        pod("web-"),
        pod("Web"),
        pod("w\u00e9b"),
        pod("web\nx"),
        pod("web\n"),
        pod("web x"),
        pod(""),
        pod(null),
        pod("web\u0000"),
        pod("a".repeat(254)),
        pod(LONG),
        pod("capture-web.pcap0 "),
        pod("*"),
        pod("web;rm -rf /"),
        pod("$(reboot)"),
        namespace("../.."),
        namespace("a/b"),
        namespace("-w/etc/x"),
        namespace("--help"),
        namespace("kube.system"),
        namespace("a".repeat(64)),
        namespace(LONG),
        namespace("Default"),
        namespace("ns\n"),
        namespace("n\u00e9"),
        namespace(""),
        namespace(null),
        namespace("."),
        ip("-w/etc/x"),
        ip("--help"),
        ip("1.2.3.4 or host 5.6.7.8"),
        ip("example.com"),
        ip("fe80::1%eth0"),
        ip("10.0.0.1\n"),
        ip(""),
        ip("\u0661.2.3.4"),
        ip("../.."),
        ip(LONG),
        ip("10.0.0.1/8"),
        Arguments.of(
            new CaptureRequest(new CaptureKey("default", "web"), List.of(), 5, 1), "no IP yet"),
        Arguments.of(request(0, 1), "maxFiles 0 is out of range"),
        Arguments.of(request(-1, 1), "maxFiles -1 is out of range"),
        Arguments.of(request(1001, 1), "maxFiles 1001 is out of range"),
        Arguments.of(request(5, 0), "fileSizeMB 0 is out of range"),
        Arguments.of(request(5, 1025), "fileSizeMB 1025 is out of range"),
        Arguments.of(
            new CaptureRequest(
                new CaptureKey("default", "web"),
                List.of(
                    "10.0.0.1",
                    "10.0.0.2",
                    "10.0.0.3",
                    "10.0.0.4",
                    "10.0.0.5",
                    "10.0.0.6",
                    "10.0.0.7",
                    "10.0.0.8",
                    "10.0.0.9",
                    "10.0.0.10",
                    "10.0.0.11",
                    "10.0.0.12",
                    "10.0.0.13",
                    "10.0.0.14",
                    "10.0.0.15",
                    "10.0.0.16",
                    "10.0.0.17"),
                5,
                1),
            "at most 16"),
        Arguments.of(
            new CaptureRequest(
                new CaptureKey("default", "a".repeat(240)), List.of("10.0.0.1"), 5, 1),
            "too long for a capture file name"),
        Arguments.of(options(0, null, 0), "packetCount 0 is out of range"),
        Arguments.of(options(-5, null, 0), "packetCount -5 is out of range"),
        Arguments.of(options(null, java.time.Duration.ZERO, 0), "duration 0 ms is too short"),
        Arguments.of(
            options(null, java.time.Duration.ofMillis(999), 0), "duration 999 ms is too short"),
        Arguments.of(options(null, java.time.Duration.ofSeconds(-3), 0), "is too short"),
        Arguments.of(options(null, null, -1), "snapLength -1 is out of range"),
        Arguments.of(options(null, null, 262145), "snapLength 262145 is out of range"));
  }

  private static CaptureRequest options(
      Integer packetCount, java.time.Duration duration, int snapLength) {
    return new CaptureRequest(
        new CaptureKey("default", "web"),
        List.of("10.0.0.1"),
        5,
        1,
        null,
        packetCount,
        duration,
        snapLength);
  }

  private static Arguments pod(String pod) {
    return Arguments.of(
        new CaptureRequest(new CaptureKey("default", pod), List.of("10.0.0.1"), 5, 1),
        "is not a DNS-1123 subdomain");
  }

  private static Arguments namespace(String namespace) {
    return Arguments.of(
        new CaptureRequest(new CaptureKey(namespace, "web"), List.of("10.0.0.1"), 5, 1),
        "is not a DNS-1123 label");
  }

  private static Arguments ip(String ip) {
    return Arguments.of(
        new CaptureRequest(
            new CaptureKey("default", "web"), java.util.Arrays.asList("fd00::1", ip), 5, 1),
        "is not an IP address literal");
  }

  private static CaptureRequest request(int maxFiles, int fileSizeMB) {
    return new CaptureRequest(
        new CaptureKey("default", "web"), List.of("10.0.0.1"), maxFiles, fileSizeMB);
  }

  @ParameterizedTest
  @MethodSource("hostileRequests")
  void refusesWithAMessageAndWritesNothing(CaptureRequest request, String message)
      throws IOException {
    Path captureDir = tmp.resolve("capture");
    // were anything run, this would fail with TcpdumpFailed instead of InvalidInput
    CaptureConfig config =
        CaptureConfig.of(captureDir).withTcpdump(tmp.resolve("must-not-run").toString());
    try (CaptureManager manager = new CaptureManager(config)) {
      CaptureException e = assertThrows(CaptureException.class, () -> manager.ensure(request));
      assertEquals(CaptureException.Reason.InvalidInput, e.reason());
      assertTrue(e.getMessage().contains(message), e.getMessage());
      assertTrue(
          e.getMessage().contains("accepted")
              || e.getMessage().contains("expected")
              || e.getMessage().contains("needed"),
          "says what is accepted: " + e.getMessage());
      assertTrue(e.getMessage().length() < 400, "bounded message: " + e.getMessage());
      assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
      assertTrue(manager.captures().isEmpty());
    }
    assertFalse(Files.exists(captureDir), "nothing written");
    try (Stream<Path> all = Files.walk(tmp)) {
      assertEquals(List.of(tmp), all.toList());
    }
  }

  @Test
  void stopWithAHostileKeyTouchesNothing() throws IOException {
    Path captureDir = tmp.resolve("capture");
    Files.createDirectories(captureDir.resolve("default"));
    List<Path> bait =
        List.of(
            tmp.resolve("capture-x.pcap"),
            tmp.resolve("capture-x.pcap0"),
            captureDir.resolve("capture-x.pcap0"),
            captureDir.resolve("default/capture-..pcap0"));
    for (Path file : bait) {
      Files.writeString(file, "keep me");
    }
    try (CaptureManager manager = new CaptureManager(CaptureConfig.of(captureDir))) {
      manager.remove(new CaptureKey("..", "x"));
      manager.remove(new CaptureKey(".", "x"));
      manager.remove(new CaptureKey("default", "../x"));
      manager.remove(new CaptureKey("default", ".."));
      manager.remove(new CaptureKey("default", "."));
      manager.remove(new CaptureKey(null, null));
    }
    bait.forEach(file -> assertTrue(Files.exists(file), file.toString()));
  }
}
