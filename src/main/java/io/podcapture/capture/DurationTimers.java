package io.podcapture.capture;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Ends capture runs whose duration ran out. Its one thread starts with the first run that has a
 * duration.
 */
final class DurationTimers {
  /**
   * How long tcpdump runs on after a capture's duration, so the packets of its last second are
   * written: libpcap hands packets over in blocks, a block once a second (tcpdump's timeout) or
   * when full, and a tcpdump stopped with SIGTERM drops the block not handed over yet (measured: 98
   * of 100 pings of the last second were lost). libpcap's immediate mode would avoid that, but
   * under a flood ping it lost 28 of 40 thousand packets.
   */
  static final Duration FLUSH_AFTER_DURATION = Duration.ofMillis(1500);

  private final ScheduledThreadPoolExecutor timer =
      new ScheduledThreadPoolExecutor(
          1,
          runnable -> {
            Thread thread = new Thread(runnable, "capture-durations");
            thread.setDaemon(true);
            return thread;
          });

  DurationTimers() {
    timer.setRemoveOnCancelPolicy(true);
  }

  /** Calls {@code atDeadline} with the run {@link #FLUSH_AFTER_DURATION} after its deadline. */
  void schedule(CaptureRun run, Consumer<CaptureRun> atDeadline) {
    long delay =
        Math.max(
            0, Duration.between(Instant.now(), run.deadline.plus(FLUSH_AFTER_DURATION)).toMillis());
    run.timer = timer.schedule(() -> atDeadline.accept(run), delay, TimeUnit.MILLISECONDS);
  }

  void shutdown() {
    timer.shutdownNow();
  }
}
