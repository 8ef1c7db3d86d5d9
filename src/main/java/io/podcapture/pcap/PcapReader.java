package io.podcapture.pcap;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a classic pcap file (not pcapng): either byte order, microsecond or nanosecond time stamps.
 * A record cut short at the end is taken as the end of the file, since tcpdump may be writing it
 * while we read.
 */
public final class PcapReader implements PacketSource {

  private static final int BUFFER_BYTES = 64 * 1024;

  private final InputStream in;
  private final PcapHeader header;
  private final byte[] recordHeader = new byte[PcapHeader.RECORD_HEADER_LENGTH];
  private long offset = PcapHeader.LENGTH;
  private boolean ended;

  private PcapReader(InputStream in, PcapHeader header) {
    this.in = in;
    this.header = header;
  }

  /**
   * Reads the 24-byte global header of {@code in}; a {@link PcapFormatException} if it is missing
   * or not a pcap header. The reader owns {@code in} from then on: {@link #close()} closes it.
   */
  public static PcapReader open(InputStream in) throws IOException {
    PcapReader reader = openOrNull(in);
    if (reader == null) {
      throw new PcapFormatException("empty stream, where a pcap file was expected");
    }
    return reader;
  }

  /** As {@link #open}, but null for a stream without a single byte (a file tcpdump just made). */
  static PcapReader openOrNull(InputStream in) throws IOException {
    InputStream buffered = new BufferedInputStream(in, BUFFER_BYTES);
    byte[] bytes = buffered.readNBytes(PcapHeader.LENGTH);
    if (bytes.length == 0) {
      return null;
    }
    if (bytes.length < PcapHeader.LENGTH) {
      throw new PcapFormatException(
          "not a pcap file: " + bytes.length + " bytes, shorter than the 24-byte pcap header");
    }
    return new PcapReader(buffered, PcapHeader.parse(bytes));
  }

  @Override
  public int linkType() {
    return header.linkType();
  }

  @Override
  public int snapLength() {
    return header.snapLength();
  }

  /** Whether time stamps have nanosecond resolution (magic a1b23c4d) rather than microseconds. */
  public boolean nanosecond() {
    return header.nanosecond();
  }

  @Override
  public PcapPacket next() throws IOException {
    if (ended) {
      return null;
    }
    if (in.readNBytes(recordHeader, 0, recordHeader.length) < recordHeader.length) {
      ended = true;
      return null;
    }
    int length = header.capturedLength(recordHeader, 0, offset);
    byte[] data = in.readNBytes(length);
    if (data.length < length) {
      ended = true;
      return null;
    }
    offset += recordHeader.length + length;
    return header.packet(recordHeader, 0, data);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
