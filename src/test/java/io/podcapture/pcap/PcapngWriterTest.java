package io.podcapture.pcap;

import static io.podcapture.pcap.PcapBytes.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.podcapture.pcap.PcapngBlocks.Block;
import io.podcapture.pcap.PcapngBlocks.Interface;
import io.podcapture.pcap.PcapngBlocks.Packet;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class PcapngWriterTest {

  private static final List<PcapngInterface> INTERFACES =
      List.of(
          new PcapngInterface("shop/web-1", "pod shop/web-1 on node n1", 276, 262_144),
          new PcapngInterface("shop/db-0", "pod shop/db-0 on node n2, PodCapture shop/db", 1, 96));

  @Test
  void writesASectionHeaderWithTheCommentAndTheApplication() throws IOException {
    List<Block> blocks =
        PcapngBlocks.parse(write("capture shop/web, filter: tcp port 80", List.of()));

    Block section = blocks.get(0);
    assertEquals(0x0a0d0d0a, section.type());
    assertEquals(0x1a2b3c4d, section.body().getInt(0), "byte-order magic");
    assertEquals(1, section.body().getShort(4), "major version");
    assertEquals(0, section.body().getShort(6), "minor version");
    assertEquals(-1L, section.body().getLong(8), "section length: not given");
    assertEquals(List.of("capture shop/web, filter: tcp port 80"), section.texts(1));
    assertEquals(List.of("podcapture"), section.texts(4));
  }

  @Test
  void writesOneInterfaceDescriptionPerInterfaceWithNanosecondTimeStamps() throws IOException {
    List<Block> blocks = PcapngBlocks.parse(write("c", List.of()));

    assertEquals(3, blocks.size());
    assertEquals(
        List.of(
            new Interface(276, 262_144, "shop/web-1", "pod shop/web-1 on node n1", 9),
            new Interface(1, 96, "shop/db-0", "pod shop/db-0 on node n2, PodCapture shop/db", 9)),
        PcapngBlocks.interfaces(blocks));
    assertEquals(0, blocks.get(1).body().getShort(2), "reserved");
  }

  @Test
  void writesEnhancedPacketsPaddedTo32Bits() throws IOException {
    List<PcapPacket> packets =
        List.of(
            packet(0, 1, 4), packet(1, 2, 5), packet(2, 3, 6), packet(3, 4, 7), packet(4, 5, 8));
    byte[] file = write(null, packets);

    List<Packet> written = PcapngBlocks.packets(file);
    assertEquals(5, written.size());
    for (int i = 0; i < packets.size(); i++) {
      PcapPacket p = packets.get(i);
      Packet w = written.get(i);
      assertEquals(i % 2, w.interfaceId());
      assertEquals(p.timestampNanos(), w.timestamp());
      assertEquals(p.data().length, w.capturedLength());
      assertEquals(p.originalLength(), w.originalLength());
      assertArrayEquals(p.data(), w.data());
    }
    assertEquals(0, file.length % 4);
  }

  @Test
  void anEnhancedPacketBlockIsByteExact() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PcapngWriter writer = new PcapngWriter(out, null, INTERFACES)) {
      writer.flush();
      int before = out.size();
      writer.write(1, new PcapPacket(0x0000_0001_0000_0002L, 9, new byte[] {1, 2, 3, 4, 5}));
      writer.flush();
      byte[] block = Arrays.copyOfRange(out.toByteArray(), before, out.size());
      assertEquals(
          "06000000" // Enhanced Packet Block
              + "28000000" // total length 40
              + "01000000" // interface 1
              + "01000000" // time stamp, high 32 bits
              + "02000000" // time stamp, low 32 bits
              + "05000000" // captured length
              + "09000000" // original length
              + "0102030405000000" // data, padded
              + "28000000", // total length again
          HexFormat.of().formatHex(block));
    }
  }

  @Test
  void theSectionHeaderIsByteExact() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new PcapngWriter(out, "hi", List.of()).close();
    assertEquals(
        "0a0d0d0a" // Section Header Block
            + "38000000" // total length 56
            + "4d3c2b1a" // byte-order magic
            + "01000000" // version 1.0
            + "ffffffffffffffff" // section length unknown
            + "0100020068690000" // opt_comment "hi", padded
            + "04000a00706f6463617074757265" // shb_userappl "podcapture"
            + "0000" // padding
            + "00000000" // opt_endofopt
            + "38000000",
        HexFormat.of().formatHex(out.toByteArray()));
  }

  @Test
  void aCommentLongerThanAnOptionIsSplitBetweenCharacters() throws IOException {
    String comment = "pods: " + "é".repeat(40_000); // 80,006 bytes of UTF-8
    List<Block> blocks = PcapngBlocks.parse(write(comment, List.of()));
    List<String> parts = blocks.get(0).texts(1);
    assertEquals(2, parts.size());
    assertEquals(comment, String.join("", parts));
  }

  @Test
  void aTimeStampBeyond32BitsOfNanosecondsKeepsItsHighPart() throws IOException {
    long now = 1_796_428_800_123_456_789L;
    byte[] file = write(null, List.of(new PcapPacket(now, 4, new byte[4])));
    assertEquals(now, PcapngBlocks.packets(file).get(0).timestamp());
  }

  @Test
  void refusesAnUnknownInterface() throws IOException {
    try (PcapngWriter writer = new PcapngWriter(new ByteArrayOutputStream(), null, INTERFACES)) {
      assertThrows(IllegalArgumentException.class, () -> writer.write(2, packet(0, 1)));
      assertThrows(IllegalArgumentException.class, () -> writer.write(-1, packet(0, 1)));
    }
  }

  /** Writes {@code packets} alternately on interface 0 and 1. */
  private static byte[] write(String comment, List<PcapPacket> packets) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PcapngWriter writer = new PcapngWriter(out, comment, INTERFACES)) {
      for (int i = 0; i < packets.size(); i++) {
        writer.write(i % 2, packets.get(i));
      }
    }
    return out.toByteArray();
  }
}
