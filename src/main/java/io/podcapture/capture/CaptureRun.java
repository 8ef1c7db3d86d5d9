package io.podcapture.capture;

import java.time.Instant;
import java.util.concurrent.ScheduledFuture;

/**
 * One run of a capture as started: what was asked, the files, the tcpdump process, the complete
 * filter, how often the capture was restarted, and when its duration runs out (null without one).
 *
 * <p>The restart count and the deadline are the capture layer's: a crashed capture is restarted by
 * {@link PacketCapturer#ensure} with the count one higher and the same deadline, so a capture with
 * a duration ends when it was asked to however often tcpdump crashed. The controller reads both
 * from the {@link CaptureSnapshot} and decides from them whether to restart at all.
 */
final class CaptureRun {
  final ValidRequest request;
  final CaptureFiles files;
  final TcpdumpProcess process;
  final String filter;
  final int restartCount;
  final Instant deadline;

  /** The duration ran out: tcpdump was stopped because its time was up, not by a user. */
  volatile boolean timeUp;

  /** The timer that ends this run at its deadline, or null. */
  volatile ScheduledFuture<?> timer;

  CaptureRun(
      ValidRequest request,
      CaptureFiles files,
      TcpdumpProcess process,
      String filter,
      int restartCount,
      Instant deadline) {
    this.request = request;
    this.files = files;
    this.process = process;
    this.filter = filter;
    this.restartCount = restartCount;
    this.deadline = deadline;
  }

  /**
   * tcpdump ended as asked: its packet count reached ({@code -c}, exit 0), or its duration ran out.
   */
  boolean completed() {
    return timeUp
        || (request.packetCount() != null
            && !process.isAlive()
            && !process.stopRequested()
            && Integer.valueOf(0).equals(process.exitCode()));
  }

  void cancelTimer() {
    ScheduledFuture<?> scheduled = timer;
    if (scheduled != null) {
      scheduled.cancel(false);
    }
  }

  /**
   * What the next run of this capture starts with, for {@code next} (an equal or a changed
   * request): the restart count (one more after a crash, none after a completed run) and the
   * deadline (kept for the same capture: a restart keeps the end it was asked for).
   */
  record Next(int restartCount, Instant deadline) {}

  Next next(ValidRequest next) {
    int restarts = restartCount;
    if (completed() && !process.isAlive()) {
      restarts = 0;
    } else if (!process.isAlive() && !process.stopRequested()) {
      restarts++;
    }
    return new Next(restarts, request.sameCaptureAs(next) ? deadline : null);
  }
}
