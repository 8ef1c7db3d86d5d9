package io.podcapture.capture;

import java.time.Duration;
import java.util.List;

/**
 * What the controller wants captured.
 *
 * @param key the capture (its files are named after it)
 * @param ips the Pod's IP literals, from which the capture layer builds the Pod filter
 * @param maxFiles files in the ring
 * @param fileSizeMB size at which tcpdump moves to the next file
 * @param filter the user's pcap-filter expression, ANDed with the Pod filter; null or blank for
 *     none
 * @param packetCount stop after this many packets ({@code tcpdump -c}); null for no limit
 * @param duration stop after this long (at least 1 s; tcpdump is stopped 1.5 s later, so libpcap
 *     hands over the last packets); null for no limit
 * @param snapLength bytes kept of each packet ({@code tcpdump -s}); 0 keeps whole packets
 */
public record CaptureRequest(
    CaptureKey key,
    List<String> ips,
    int maxFiles,
    int fileSizeMB,
    String filter,
    Integer packetCount,
    Duration duration,
    int snapLength) {
  public CaptureRequest {
    ips = List.copyOf(ips);
  }

  /** A capture of everything the Pod sends and receives, until it is stopped. */
  public CaptureRequest(CaptureKey key, List<String> ips, int maxFiles, int fileSizeMB) {
    this(key, ips, maxFiles, fileSizeMB, null, null, null, 0);
  }
}
