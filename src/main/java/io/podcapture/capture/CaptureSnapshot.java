package io.podcapture.capture;

import java.time.Instant;
import java.util.List;

/**
 * A capture as it is now.
 *
 * @param running whether tcpdump is alive
 * @param filter the BPF expression tcpdump was started with
 * @param startTime when the current (or last) tcpdump process started
 * @param files current ring files, then kept files of an earlier run, sizes read from disk now
 * @param exitCode exit code of a tcpdump that ended on its own, or null while running
 * @param lastOutput the last lines tcpdump printed (stderr), for error messages
 * @param restartCount how many times the capture was restarted after tcpdump ended on its own
 * @param storageProblem why tcpdump cannot write its files although it runs (its disk is full), or
 *     null; tcpdump itself goes on without a word and loses every packet
 * @param completed tcpdump ended as the request asked (its packet count was reached or its duration
 *     ran out): a success, not a crash; it is not restarted and its files stay until {@link
 *     PacketCapturer#remove}
 */
public record CaptureSnapshot(
    CaptureRequest request,
    boolean running,
    String filter,
    Instant startTime,
    List<RingFile> files,
    Integer exitCode,
    String lastOutput,
    int restartCount,
    String storageProblem,
    boolean completed) {

  public CaptureKey key() {
    return request.key();
  }

  public long totalBytes() {
    return files.stream().mapToLong(RingFile::sizeBytes).sum();
  }

  /**
   * Why tcpdump ended on its own, e.g. "exited with code 1" or "killed by signal 9 (SIGKILL)"; null
   * while it runs. Java reports death by signal N as exit code 128 + N; tcpdump itself exits with 0
   * or 1 only.
   */
  public String exitReason() {
    return exitCode == null ? null : describeExit(exitCode);
  }

  static String describeExit(int exitCode) {
    int signal = exitCode - 128;
    if (signal < 1 || signal > 64) {
      return "exited with code " + exitCode;
    }
    String name =
        switch (signal) {
          case 1 -> " (SIGHUP)";
          case 2 -> " (SIGINT)";
          case 6 -> " (SIGABRT)";
          case 9 -> " (SIGKILL)";
          case 11 -> " (SIGSEGV)";
          case 13 -> " (SIGPIPE)";
          case 15 -> " (SIGTERM)";
          default -> "";
        };
    return "killed by signal " + signal + name;
  }
}
