package io.podcapture.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A strict little pcapng parser for tests: checks each block's framing (total length at both ends,
 * 32-bit alignment, options padded and ended) while splitting the file into blocks.
 */
final class PcapngBlocks {

  /** One option: code and value (without padding). */
  record Option(int code, byte[] value) {
    String text() {
      return new String(value, StandardCharsets.UTF_8);
    }
  }

  /** One block: type, the fixed part of its body, and its options. */
  record Block(int type, ByteBuffer body, List<Option> options) {
    List<String> texts(int code) {
      return options.stream().filter(o -> o.code() == code).map(Option::text).toList();
    }

    byte[] option(int code) {
      return options.stream().filter(o -> o.code() == code).findFirst().orElseThrow().value();
    }
  }

  /** An interface description. */
  record Interface(int linkType, int snapLength, String name, String description, int tsresol) {}

  /** An enhanced packet. */
  record Packet(
      int interfaceId, long timestamp, int capturedLength, int originalLength, byte[] data) {}

  private PcapngBlocks() {}

  static List<Block> parse(byte[] file) {
    ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    List<Block> blocks = new ArrayList<>();
    while (in.hasRemaining()) {
      int start = in.position();
      int type = in.getInt();
      int total = in.getInt();
      assertEquals(0, total % 4, "block at " + start + " not 32-bit aligned");
      assertTrue(total >= 12 && start + total <= file.length, "block length " + total);
      assertEquals(total, in.getInt(start + total - 4), "trailing length of block at " + start);
      int fixed =
          switch (type) {
            case PcapngWriter.SECTION_HEADER_BLOCK -> 16;
            case PcapngWriter.INTERFACE_DESCRIPTION_BLOCK -> 8;
            case PcapngWriter.ENHANCED_PACKET_BLOCK -> {
              int captured = in.getInt(start + 20);
              yield 20 + captured + PcapngWriter.padding(captured);
            }
            default -> throw new AssertionError("unexpected block type " + type);
          };
      ByteBuffer body =
          ByteBuffer.wrap(file, start + 8, fixed).slice().order(ByteOrder.LITTLE_ENDIAN);
      List<Option> options = new ArrayList<>();
      int pos = start + 8 + fixed;
      int end = start + total - 4;
      if (pos < end) {
        while (true) {
          int code = Short.toUnsignedInt(in.getShort(pos));
          int length = Short.toUnsignedInt(in.getShort(pos + 2));
          if (code == PcapngWriter.OPT_ENDOFOPT) {
            assertEquals(0, length, "opt_endofopt length");
            pos += 4;
            break;
          }
          byte[] value = new byte[length];
          in.get(pos + 4, value);
          for (int i = length; i < length + PcapngWriter.padding(length); i++) {
            assertEquals(0, file[pos + 4 + i], "option padding");
          }
          options.add(new Option(code, value));
          pos += 4 + length + PcapngWriter.padding(length);
        }
      }
      assertEquals(end, pos, "options of block at " + start + " end where the block ends");
      blocks.add(new Block(type, body, options));
      in.position(start + total);
    }
    return blocks;
  }

  static List<Interface> interfaces(List<Block> blocks) {
    return blocks.stream()
        .filter(b -> b.type() == PcapngWriter.INTERFACE_DESCRIPTION_BLOCK)
        .map(
            b ->
                new Interface(
                    Short.toUnsignedInt(b.body().getShort(0)),
                    b.body().getInt(4),
                    b.texts(PcapngWriter.IF_NAME).stream().findFirst().orElse(null),
                    b.texts(PcapngWriter.IF_DESCRIPTION).stream().findFirst().orElse(null),
                    b.option(PcapngWriter.IF_TSRESOL)[0]))
        .toList();
  }

  static List<Packet> packets(List<Block> blocks) {
    return blocks.stream()
        .filter(b -> b.type() == PcapngWriter.ENHANCED_PACKET_BLOCK)
        .map(
            b -> {
              ByteBuffer body = b.body();
              int captured = body.getInt(12);
              byte[] data = new byte[captured];
              body.get(20, data);
              long time =
                  (Integer.toUnsignedLong(body.getInt(4)) << 32)
                      | Integer.toUnsignedLong(body.getInt(8));
              return new Packet(body.getInt(0), time, captured, body.getInt(16), data);
            })
        .toList();
  }

  static List<Packet> packets(byte[] file) {
    return packets(parse(file));
  }
}
