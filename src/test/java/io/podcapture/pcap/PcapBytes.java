package io.podcapture.pcap;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Classic pcap files built in memory, for tests. */
final class PcapBytes {

  static final int SLL2 = 276;
  static final int ETHERNET = 1;

  private PcapBytes() {}

  /** The 24-byte global header. */
  static byte[] header(ByteOrder order, boolean nanosecond, int snapLength, int linkType) {
    return ByteBuffer.allocate(24)
        .order(order)
        .putInt(nanosecond ? 0xa1b23c4d : 0xa1b2c3d4)
        .putShort((short) 2)
        .putShort((short) 4)
        .putInt(0)
        .putInt(0)
        .putInt(snapLength)
        .putInt(linkType)
        .array();
  }

  /** A little-endian microsecond header, as tcpdump writes on x86. */
  static byte[] header(int linkType) {
    return header(ByteOrder.LITTLE_ENDIAN, false, 262_144, linkType);
  }

  /** One record: 16-byte header and the data. */
  static byte[] record(ByteOrder order, boolean nanosecond, PcapPacket packet) {
    long nanos = packet.timestampNanos();
    long seconds = nanos / 1_000_000_000L;
    long fraction = nanos % 1_000_000_000L;
    return ByteBuffer.allocate(16 + packet.data().length)
        .order(order)
        .putInt((int) seconds)
        .putInt((int) (nanosecond ? fraction : fraction / 1000))
        .putInt(packet.data().length)
        .putInt(packet.originalLength())
        .put(packet.data())
        .array();
  }

  static byte[] record(PcapPacket packet) {
    return record(ByteOrder.LITTLE_ENDIAN, false, packet);
  }

  /** A whole file. */
  static byte[] file(ByteOrder order, boolean nanosecond, int linkType, List<PcapPacket> packets) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(header(order, nanosecond, 262_144, linkType));
    packets.forEach(p -> out.writeBytes(record(order, nanosecond, p)));
    return out.toByteArray();
  }

  static byte[] file(int linkType, List<PcapPacket> packets) {
    return file(ByteOrder.LITTLE_ENDIAN, false, linkType, packets);
  }

  /**
   * A packet at {@code micros} microseconds after 2026-12-05 00:00 UTC whose data tells its {@code
   * id} (4 bytes) and is {@code length} bytes long.
   */
  static PcapPacket packet(long micros, int id, int length) {
    byte[] data = new byte[Math.max(4, length)];
    ByteBuffer.wrap(data).putInt(id);
    for (int i = 4; i < data.length; i++) {
      data[i] = (byte) (id + i);
    }
    return new PcapPacket(1_796_428_800_000_000_000L + micros * 1000, data.length + 10, data);
  }

  static PcapPacket packet(long micros, int id) {
    return packet(micros, id, 60 + id % 7);
  }

  /** The id {@link #packet} put into {@code packet}. */
  static int id(PcapPacket packet) {
    return ByteBuffer.wrap(packet.data()).getInt();
  }
}
