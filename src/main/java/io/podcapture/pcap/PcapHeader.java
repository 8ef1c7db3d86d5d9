package io.podcapture.pcap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * The 24-byte global header of a classic pcap file: byte order and time stamp resolution (both told
 * by the magic number), link type and snap length.
 */
record PcapHeader(ByteOrder order, boolean nanosecond, int linkType, int snapLength) {

  static final int LENGTH = 24;
  static final int RECORD_HEADER_LENGTH = 16;

  /** LINKTYPE_LINUX_SLL2: what tcpdump writes for {@code -i any}. */
  static final int LINKTYPE_LINUX_SLL2 = 276;

  /** libpcap's MAXIMUM_SNAPLEN, tcpdump's default snap length. */
  static final int MAXIMUM_SNAPLEN = 262_144;

  /**
   * Room above the snap length before a record counts as corrupt: libpcap refuses any record longer
   * than its snap length, some writers round up a little.
   */
  private static final int SLACK = 4096;

  /**
   * A snap length above this in a header is not believed (a corrupt header must not make us
   * allocate gigabytes).
   */
  private static final int MAX_BELIEVED_SNAPLEN = 16 << 20;

  private static final int MAGIC_MICROS = 0xa1b2c3d4;
  private static final int MAGIC_NANOS = 0xa1b23c4d;
  private static final int PCAPNG_MAGIC = 0x0a0d0d0a;

  /** Parses {@code bytes[0..24)}. */
  static PcapHeader parse(byte[] bytes) throws PcapFormatException {
    ByteBuffer header = ByteBuffer.wrap(bytes, 0, LENGTH).order(ByteOrder.BIG_ENDIAN);
    int magic = header.getInt(0);
    ByteOrder order;
    boolean nanosecond;
    if (magic == MAGIC_MICROS || magic == MAGIC_NANOS) {
      order = ByteOrder.BIG_ENDIAN;
      nanosecond = magic == MAGIC_NANOS;
    } else if (Integer.reverseBytes(magic) == MAGIC_MICROS
        || Integer.reverseBytes(magic) == MAGIC_NANOS) {
      order = ByteOrder.LITTLE_ENDIAN;
      nanosecond = Integer.reverseBytes(magic) == MAGIC_NANOS;
    } else if (magic == PCAPNG_MAGIC) {
      throw new PcapFormatException("a pcapng file, where a classic pcap file was expected");
    } else {
      throw new PcapFormatException(
          "not a pcap file: magic number 0x" + HexFormat.of().toHexDigits(magic));
    }
    header.order(order);
    long snapLength = Integer.toUnsignedLong(header.getInt(16));
    // the upper bits of the link type field carry FCS information, not the link type
    int linkType = header.getInt(20) & 0xffff;
    return new PcapHeader(
        order, nanosecond, linkType, (int) Math.min(snapLength, Integer.MAX_VALUE));
  }

  /** The longest captured length a record of this file may have. */
  int maxCapturedLength() {
    return Math.max(Math.min(snapLength, MAX_BELIEVED_SNAPLEN), MAXIMUM_SNAPLEN) + SLACK;
  }

  /**
   * The captured length of the record whose 16-byte header starts at {@code bytes[offset]}, checked
   * against {@link #maxCapturedLength()}.
   */
  int capturedLength(byte[] bytes, int offset, long fileOffset) throws PcapFormatException {
    long length = Integer.toUnsignedLong(ByteBuffer.wrap(bytes).order(order).getInt(offset + 8));
    if (length > maxCapturedLength()) {
      throw new PcapFormatException(
          "corrupt pcap record at byte "
              + fileOffset
              + ": captured length "
              + length
              + " exceeds the maximum of "
              + maxCapturedLength());
    }
    return (int) length;
  }

  /** The packet whose record header starts at {@code recordHeader[offset]}. */
  PcapPacket packet(byte[] recordHeader, int offset, byte[] data) {
    ByteBuffer header = ByteBuffer.wrap(recordHeader).order(order);
    long seconds = Integer.toUnsignedLong(header.getInt(offset));
    long fraction = Integer.toUnsignedLong(header.getInt(offset + 4));
    long originalLength = Integer.toUnsignedLong(header.getInt(offset + 12));
    long nanos = seconds * 1_000_000_000L + (nanosecond ? fraction : fraction * 1000);
    return new PcapPacket(nanos, (int) Math.min(originalLength, Integer.MAX_VALUE), data);
  }

  /** Whether records of a file with header {@code other} can follow ours unchanged. */
  boolean sameRecordFormat(PcapHeader other) {
    return order.equals(other.order)
        && nanosecond == other.nanosecond
        && linkType == other.linkType;
  }
}
