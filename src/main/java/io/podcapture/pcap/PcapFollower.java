package io.podcapture.pcap;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Streams the packets a running tcpdump appends to its ring ({@code -U -C size -W n -w base}: files
 * {@code base0..base<n-1>}, each truncated when the ring comes round to it again) as one classic
 * pcap stream.
 *
 * <p>Which file comes next is read from the files themselves: tcpdump writes one file at a time, so
 * a ring file that changed (size, modification time or identity) since we last looked, and is not
 * older than the current one, is the one tcpdump moved on to. Of several such files (we fell behind
 * by more than one rotation) the least recently modified comes first. A file that shrank below our
 * position, or whose first record is no longer the one we saw, was truncated and rewritten: it is
 * read again from its start. A single file (tcpdump {@code -W 1}, or no {@code -W}) is followed the
 * same way.
 */
public final class PcapFollower {

  static final long POLL_MILLIS = 50;
  private static final int BUFFER_BYTES = 64 * 1024;

  private PcapFollower() {}

  /**
   * Writes the pcap global header (of the newest ring file) at once, then every complete packet
   * appended to the ring from now on, switching files on rotation and wrap-around; returns when
   * !running.getAsBoolean() and the files are drained, or at the deadline. Polls every 50 ms.
   *
   * <p>If no ring file has a header yet, nothing is written until one has; every packet in the ring
   * then counts as new, from the oldest file on. Should a record larger than the buffer be cut by a
   * truncation while it is copied, its rest is written as zeros, so the stream stays framed.
   * Following ends early if a new file has another byte order, time stamp resolution or link type
   * than the header written, or if the thread is interrupted (its interrupt flag is kept). Never
   * holds more than a 64 KiB buffer of packets.
   *
   * @return packets written
   */
  public static long follow(
      Supplier<List<Path>> ringFiles, BooleanSupplier running, Instant deadline, OutputStream out)
      throws IOException {
    return new Follow(ringFiles, out).run(running, deadline);
  }

  /** What we know of a ring file we are not reading. */
  private record Seen(Object fileKey, FileTime modified, long size) {
    static Seen of(BasicFileAttributes attributes) {
      return new Seen(attributes.fileKey(), attributes.lastModifiedTime(), attributes.size());
    }
  }

  /**
   * When a ring file was last written, and, for files written within the same clock tick, the time
   * stamp of its first packet (tcpdump starts the files in packet order); a file without a packet
   * is the newest of its tick.
   */
  private record Age(FileTime modified, long firstPacket) implements Comparable<Age> {
    private static final Comparator<Age> ORDER =
        Comparator.comparing(Age::modified).thenComparingLong(Age::firstPacket);

    static Age of(Path path, BasicFileAttributes attributes) {
      long firstPacket = Long.MAX_VALUE;
      byte[] bytes = new byte[PcapHeader.LENGTH + PcapHeader.RECORD_HEADER_LENGTH];
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        if (Follow.readFully(channel, 0, bytes, bytes.length) == bytes.length) {
          firstPacket =
              PcapHeader.parse(bytes).packet(bytes, PcapHeader.LENGTH, null).timestampNanos();
        }
      } catch (IOException e) {
        // gone or not a pcap file: ordered by its modification time alone
      }
      return new Age(attributes.lastModifiedTime(), firstPacket);
    }

    @Override
    public int compareTo(Age other) {
      return ORDER.compare(this, other);
    }
  }

  private enum Switch {
    DONE,
    WAIT,
    STOP
  }

  private static final class Follow {
    private final Supplier<List<Path>> ringFiles;
    private final OutputStream out;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private final Map<Path, Seen> seen = new HashMap<>();
    private PcapHeader header;
    private byte[] headerBytes;
    private Path current;
    private long position;
    private FileTime currentModified;

    /** The 16-byte header of the current file's first record, once it has one. */
    private byte[] firstRecord;

    /** The current file was rewritten, or holds a record we cannot parse: nothing more from it. */
    private boolean currentDone;

    /**
     * The current file was truncated (or deleted): when it grows again, it is read from its start.
     */
    private boolean currentRewritten;

    private long packets;
    private boolean unflushed;

    /** How many ring files there were at the last look. */
    private int listed = 1;

    Follow(Supplier<List<Path>> ringFiles, OutputStream out) {
      this.ringFiles = ringFiles;
      this.out = out;
    }

    long run(BooleanSupplier running, Instant deadline) throws IOException {
      // packets in the files now are not ours; but once we had to wait for a first header, every
      // packet in the file that gets one was written after the call
      boolean fromEnd = true;
      while (!start(fromEnd)) {
        if (!running.getAsBoolean() || !Instant.now().isBefore(deadline) || !sleep()) {
          return 0;
        }
        fromEnd = false;
      }
      out.write(headerBytes);
      out.flush();
      while (Instant.now().isBefore(deadline)) {
        boolean stopping = !running.getAsBoolean();
        boolean go = poll(stopping);
        if (unflushed) {
          out.flush();
          unflushed = false;
        }
        if (!go || stopping || !sleep()) {
          break;
        }
      }
      return packets;
    }

    /**
     * Positions us in the newest ring file, after its last complete record if {@code fromEnd}, else
     * before its first; false if there is no file with a header yet.
     */
    private boolean start(boolean fromEnd) throws IOException {
      Map<Path, BasicFileAttributes> files = attributes(ringFiles.get());
      // from the end: the file tcpdump writes, the newest; else all files are new: the oldest
      Path newest = null;
      Age newestAge = null;
      for (Map.Entry<Path, BasicFileAttributes> file : files.entrySet()) {
        BasicFileAttributes a = file.getValue();
        if (a.size() < PcapHeader.LENGTH) {
          continue;
        }
        Age age = Age.of(file.getKey(), a);
        if (newest == null
            || (fromEnd ? age.compareTo(newestAge) >= 0 : age.compareTo(newestAge) < 0)) {
          newest = file.getKey();
          newestAge = age;
        }
      }
      if (newest == null) {
        return false;
      }
      BasicFileAttributes newestAttributes = files.get(newest);
      try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.READ)) {
        byte[] bytes = new byte[PcapHeader.LENGTH];
        if (readFully(channel, 0, bytes, bytes.length) < bytes.length) {
          return false;
        }
        header = PcapHeader.parse(bytes);
        headerBytes = bytes;
        current = newest;
        currentModified = newestAttributes.lastModifiedTime();
        position = PcapHeader.LENGTH;
        firstRecord = firstRecord(channel, channel.size());
        if (fromEnd) {
          position = copyRecords(channel, channel.size(), false);
        }
      }
      if (fromEnd) {
        files.forEach(
            (path, a) -> {
              if (!path.equals(current)) {
                seen.put(path, Seen.of(a));
              }
            });
      }
      return true;
    }

    /** Copies what is new; false when following must end. */
    private boolean poll(boolean stopping) throws IOException {
      int copied = copyNew();
      if (copied > 0 && !stopping) {
        return true;
      }
      // at most one switch per ring file and poll, should the files keep changing under us
      for (int switches = 0; switches <= listed; switches++) {
        Path next = nextFile();
        if (next == null) {
          return true;
        }
        copyNew(); // the last records tcpdump wrote before it moved on
        Switch result = switchTo(next);
        if (result == Switch.STOP) {
          return false;
        }
        if (result == Switch.WAIT) {
          return true;
        }
        copyNew();
      }
      return true;
    }

    /** Copies the complete records added to the current file; the number copied. */
    private int copyNew() throws IOException {
      if (currentDone) {
        return 0;
      }
      long before = packets;
      try (FileChannel channel = FileChannel.open(current, StandardOpenOption.READ)) {
        long size = channel.size();
        currentModified = Files.getLastModifiedTime(current);
        if (size < position || rewritten(channel, size)) {
          // truncated and written anew: counts as changed, to be read again from its start
          currentDone = true;
          currentRewritten = true;
          seen.remove(current);
          return 0;
        }
        position = copyRecords(channel, size, true);
      } catch (NoSuchFileException e) {
        currentDone = true;
        currentRewritten = true;
        seen.remove(current);
        return 0;
      }
      return (int) (packets - before);
    }

    /** Whether the first record of the current file is no longer the one we saw. */
    private boolean rewritten(FileChannel channel, long size) throws IOException {
      if (firstRecord == null) {
        firstRecord = firstRecord(channel, size);
        return false;
      }
      byte[] now = firstRecord(channel, size);
      return !Arrays.equals(now, firstRecord);
    }

    private byte[] firstRecord(FileChannel channel, long size) throws IOException {
      if (size < PcapHeader.LENGTH + PcapHeader.RECORD_HEADER_LENGTH) {
        return null;
      }
      byte[] bytes = new byte[PcapHeader.RECORD_HEADER_LENGTH];
      return readFully(channel, PcapHeader.LENGTH, bytes, bytes.length) == bytes.length
          ? bytes
          : null;
    }

    /**
     * The ring file tcpdump moved on to from the current one, or null: a file changed since we saw
     * it (or the current one, rewritten), not older than the current one; the least recently
     * modified of several.
     */
    private Path nextFile() {
      Map<Path, BasicFileAttributes> files = attributes(ringFiles.get());
      listed = files.size();
      Path next = null;
      Age nextAge = null;
      for (Map.Entry<Path, BasicFileAttributes> file : files.entrySet()) {
        Path path = file.getKey();
        BasicFileAttributes a = file.getValue();
        if (path.equals(current) && !currentRewritten) {
          continue; // being read, or abandoned after a corrupt record: never read twice
        }
        if (Seen.of(a).equals(seen.get(path))) {
          continue;
        }
        if (!path.equals(current) && a.lastModifiedTime().compareTo(currentModified) < 0) {
          // changed, yet older than what we read: not tcpdump's current file; forget it
          seen.put(path, Seen.of(a));
          continue;
        }
        Age age = Age.of(path, a);
        if (next == null || age.compareTo(nextAge) < 0) {
          next = path;
          nextAge = age;
        }
      }
      return next;
    }

    /** Makes {@code next} the current file, after its header. */
    private Switch switchTo(Path next) throws IOException {
      byte[] bytes = new byte[PcapHeader.LENGTH];
      try (FileChannel channel = FileChannel.open(next, StandardOpenOption.READ)) {
        if (readFully(channel, 0, bytes, bytes.length) < bytes.length) {
          return Switch.WAIT; // tcpdump has not written its header yet
        }
        if (!header.sameRecordFormat(PcapHeader.parse(bytes))) {
          return Switch.STOP;
        }
      } catch (NoSuchFileException e) {
        return Switch.WAIT;
      } catch (PcapFormatException e) {
        return Switch.STOP;
      }
      if (!next.equals(current) && !currentRewritten) {
        markSeen(current);
      }
      seen.remove(next);
      current = next;
      currentModified = Files.getLastModifiedTime(next);
      position = PcapHeader.LENGTH;
      firstRecord = null;
      currentDone = false;
      currentRewritten = false;
      return Switch.DONE;
    }

    /** Remembers {@code path} as it is now: only a later change makes it a candidate. */
    private void markSeen(Path path) {
      try {
        seen.put(path, Seen.of(Files.readAttributes(path, BasicFileAttributes.class)));
      } catch (IOException e) {
        seen.remove(path);
      }
    }

    /**
     * Goes through the complete records from {@code position} to {@code size}, writing them to
     * {@code out} if {@code write}; returns the offset after the last complete record. A record no
     * pcap writer would write ends the current file ({@code currentDone}): nothing after it can be
     * framed.
     */
    private long copyRecords(FileChannel channel, long size, boolean write) throws IOException {
      long pos = position;
      while (true) {
        int n = readFully(channel, pos, buffer, (int) Math.min(buffer.length, size - pos));
        int off = 0;
        int complete = 0;
        int large = 0;
        boolean corrupt = false;
        while (off + PcapHeader.RECORD_HEADER_LENGTH <= n) {
          int record;
          try {
            record =
                PcapHeader.RECORD_HEADER_LENGTH + header.capturedLength(buffer, off, pos + off);
          } catch (PcapFormatException e) {
            corrupt = true;
            break;
          }
          if (pos + off + record > size) {
            break; // tcpdump is still writing it
          }
          if (off + record > n) {
            large = off == 0 ? record : 0;
            break;
          }
          off += record;
          complete++;
        }
        if (off > 0) {
          if (write) {
            out.write(buffer, 0, off);
            packets += complete;
            unflushed = true;
          }
          pos += off;
        } else if (large > 0) {
          // a record larger than the buffer: stream it through
          if (write) {
            streamRecord(channel, pos, large, n);
            packets++;
            unflushed = true;
          }
          pos += large;
        }
        if (corrupt) {
          currentDone = true;
          markSeen(current);
          return pos;
        }
        if (off == 0 && large == 0) {
          return pos;
        }
      }
    }

    /**
     * Writes the {@code record} bytes at {@code start}, of which the buffer holds the first {@code
     * n}. Should the file be truncated meanwhile, the rest is zeros: the stream keeps its framing.
     */
    private void streamRecord(FileChannel channel, long start, int record, int n)
        throws IOException {
      out.write(buffer, 0, n);
      int done = n;
      while (done < record) {
        int want = Math.min(buffer.length, record - done);
        int got = readFully(channel, start + done, buffer, want);
        if (got < want) {
          Arrays.fill(buffer, got, want, (byte) 0);
        }
        out.write(buffer, 0, want);
        done += want;
      }
    }

    private static boolean sleep() {
      try {
        Thread.sleep(POLL_MILLIS);
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    /** The attributes of those of {@code paths} that exist, in list order. */
    private static Map<Path, BasicFileAttributes> attributes(List<Path> paths) {
      Map<Path, BasicFileAttributes> files = new LinkedHashMap<>();
      for (Path path : Objects.requireNonNullElse(paths, List.<Path>of())) {
        try {
          files.put(path, Files.readAttributes(path, BasicFileAttributes.class));
        } catch (IOException e) {
          // gone, or not yet there
        }
      }
      return files;
    }

    /** Reads up to {@code length} bytes at {@code offset}; fewer only at the end of the file. */
    private static int readFully(FileChannel channel, long offset, byte[] into, int length)
        throws IOException {
      ByteBuffer target = ByteBuffer.wrap(into, 0, length);
      while (target.hasRemaining()) {
        if (channel.read(target, offset + target.position()) < 0) {
          break;
        }
      }
      return target.position();
    }
  }
}
