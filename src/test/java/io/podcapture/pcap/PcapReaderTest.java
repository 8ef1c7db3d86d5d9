package io.podcapture.pcap;

import static io.podcapture.pcap.PcapBytes.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PcapReaderTest {

  private static final List<PcapPacket> PACKETS =
      List.of(packet(0, 1), packet(1, 2, 1500), packet(1_000_001, 3, 0), packet(2_000_000, 4));

  static Stream<Arguments> formats() {
    return Stream.of(
        Arguments.of(ByteOrder.LITTLE_ENDIAN, false),
        Arguments.of(ByteOrder.LITTLE_ENDIAN, true),
        Arguments.of(ByteOrder.BIG_ENDIAN, false),
        Arguments.of(ByteOrder.BIG_ENDIAN, true));
  }

  @ParameterizedTest(name = "{0}, nanoseconds {1}")
  @MethodSource("formats")
  void readsEitherByteOrderAndEitherResolution(ByteOrder order, boolean nanosecond)
      throws IOException {
    byte[] file = PcapBytes.file(order, nanosecond, PcapBytes.SLL2, PACKETS);
    try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(file))) {
      assertEquals(PcapBytes.SLL2, reader.linkType());
      assertEquals(262_144, reader.snapLength());
      assertEquals(nanosecond, reader.nanosecond());
      assertSamePackets(PACKETS, readAll(reader));
    }
  }

  @Test
  void keepsNanosecondsOfNanosecondFiles() throws IOException {
    PcapPacket precise = new PcapPacket(1_796_428_800_123_456_789L, 60, new byte[60]);
    byte[] file = PcapBytes.file(ByteOrder.BIG_ENDIAN, true, 1, List.of(precise));
    try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(file))) {
      assertEquals(1_796_428_800_123_456_789L, reader.next().timestampNanos());
    }
  }

  @ParameterizedTest(name = "cut {0} bytes into the last record")
  @ValueSource(ints = {1, 8, 15, 16, 17, 40})
  void aRecordCutShortAtTheEndEndsTheStream(int cut) throws IOException {
    byte[] whole = PcapBytes.file(PcapBytes.SLL2, PACKETS.subList(0, 2));
    byte[] last = PcapBytes.record(PACKETS.get(3));
    byte[] file = Arrays.copyOf(whole, whole.length + cut);
    System.arraycopy(last, 0, file, whole.length, cut);
    try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(file))) {
      assertSamePackets(PACKETS.subList(0, 2), readAll(reader));
      assertNull(reader.next(), "stays at its end");
    }
  }

  @Test
  void aHeaderWithoutPacketsIsAnEmptyCapture() throws IOException {
    try (PcapReader reader =
        PcapReader.open(new ByteArrayInputStream(PcapBytes.header(PcapBytes.SLL2)))) {
      assertNull(reader.next());
    }
  }

  @ParameterizedTest(name = "captured length {0}")
  @ValueSource(ints = {0x7fffffff, -1, 262_144 + 8192})
  void aCorruptLengthIsAFormatErrorNotAnAllocation(int length) throws IOException {
    byte[] file = PcapBytes.file(PcapBytes.SLL2, PACKETS.subList(0, 1));
    byte[] corrupt = Arrays.copyOf(file, file.length + 16);
    ByteBuffer.wrap(corrupt).order(ByteOrder.LITTLE_ENDIAN).putInt(file.length + 8, length);
    try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(corrupt))) {
      assertSamePackets(PACKETS.subList(0, 1), List.of(reader.next()));
      PcapFormatException e = assertThrows(PcapFormatException.class, reader::next);
      assertTrue(e.getMessage().contains("byte " + file.length), e.getMessage());
    }
  }

  @Test
  void acceptsRecordsUpToTheLargerOfSnapLengthAndLibpcapsMaximum() throws IOException {
    PcapPacket big = new PcapPacket(1_000, 262_144, new byte[262_144]);
    byte[] header = PcapBytes.header(ByteOrder.LITTLE_ENDIAN, false, 96, PcapBytes.SLL2);
    byte[] record = PcapBytes.record(big);
    byte[] file = Arrays.copyOf(header, header.length + record.length);
    System.arraycopy(record, 0, file, header.length, record.length);
    try (PcapReader reader = PcapReader.open(new ByteArrayInputStream(file))) {
      assertEquals(262_144, reader.next().data().length);
    }
  }

  static Stream<Arguments> notPcap() {
    return Stream.of(
        Arguments.of("empty", new byte[0], "empty"),
        Arguments.of("short", new byte[10], "shorter than the 24-byte pcap header"),
        Arguments.of("pcapng", pcapngStart(), "pcapng"),
        Arguments.of(
            "text",
            "GET / HTTP/1.1\r\nHost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
            "magic"));
  }

  private static byte[] pcapngStart() {
    byte[] bytes = new byte[28];
    ByteBuffer.wrap(bytes).putInt(0x0a0d0d0a);
    return bytes;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("notPcap")
  void refusesWhatIsNotAPcapFile(String what, byte[] bytes, String message) {
    PcapFormatException e =
        assertThrows(
            PcapFormatException.class, () -> PcapReader.open(new ByteArrayInputStream(bytes)));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void closingTheReaderClosesTheStream() throws IOException {
    boolean[] closed = {false};
    ByteArrayInputStream in =
        new ByteArrayInputStream(PcapBytes.header(1)) {
          @Override
          public void close() {
            closed[0] = true;
          }
        };
    PcapReader reader = PcapReader.open(in);
    assertFalse(closed[0]);
    reader.close();
    assertTrue(closed[0]);
  }

  static List<PcapPacket> readAll(PacketSource source) throws IOException {
    List<PcapPacket> packets = new ArrayList<>();
    for (PcapPacket p = source.next(); p != null; p = source.next()) {
      packets.add(p);
    }
    return packets;
  }

  static void assertSamePackets(List<PcapPacket> expected, List<PcapPacket> actual) {
    assertEquals(expected.size(), actual.size(), "packet count");
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i).timestampNanos(), actual.get(i).timestampNanos(), "time " + i);
      assertEquals(expected.get(i).originalLength(), actual.get(i).originalLength(), "length " + i);
      assertArrayEquals(expected.get(i).data(), actual.get(i).data(), "data " + i);
    }
  }
}
