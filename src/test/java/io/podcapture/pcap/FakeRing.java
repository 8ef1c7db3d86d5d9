package io.podcapture.pcap;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Writes pcap files the way {@code tcpdump -U -C size -W files -w base} does: a packet at a time,
 * flushed; after {@code packetsPerFile} packets the next file of the ring, truncated if it exists.
 * {@code files} 0 is a single growing file without {@code -W}; 1 is {@code -W 1}, one file reused.
 */
final class FakeRing implements AutoCloseable {

  private final Path base;
  private final int files;
  private final int packetsPerFile;
  private final int linkType;
  private int index = -1;
  private int inFile;
  private OutputStream out;
  private int written;

  FakeRing(Path base, int files, int packetsPerFile, int linkType) {
    this.base = base;
    this.files = files;
    this.packetsPerFile = packetsPerFile;
    this.linkType = linkType;
  }

  FakeRing(Path base, int files, int packetsPerFile) {
    this(base, files, packetsPerFile, PcapBytes.SLL2);
  }

  /** The name of ring file {@code i}, as tcpdump names it. */
  Path file(int i) {
    return files <= 1 ? base : base.resolveSibling(base.getFileName() + Integer.toString(i));
  }

  /** Whether the next packet goes into a new (or truncated) file. */
  boolean rotatesNext() {
    return out == null || (files != 0 && inFile == packetsPerFile);
  }

  /** Packets written so far. */
  int written() {
    return written;
  }

  /** Writes {@code packet}: its 16-byte header and its data separately, as two writes. */
  void write(PcapPacket packet) throws IOException {
    if (rotatesNext()) {
      rotate();
    }
    byte[] record = PcapBytes.record(packet);
    out.write(record, 0, 16);
    out.flush();
    LockSupport.parkNanos(50_000); // a moment in which the record is half written
    out.write(record, 16, record.length - 16);
    out.flush();
    inFile++;
    written++;
  }

  private void rotate() throws IOException {
    if (out != null) {
      out.close();
    }
    index = files <= 1 ? 0 : (index + 1) % files;
    out = Files.newOutputStream(file(index)); // CREATE, TRUNCATE_EXISTING, WRITE
    out.write(PcapBytes.header(linkType));
    out.flush();
    inFile = 0;
  }

  /** The ring files that exist, least recently modified first, as the agent lists them. */
  List<Path> list() {
    try (Stream<Path> all = Files.list(base.getParent())) {
      return all.filter(p -> p.getFileName().toString().startsWith(base.getFileName().toString()))
          .sorted(Comparator.comparing(FakeRing::modified))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static FileTime modified(Path path) {
    try {
      return Files.getLastModifiedTime(path);
    } catch (IOException e) {
      return FileTime.fromMillis(Long.MAX_VALUE);
    }
  }

  @Override
  public void close() throws IOException {
    if (out != null) {
      out.close();
    }
  }
}
