package io.podcapture.bench;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Counts the packets of a pcap file by walking its records (faster than {@code tcpdump -r} for
 * millions), and among them the ICMP and ICMPv6 echo requests and replies, for files of tcpdump's
 * {@code -i any} link type (LINUX_SLL2, or LINUX_SLL from older libpcap).
 */
final class PcapRecords {
  private static final int LINKTYPE_LINUX_SLL = 113;
  private static final int LINKTYPE_LINUX_SLL2 = 276;

  /** Packets in a file: all of them, and the pings (echo requests and replies) among them. */
  record Count(long packets, long echoes) {
    Count plus(Count other) {
      return new Count(packets + other.packets, echoes + other.echoes);
    }
  }

  private PcapRecords() {}

  static Count count(Path file) throws IOException {
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      byte[] header = new byte[24];
      try {
        in.readFully(header);
      } catch (EOFException e) {
        return new Count(0, 0);
      }
      int magic = ByteBuffer.wrap(header, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      ByteOrder order =
          magic == 0xa1b2c3d4 || magic == 0xa1b23c4d
              ? ByteOrder.LITTLE_ENDIAN
              : ByteOrder.BIG_ENDIAN;
      int linkType = ByteBuffer.wrap(header, 20, 4).order(order).getInt();
      int l3 = linkType == LINKTYPE_LINUX_SLL2 ? 20 : linkType == LINKTYPE_LINUX_SLL ? 16 : -1;
      int protoAt = linkType == LINKTYPE_LINUX_SLL2 ? 0 : 14;
      byte[] record = new byte[16];
      byte[] data = new byte[2048];
      long packets = 0;
      long echoes = 0;
      while (true) {
        try {
          in.readFully(record);
        } catch (EOFException e) {
          break;
        }
        int captured = ByteBuffer.wrap(record, 8, 4).order(order).getInt();
        int keep = Math.min(captured, data.length);
        try {
          in.readFully(data, 0, keep);
        } catch (EOFException e) {
          break; // a record cut short by the writer's stop is not counted
        }
        if (in.skipBytes(captured - keep) < captured - keep) {
          break;
        }
        packets++;
        if (l3 >= 0 && isEcho(data, keep, protoAt, l3)) {
          echoes++;
        }
      }
      return new Count(packets, echoes);
    }
  }

  private static boolean isEcho(byte[] p, int length, int protoAt, int l3) {
    int ethertype = ((p[protoAt] & 0xff) << 8) | (p[protoAt + 1] & 0xff);
    if (ethertype == 0x0800 && length > l3 + 20) {
      int ihl = (p[l3] & 0x0f) * 4;
      int type = length > l3 + ihl ? p[l3 + ihl] & 0xff : -1;
      return (p[l3 + 9] & 0xff) == 1 && (type == 8 || type == 0);
    }
    if (ethertype == 0x86dd && length > l3 + 40) {
      int type = p[l3 + 40] & 0xff;
      return (p[l3 + 6] & 0xff) == 58 && (type == 128 || type == 129);
    }
    return false;
  }
}
