package io.podcapture.pcap;

import java.io.Closeable;
import java.io.IOException;

/** Packets of one link type, in time order. */
public interface PacketSource extends Closeable {

  /** The LINKTYPE_ value of every packet, e.g. 276 for LINUX_SLL2. */
  int linkType();

  int snapLength();

  /** The next packet, or null at the end. */
  PcapPacket next() throws IOException;
}
