package io.podcapture.pcap;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one pcapng section (little-endian): a Section Header Block with a comment, one Interface
 * Description Block per interface (time stamps in nanoseconds), then an Enhanced Packet Block per
 * packet. Block layout as in draft-ietf-opsawg-pcapng: every block and option padded to 32 bits,
 * the block's total length at its start and its end.
 */
public final class PcapngWriter implements Closeable, Flushable {

  static final int SECTION_HEADER_BLOCK = 0x0a0d0d0a;
  static final int INTERFACE_DESCRIPTION_BLOCK = 1;
  static final int ENHANCED_PACKET_BLOCK = 6;
  static final int BYTE_ORDER_MAGIC = 0x1a2b3c4d;

  static final int OPT_ENDOFOPT = 0;
  static final int OPT_COMMENT = 1;
  static final int SHB_USERAPPL = 4;
  static final int IF_NAME = 2;
  static final int IF_DESCRIPTION = 3;
  static final int IF_TSRESOL = 9;

  /** if_tsresol 9: time stamps count 10^-9 s. */
  static final byte NANOSECONDS = 9;

  static final String USER_APPLICATION = "podcapture";

  /** An option's length field is 16 bits; a longer comment is split over several. */
  private static final int MAX_OPTION_VALUE = 65_532;

  private static final int BUFFER_BYTES = 64 * 1024;

  private final OutputStream out;
  private final List<PcapngInterface> interfaces;
  private final ByteBuffer packetHeader = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer trailer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

  /**
   * Writes the section header (with {@code sectionComment}, if not null or empty) and the interface
   * descriptions; interface i of {@code interfaces} gets interface id i.
   */
  public PcapngWriter(OutputStream out, String sectionComment, List<PcapngInterface> interfaces)
      throws IOException {
    this.out = new BufferedOutputStream(out, BUFFER_BYTES);
    this.interfaces = List.copyOf(interfaces);
    writeSectionHeader(sectionComment);
    for (PcapngInterface i : this.interfaces) {
      writeInterfaceDescription(i);
    }
  }

  /** The interfaces, in id order. */
  List<PcapngInterface> interfaces() {
    return interfaces;
  }

  /** Writes {@code packet} as an Enhanced Packet Block of interface {@code interfaceId}. */
  public void write(int interfaceId, PcapPacket packet) throws IOException {
    if (interfaceId < 0 || interfaceId >= interfaces.size()) {
      throw new IllegalArgumentException(
          "interface id " + interfaceId + ", but there are " + interfaces.size() + " interfaces");
    }
    byte[] data = packet.data();
    int padding = padding(data.length);
    int total = 28 + data.length + padding + 4;
    long time = packet.timestampNanos();
    packetHeader.clear();
    packetHeader
        .putInt(ENHANCED_PACKET_BLOCK)
        .putInt(total)
        .putInt(interfaceId)
        .putInt((int) (time >>> 32))
        .putInt((int) time)
        .putInt(data.length)
        .putInt(Math.max(packet.originalLength(), data.length));
    out.write(packetHeader.array(), 0, packetHeader.position());
    out.write(data);
    trailer.clear();
    trailer.put(new byte[padding]).putInt(total);
    out.write(trailer.array(), 0, trailer.position());
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  /** Flushes and closes the stream written to. */
  @Override
  public void close() throws IOException {
    out.close();
  }

  private void writeSectionHeader(String comment) throws IOException {
    Options options = new Options();
    if (comment != null && !comment.isEmpty()) {
      for (byte[] part : utf8Parts(comment)) {
        options.add(OPT_COMMENT, part);
      }
    }
    options.add(SHB_USERAPPL, USER_APPLICATION.getBytes(StandardCharsets.UTF_8));
    ByteBuffer body = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    // major 1, minor 0; section length -1: not given (we stream)
    body.putInt(BYTE_ORDER_MAGIC).putShort((short) 1).putShort((short) 0).putLong(-1L);
    writeBlock(SECTION_HEADER_BLOCK, body.array(), options.end());
  }

  private void writeInterfaceDescription(PcapngInterface description) throws IOException {
    Options options = new Options();
    if (description.name() != null) {
      options.add(IF_NAME, truncated(description.name()));
    }
    if (description.description() != null) {
      options.add(IF_DESCRIPTION, truncated(description.description()));
    }
    options.add(IF_TSRESOL, new byte[] {NANOSECONDS});
    ByteBuffer body = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    body.putShort((short) description.linkType()).putShort((short) 0);
    body.putInt(description.snapLength());
    writeBlock(INTERFACE_DESCRIPTION_BLOCK, body.array(), options.end());
  }

  private void writeBlock(int type, byte[] body, byte[] options) throws IOException {
    int total = 8 + body.length + options.length + 4;
    ByteBuffer block = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    block.putInt(type).putInt(total).put(body).put(options).putInt(total);
    out.write(block.array());
  }

  static int padding(int length) {
    return (4 - (length & 3)) & 3;
  }

  /** {@code text} in UTF-8, in parts that each fit an option, cut between characters. */
  private static List<byte[]> utf8Parts(String text) {
    List<byte[]> parts = new ArrayList<>();
    byte[] all = text.getBytes(StandardCharsets.UTF_8);
    int start = 0;
    while (start < all.length) {
      int end = Math.min(all.length, start + MAX_OPTION_VALUE);
      // never end inside a character: back off over continuation bytes (10xxxxxx)
      while (end < all.length && (all[end] & 0xc0) == 0x80) {
        end--;
      }
      byte[] part = new byte[end - start];
      System.arraycopy(all, start, part, 0, part.length);
      parts.add(part);
      start = end;
    }
    return parts;
  }

  /** The first option-sized part of {@code text}. */
  private static byte[] truncated(String text) {
    List<byte[]> parts = utf8Parts(text);
    return parts.isEmpty() ? new byte[0] : parts.get(0);
  }

  /** Options of one block, ended with opt_endofopt. */
  private static final class Options {
    private final List<byte[]> encoded = new ArrayList<>();
    private int length;

    void add(int code, byte[] value) {
      ByteBuffer option =
          ByteBuffer.allocate(4 + value.length + padding(value.length))
              .order(ByteOrder.LITTLE_ENDIAN);
      option.putShort((short) code).putShort((short) value.length).put(value);
      encoded.add(option.array());
      length += option.capacity();
    }

    byte[] end() {
      add(OPT_ENDOFOPT, new byte[0]);
      ByteBuffer all = ByteBuffer.allocate(length);
      encoded.forEach(all::put);
      return all.array();
    }
  }
}
