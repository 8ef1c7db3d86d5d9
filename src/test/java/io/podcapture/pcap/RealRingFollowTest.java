package io.podcapture.pcap;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.Command;
import io.podcapture.testing.Requirements;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PcapFollower on a real tcpdump ring that rotates and wraps, as the agent runs it. */
@Tag("real-capture")
class RealRingFollowTest {

  private static final Pattern CAPTURED = Pattern.compile("(\\d+) packets? captured");

  @TempDir Path tmp;

  @Test
  void followsARealRingAcrossRotationAndWrapAroundLosingNothing() throws Exception {
    Requirements.realCapture();
    Path base = tmp.resolve("capture-web.pcap");
    Path stderr = tmp.resolve("tcpdump.err");
    // three files of 1,000,000 bytes; about 3.7 MB of pings below, so the ring wraps
    Process tcpdump =
        new ProcessBuilder(
                "tcpdump",
                "-i",
                "any",
                "-n",
                "-U",
                "-Z",
                "root",
                "-C",
                "1",
                "-W",
                "3",
                "-w",
                base.toString(),
                "icmp",
                "and",
                "host",
                "127.0.0.1")
            .redirectErrorStream(false)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(stderr.toFile())
            .start();
    try {
      Path first = tmp.resolve("capture-web.pcap0");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Files.exists(first) && Files.size(first) >= 24);

      ByteArrayOutputStream out = new ByteArrayOutputStream();
      AtomicBoolean running = new AtomicBoolean(true);
      CompletableFuture<Long> follow =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return PcapFollower.follow(
                      () -> ring(tmp), running::get, Instant.now().plusSeconds(120), out);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      await().atMost(Duration.ofSeconds(10)).until(() -> size(out) >= 24);

      Command.run(
              Duration.ofSeconds(60),
              List.of("ping", "-q", "-i", "0.002", "-c", "3000", "-s", "1400", "127.0.0.1"))
          .orThrow();
      Thread.sleep(1500); // tcpdump gets packets in blocks, up to a second late
      tcpdump.destroy(); // SIGTERM: tcpdump writes what it has and prints its counts
      assertTrue(tcpdump.waitFor(10, TimeUnit.SECONDS));
      running.set(false);
      long followed = follow.get(10, TimeUnit.SECONDS);

      String counts = Files.readString(stderr, StandardCharsets.UTF_8);
      Matcher captured = CAPTURED.matcher(counts);
      assertTrue(captured.find(), counts);
      long written = Long.parseLong(captured.group(1));
      assertEquals(written, followed, counts);
      byte[] stream;
      synchronized (out) {
        stream = out.toByteArray();
      }
      assertTrue(
          stream.length > 3_100_000, "more than the ring holds, so it wrapped: " + stream.length);
      try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(stream))) {
        List<PcapPacket> packets = PcapReaderTest.readAll(reader);
        assertEquals(written, packets.size());
        for (int i = 1; i < packets.size(); i++) {
          // a packet read twice (an old file read again) would step back in time
          assertTrue(
              packets.get(i).timestampNanos() >= packets.get(i - 1).timestampNanos() - 1_000_000,
              "packet " + i + " steps back in time");
        }
      }
    } finally {
      tcpdump.destroyForcibly();
    }
  }

  private static long size(ByteArrayOutputStream out) {
    synchronized (out) {
      return out.size();
    }
  }

  /** The ring files, least recently modified first, as the agent lists them. */
  private static List<Path> ring(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.getFileName().toString().matches("capture-web\\.pcap[0-9]+"))
          .sorted(Comparator.comparing(RealRingFollowTest::modified))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long modified(Path path) {
    try {
      return Files.getLastModifiedTime(path).toMillis();
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
  }
}
