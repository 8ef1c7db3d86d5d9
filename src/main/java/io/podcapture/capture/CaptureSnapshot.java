package io.podcapture.capture;

import java.time.Instant;
import java.util.List;

/**
 * A capture as it is now.
 *
 * @param running      whether tcpdump is alive
 * @param filter       the BPF expression tcpdump was started with
 * @param startTime    when the current (or last) tcpdump process started
 * @param files        current ring files, then kept files of an earlier run, sizes read from disk now
 * @param exitCode     exit code of a tcpdump that ended on its own, or null while running
 * @param lastOutput   the last lines tcpdump printed (stderr), for error messages
 * @param restartCount how many times the capture was restarted after tcpdump ended on its own
 */
public record CaptureSnapshot(CaptureRequest request, boolean running, String filter, Instant startTime,
    List<RingFile> files, Integer exitCode, String lastOutput, int restartCount) {

  public CaptureKey key() {
    return request.key();
  }

  public long totalBytes() {
    return files.stream().mapToLong(RingFile::sizeBytes).sum();
  }
}
