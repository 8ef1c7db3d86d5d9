package io.podcapture.filesapi;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Classic pcap files written, and pcapng files read back, by the tests. */
final class TestPcap {
  static final int LINUX_SLL2 = 276;

  private TestPcap() {}

  /** The 24-byte global header (little-endian, microseconds, LINUX_SLL2). */
  static byte[] header() {
    ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0);
    b.putInt(262144).putInt(LINUX_SLL2);
    return b.array();
  }

  /** One record: at {@code micros} since the epoch, {@code size} bytes, each the tag. */
  static byte[] packet(long micros, int size, byte tag) {
    ByteBuffer b = ByteBuffer.allocate(16 + size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt((int) (micros / 1_000_000)).putInt((int) (micros % 1_000_000));
    b.putInt(size).putInt(size);
    for (int i = 0; i < size; i++) {
      b.put(tag);
    }
    return b.array();
  }

  /** A pcap file: header, then a packet at each time (µs), tagged with {@code tag}. */
  static byte[] file(byte tag, int size, long... micros) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(header());
    for (long t : micros) {
      out.writeBytes(packet(t, size, tag));
    }
    return out.toByteArray();
  }

  /** A packet of a pcapng file: its interface's name, time (ns) and first data byte. */
  record Packet(String interfaceName, long nanos, byte tag, int length) {}

  /** A pcapng file read back: its section comment, interfaces (name, description) and packets. */
  record Pcapng(
      String comment, List<String> names, List<String> descriptions, List<Packet> packets) {}

  static Pcapng read(InputStream stream) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    String comment = null;
    List<String> names = new ArrayList<>();
    List<String> descriptions = new ArrayList<>();
    List<Packet> packets = new ArrayList<>();
    while (true) {
      byte[] head = new byte[8];
      try {
        in.readFully(head);
      } catch (EOFException e) {
        break;
      }
      ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
      int type = h.getInt();
      int length = h.getInt();
      byte[] body = new byte[length - 12];
      in.readFully(body);
      in.readFully(new byte[4]);
      ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
      switch (type) {
        case 0x0A0D0D0A -> {
          if (b.getInt() != 0x1A2B3C4D) {
            throw new IOException("not little-endian pcapng");
          }
          b.position(16);
          for (Option o : options(b)) {
            if (o.code == 1) {
              comment = comment == null ? o.text() : comment + o.text();
            }
          }
        }
        case 1 -> {
          b.position(8);
          String name = null;
          String description = null;
          for (Option o : options(b)) {
            if (o.code == 2) {
              name = o.text();
            } else if (o.code == 3) {
              description = o.text();
            }
          }
          names.add(name);
          descriptions.add(description);
        }
        case 6 -> {
          int id = b.getInt();
          long high = Integer.toUnsignedLong(b.getInt());
          long low = Integer.toUnsignedLong(b.getInt());
          int captured = b.getInt();
          b.getInt();
          byte tag = captured > 0 ? b.get() : 0;
          packets.add(new Packet(names.get(id), (high << 32) | low, tag, captured));
        }
        default -> {
          // other blocks: skipped
        }
      }
    }
    return new Pcapng(comment, names, descriptions, packets);
  }

  private record Option(int code, byte[] value) {
    String text() {
      return new String(value, StandardCharsets.UTF_8);
    }
  }

  private static List<Option> options(ByteBuffer b) {
    List<Option> options = new ArrayList<>();
    while (b.remaining() >= 4) {
      int code = Short.toUnsignedInt(b.getShort());
      int length = Short.toUnsignedInt(b.getShort());
      if (code == 0) {
        break;
      }
      byte[] value = new byte[length];
      b.get(value);
      b.position(b.position() + ((4 - length % 4) % 4));
      options.add(new Option(code, value));
    }
    return options;
  }
}
