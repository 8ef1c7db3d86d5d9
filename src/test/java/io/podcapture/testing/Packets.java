package io.podcapture.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Packets read back by other programs than the project's own pcap code (the code under test):
 * tshark for pcapng, tcpdump for pcap files, and a few lines of Java for a live pcap stream.
 */
public final class Packets {
  private Packets() {}

  /** One packet of a pcapng as tshark reads it. */
  public record Frame(String iface, String description, BigDecimal time) {}

  /**
   * Every packet of a pcap or pcapng file as {@code tshark -T fields} reads it: the interface's
   * name and description, and the time stamp.
   */
  public static List<Frame> tshark(Path file) {
    Command.Result result =
        Command.run(
            Duration.ofSeconds(60),
            List.of(
                "tshark",
                "-r",
                file.toString(),
                "-T",
                "fields",
                "-e",
                "frame.interface_name",
                "-e",
                "frame.interface_description",
                "-e",
                "frame.time_epoch"));
    assertEquals(0, result.exitCode(), result.output());
    List<Frame> frames = new ArrayList<>();
    for (String line : result.output().split("\n")) {
      String[] fields = line.split("\t", -1);
      // tshark's own notes (running as root, ...) have no tab
      if (fields.length == 3) {
        frames.add(new Frame(fields[0], fields[1], new BigDecimal(fields[2].strip())));
      }
    }
    return frames;
  }

  /**
   * The time stamps of every packet of {@code files}, in order, as {@code tcpdump -tt} reads them.
   */
  public static List<BigDecimal> tcpdumpTimes(List<Path> files) {
    List<BigDecimal> times = new ArrayList<>();
    for (Path file : files) {
      Command.Result result =
          Command.run("tcpdump", "--time-stamp-precision=nano", "-tt", "-n", "-r", file.toString());
      for (String line : result.output().split("\n")) {
        if (!line.isEmpty() && Character.isDigit(line.charAt(0))) {
          times.add(new BigDecimal(line.substring(0, line.indexOf(' '))));
        }
      }
    }
    return times;
  }

  /**
   * A classic pcap stream's global header, read here without the project's own reader (the code
   * under test): magic (either byte order, micro- or nanoseconds), version, snap length, link type.
   */
  public record PcapStream(ByteOrder order, int linkType) {
    /** Reads the global header at the start of {@code in}. */
    public static PcapStream open(DataInputStream in) {
      try {
        byte[] header = new byte[24];
        in.readFully(header);
        ByteBuffer buffer = ByteBuffer.wrap(header);
        int magic = buffer.order(ByteOrder.BIG_ENDIAN).getInt(0);
        ByteOrder order;
        if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
          order = ByteOrder.BIG_ENDIAN;
        } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
          order = ByteOrder.LITTLE_ENDIAN;
        } else {
          throw new AssertionError("not a pcap stream: magic " + Integer.toHexString(magic));
        }
        return new PcapStream(order, buffer.order(order).getInt(20));
      } catch (IOException e) {
        throw new AssertionError("no pcap header", e);
      }
    }

    /** The captured bytes of the next {@code count} packets. */
    public List<byte[]> readPackets(InputStream in, int count) {
      List<byte[]> packets = new ArrayList<>();
      try {
        DataInputStream data = new DataInputStream(in);
        while (packets.size() < count) {
          byte[] record = new byte[16];
          data.readFully(record);
          int captured = ByteBuffer.wrap(record).order(order).getInt(8);
          byte[] packet = new byte[captured];
          data.readFully(packet);
          packets.add(packet);
        }
      } catch (EOFException e) {
        throw new AssertionError("the stream ended after " + packets.size() + " packets", e);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      return packets;
    }
  }
}
