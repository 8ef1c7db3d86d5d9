package io.podcapture.pcap;

import static io.podcapture.pcap.PcapBytes.packet;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PcapFollowerTest {

  @TempDir Path tmp;

  /** What the follower wrote, readable while it writes. */
  private static final class Collected extends OutputStream {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private int flushes;

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      bytes.write(b, off, len);
    }

    @Override
    public synchronized void flush() {
      flushes++;
    }

    synchronized byte[] bytes() {
      return bytes.toByteArray();
    }

    synchronized int flushes() {
      return flushes;
    }

    /** The ids of the packets written so far. */
    List<Integer> ids() throws IOException {
      byte[] now = bytes();
      if (now.length < 24) {
        return List.of();
      }
      List<Integer> ids = new ArrayList<>();
      try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(now))) {
        for (PcapPacket p = reader.next(); p != null; p = reader.next()) {
          ids.add(PcapBytes.id(p));
        }
      }
      return ids;
    }
  }

  /** A follower running in the background. */
  private static final class Following {
    final Collected out = new Collected();
    final AtomicBoolean running = new AtomicBoolean(true);
    final CompletableFuture<Long> result;

    Following(FakeRing ring, Duration limit) {
      Instant deadline = Instant.now().plus(limit);
      result =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return PcapFollower.follow(ring::list, running::get, deadline, out);
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
    }

    Following(FakeRing ring) {
      this(ring, Duration.ofMinutes(2));
    }

    void awaitHeader() {
      await().atMost(Duration.ofSeconds(10)).until(() -> out.bytes().length >= 24);
    }

    long stop() throws InterruptedException, ExecutionException, TimeoutException {
      running.set(false);
      return result.get(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "-W {0}, {1} packets a file")
  @CsvSource({"3, 20", "2, 7", "10, 5", "1, 10", "0, 0"})
  void everyPacketWrittenAfterTheStartComesOutOnceAndInOrderAcrossRotationAndWrap(
      int files, int packetsPerFile) throws Exception {
    try (FakeRing ring = new FakeRing(tmp.resolve("capture-web.pcap"), files, packetsPerFile)) {
      for (int id = 0; id < 25; id++) {
        ring.write(packet(id, id));
      }
      Thread.sleep(20); // distinct modification times for the files before the start
      Following following = new Following(ring);
      following.awaitHeader();

      for (int id = 25; id < 325; id++) {
        if (ring.rotatesNext() && files > 0) {
          // a real follower is far faster than the ring turns; here the ring may not lap it
          int behind = files == 1 ? 0 : packetsPerFile;
          int target = ring.written() - 25 - behind;
          await().atMost(Duration.ofSeconds(10)).until(() -> following.out.ids().size() >= target);
        }
        ring.write(packet(id, id));
        if (id % 10 == 0) {
          Thread.sleep(3);
        }
      }
      long count = following.stop();

      List<Integer> expected = IntStream.range(25, 325).boxed().toList();
      assertEquals(expected, following.out.ids());
      assertEquals(300, count);
      assertArrayEquals(
          PcapBytes.header(PcapBytes.SLL2), Arrays.copyOf(following.out.bytes(), 24), "header");
    }
  }

  @Test
  void writesTheHeaderAtOnceAndNothingOfWhatWasThere() throws Exception {
    try (FakeRing ring = new FakeRing(tmp.resolve("capture-web.pcap"), 3, 10)) {
      for (int id = 0; id < 15; id++) {
        ring.write(packet(id, id));
      }
      Following following = new Following(ring);
      following.awaitHeader();
      Thread.sleep(200);
      assertEquals(24, following.out.bytes().length);
      assertTrue(following.out.flushes() >= 1, "the header is flushed");
      assertEquals(0, following.stop());
    }
  }

  @Test
  void startsAtTheLastCompleteRecordOfAFileBeingWritten() throws Exception {
    Path file = tmp.resolve("capture-web.pcap");
    try (FakeRing ring = new FakeRing(file, 0, 0)) {
      ring.write(packet(0, 0));
      // half a record: tcpdump is writing it
      byte[] record = PcapBytes.record(packet(1, 1));
      Files.write(file, Arrays.copyOf(record, 20), java.nio.file.StandardOpenOption.APPEND);
      Following following = new Following(ring);
      following.awaitHeader();
      Files.write(
          file,
          Arrays.copyOfRange(record, 20, record.length),
          java.nio.file.StandardOpenOption.APPEND);
      await().atMost(Duration.ofSeconds(10)).until(() -> following.out.ids().equals(List.of(1)));
      assertEquals(1, following.stop());
    }
  }

  @Test
  void withoutAnyFileItWaitsForTheFirstAndTakesAllOfIt() throws Exception {
    try (FakeRing ring = new FakeRing(tmp.resolve("capture-web.pcap"), 3, 10)) {
      Following following = new Following(ring);
      Thread.sleep(150);
      assertEquals(0, following.out.bytes().length);
      for (int id = 0; id < 25; id++) {
        ring.write(packet(id, id));
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> following.out.ids().equals(IntStream.range(0, 25).boxed().toList()));
      assertEquals(25, following.stop());
    }
  }

  @Test
  void endsWhenRunningGoesFalseAfterTheLastDrain() throws Exception {
    try (FakeRing ring = new FakeRing(tmp.resolve("capture-web.pcap"), 3, 4)) {
      ring.write(packet(0, 0));
      Following following = new Following(ring);
      following.awaitHeader();
      // the last packets, over two rotations, written just before the capture stops
      for (int id = 1; id <= 9; id++) {
        ring.write(packet(id, id));
      }
      assertEquals(9, following.stop());
      assertEquals(IntStream.rangeClosed(1, 9).boxed().toList(), following.out.ids());
    }
  }

  @Test
  void catchesUpOverSeveralRotationsWithinOnePollInOrder() throws Exception {
    try (FakeRing ring = new FakeRing(tmp.resolve("capture-web.pcap"), 10, 5)) {
      ring.write(packet(0, 0));
      Following following = new Following(ring);
      following.awaitHeader();
      // eight rotations in a burst: the files share modification times to the clock tick
      for (int id = 1; id <= 40; id++) {
        ring.write(packet(id, id));
      }
      List<Integer> expected = IntStream.rangeClosed(1, 40).boxed().toList();
      await().atMost(Duration.ofSeconds(10)).until(() -> following.out.ids().size() >= 40);
      assertEquals(40, following.stop());
      assertEquals(expected, following.out.ids());
    }
  }

  @Test
  void endsAtTheDeadline() throws Exception {
    try (FakeRing ring = new FakeRing(tmp.resolve("capture-web.pcap"), 3, 4)) {
      ring.write(packet(0, 0));
      Following following = new Following(ring, Duration.ofMillis(300));
      assertEquals(0, following.result.get(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void streamsARecordLargerThanItsBuffer() throws Exception {
    try (FakeRing ring = new FakeRing(tmp.resolve("capture-web.pcap"), 0, 0)) {
      ring.write(packet(0, 0));
      Following following = new Following(ring);
      following.awaitHeader();
      PcapPacket big = packet(1, 1, 200_000);
      ring.write(big);
      ring.write(packet(2, 2));
      assertEquals(2, following.stop());
      try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(following.out.bytes()))) {
        PcapReaderTest.assertSamePackets(
            List.of(big, packet(2, 2)), PcapReaderTest.readAll(reader));
      }
    }
  }

  @Test
  void stopsWhenTheNextFileHasAnotherLinkType() throws Exception {
    Path base = tmp.resolve("capture-web.pcap");
    try (FakeRing ring = new FakeRing(base, 2, 3)) {
      ring.write(packet(0, 0));
      Following following = new Following(ring);
      following.awaitHeader();
      ring.write(packet(1, 1));
      await().atMost(Duration.ofSeconds(10)).until(() -> following.out.ids().equals(List.of(1)));
      Thread.sleep(20);
      Files.write(ring.file(1), PcapBytes.file(PcapBytes.ETHERNET, List.of(packet(2, 2))));
      assertEquals(1, following.result.get(10, TimeUnit.SECONDS));
    }
  }
}
