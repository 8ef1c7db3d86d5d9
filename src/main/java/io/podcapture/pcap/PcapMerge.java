package io.podcapture.pcap;

import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/** Merges packet sources into one pcapng section, in time stamp order. */
public final class PcapMerge {

  private PcapMerge() {}

  /** The next packet of one source, waiting in the queue. */
  private record Head(PcapPacket packet, int source) {}

  private static final Comparator<Head> ORDER =
      Comparator.<Head>comparingLong(h -> h.packet().timestampNanos())
          .thenComparingInt(Head::source);

  /**
   * Writes every packet of every source, in timestamp order (ties: lower source index first);
   * returns packets written. Source i is written as interface i of {@code out}, which must have the
   * source's link type. Holds one packet per source; flushes {@code out} at the end and closes
   * nothing.
   */
  public static long merge(List<PacketSource> sources, PcapngWriter out) throws IOException {
    List<PcapngInterface> interfaces = out.interfaces();
    if (sources.size() > interfaces.size()) {
      throw new IllegalArgumentException(
          sources.size() + " sources, but the writer has " + interfaces.size() + " interfaces");
    }
    for (int i = 0; i < sources.size(); i++) {
      if (sources.get(i).linkType() != interfaces.get(i).linkType()) {
        throw new IllegalArgumentException(
            "source "
                + i
                + " has link type "
                + sources.get(i).linkType()
                + ", its interface "
                + interfaces.get(i).linkType());
      }
    }
    PriorityQueue<Head> queue = new PriorityQueue<>(Math.max(1, sources.size()), ORDER);
    for (int i = 0; i < sources.size(); i++) {
      PcapPacket first = sources.get(i).next();
      if (first != null) {
        queue.add(new Head(first, i));
      }
    }
    long written = 0;
    while (!queue.isEmpty()) {
      Head head = queue.poll();
      out.write(head.source(), head.packet());
      written++;
      PcapPacket following = sources.get(head.source()).next();
      if (following != null) {
        queue.add(new Head(following, head.source()));
      }
    }
    out.flush();
    return written;
  }
}
