package io.podcapture.capture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A real ring: after more than N MB, exactly N files of about 1 MB, the newest packets kept. */
@Tag("real-capture")
class RotationTest {

  /** tcpdump's -C counts 1,000,000 bytes and rotates after the packet that crosses it. */
  private static final long MEGABYTE = 1_000_000;

  /** An ICMP payload size nothing else uses, to find the last packets. */
  private static final int LAST_SIZE = 777;

  private static NetnsPod pod;

  @TempDir Path tmp;

  @BeforeAll
  static void pod() {
    Requirements.realCapture();
    pod = NetnsPod.create();
  }

  @AfterAll
  static void deletePod() {
    if (pod != null) {
      pod.close();
    }
  }

  @ParameterizedTest(name = "maxFiles = {0}")
  @ValueSource(ints = {1, 3})
  void keepsExactlyMaxFilesOfAboutOneMegabyteWithTheNewestPackets(int maxFiles) throws Exception {
    CaptureKey key = new CaptureKey("load", "pod-r");
    try (CaptureManager manager = new CaptureManager(CaptureConfig.of(tmp))) {
      manager.ensure(new CaptureRequest(key, pod.ips(), maxFiles, 1));

      // each echo is captured twice (request and reply), about 1464 bytes each with headers
      int pings = (int) ((maxFiles + 1.5) * MEGABYTE / 2900);
      NetnsPod.PingResult flood = pod.ping(Ping.count(pings).size(1400).flooding());
      assertTrue(flood.received() > pings * 0.95, flood.output());
      pod.ping(Ping.count(3).size(LAST_SIZE));

      CaptureFiles files = CaptureFiles.of(tmp, key);
      // packets reach tcpdump in blocks, up to a second late
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  Pcap.packets(files.ring()).stream()
                      .anyMatch(p -> p.contains("length " + (LAST_SIZE + 8))));

      List<Path> ring = files.ring();
      List<String> expected =
          maxFiles == 1
              ? List.of("capture-pod-r.pcap")
              : List.of("capture-pod-r.pcap0", "capture-pod-r.pcap1", "capture-pod-r.pcap2");
      assertEquals(expected, ring.stream().map(p -> p.getFileName().toString()).toList());

      Path newest = ring.stream().max(Comparator.comparing(RotationTest::modified)).orElseThrow();
      assertTrue(
          Pcap.packets(newest).stream().anyMatch(p -> p.contains("length " + (LAST_SIZE + 8))),
          "the newest file holds the last packets");
      for (Path file : ring) {
        long size = Files.size(file);
        System.out.printf("maxFiles %d: %s %d bytes%n", maxFiles, file.getFileName(), size);
        assertTrue(size <= 1.1 * MEGABYTE, file + " has " + size + " bytes");
        if (!file.equals(newest)) {
          assertTrue(
              size >= MEGABYTE, file + " was rotated before reaching 1 MB: " + size + " bytes");
        }
      }
      manager.remove(key);
      assertEquals(List.of(), files.ring());
    }
  }

  private static Instant modified(Path file) {
    try {
      return Files.getLastModifiedTime(file).toInstant();
    } catch (IOException e) {
      return Instant.MIN;
    }
  }
}
