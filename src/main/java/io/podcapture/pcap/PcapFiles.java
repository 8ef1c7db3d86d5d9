package io.podcapture.pcap;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** One capture's files read one after the other, as one source. */
public final class PcapFiles {

  private PcapFiles() {}

  /** Opens a stream; may fail with an IOException. */
  @FunctionalInterface
  public interface IoSupplier<T> {
    T get() throws IOException;
  }

  /**
   * The packets of {@code files}, in list order (oldest file first). Only one file is open at a
   * time: file i+1 is opened when file i is exhausted. An empty file (tcpdump has not written its
   * header yet) holds no packets. Every file must have the link type of the first, else reading
   * fails with a {@link PcapFormatException} naming both.
   *
   * <p>The first file with a header is opened here, for the link type and snap length. Without any
   * (no files, or only empty ones) the source is empty, of link type LINUX_SLL2 (276, what tcpdump
   * writes for {@code -i any}) and snap length 262144. {@link PacketSource#snapLength()} is the
   * largest snap length of the files opened so far.
   */
  public static PacketSource sequential(List<IoSupplier<InputStream>> files) throws IOException {
    Sequential source = new Sequential(List.copyOf(files));
    try {
      source.openNext();
    } catch (IOException | RuntimeException e) {
      source.close();
      throw e;
    }
    return source;
  }

  private static final class Sequential implements PacketSource {

    private final List<IoSupplier<InputStream>> files;
    private int nextFile;
    private int linkType = PcapHeader.LINKTYPE_LINUX_SLL2;
    private int snapLength = PcapHeader.MAXIMUM_SNAPLEN;
    private int firstFileWithHeader = -1;
    private PcapReader current;

    Sequential(List<IoSupplier<InputStream>> files) {
      this.files = files;
    }

    /** Opens the next file with a header; false when there is none. */
    boolean openNext() throws IOException {
      while (nextFile < files.size()) {
        int index = nextFile++;
        PcapReader reader = PcapReader.openOrNull(files.get(index).get());
        if (reader == null) {
          continue;
        }
        if (firstFileWithHeader < 0) {
          firstFileWithHeader = index;
          linkType = reader.linkType();
          snapLength = reader.snapLength();
        } else if (reader.linkType() != linkType) {
          reader.close();
          throw new PcapFormatException(
              "file "
                  + (index + 1)
                  + " has link type "
                  + reader.linkType()
                  + ", file "
                  + (firstFileWithHeader + 1)
                  + " has link type "
                  + linkType
                  + ": the files cannot be read as one capture");
        } else {
          snapLength = Math.max(snapLength, reader.snapLength());
        }
        current = reader;
        return true;
      }
      return false;
    }

    @Override
    public int linkType() {
      return linkType;
    }

    @Override
    public int snapLength() {
      return snapLength;
    }

    @Override
    public PcapPacket next() throws IOException {
      while (current != null) {
        PcapPacket packet = current.next();
        if (packet != null) {
          return packet;
        }
        PcapReader exhausted = current;
        current = null;
        exhausted.close();
        openNext();
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      if (current != null) {
        PcapReader open = current;
        current = null;
        open.close();
      }
    }
  }
}
