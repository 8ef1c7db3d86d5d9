package io.podcapture.pcap;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** A packet source over a list, counting what was taken from it. */
final class ListSource implements PacketSource {

  private final int linkType;
  private final Deque<PcapPacket> packets;
  int taken;
  boolean closed;

  ListSource(int linkType, List<PcapPacket> packets) {
    this.linkType = linkType;
    this.packets = new ArrayDeque<>(packets);
  }

  @Override
  public int linkType() {
    return linkType;
  }

  @Override
  public int snapLength() {
    return 262_144;
  }

  @Override
  public PcapPacket next() {
    PcapPacket next = packets.poll();
    if (next != null) {
      taken++;
    }
    return next;
  }

  @Override
  public void close() {
    closed = true;
  }
}
