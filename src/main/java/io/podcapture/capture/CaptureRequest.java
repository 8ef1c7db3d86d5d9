package io.podcapture.capture;

import java.util.List;

/**
 * What the controller wants captured: the Pod's IP literals (the filter is built from them),
 * the number of files in the ring and the size at which tcpdump rotates.
 */
public record CaptureRequest(CaptureKey key, List<String> ips, int maxFiles, int fileSizeMB) {
  public CaptureRequest {
    ips = List.copyOf(ips);
  }
}
