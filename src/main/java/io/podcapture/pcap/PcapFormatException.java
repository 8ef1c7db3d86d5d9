package io.podcapture.pcap;

import java.io.IOException;

/** A stream that is not a pcap file, or holds a record no pcap writer would write. */
public class PcapFormatException extends IOException {

  private static final long serialVersionUID = 1L;

  public PcapFormatException(String message) {
    super(message);
  }
}
