package io.podcapture.controller;

import io.podcapture.capture.CaptureRequest;
import java.time.Instant;

/**
 * What the agent remembers about one capture between passes, beyond what the capture layer's
 * snapshot and the PodCapture's status already say. One value per capture, in its record ({@link
 * CaptureRecords}); absent means nothing to remember (never started, or stopped and forgotten). The
 * values are decided by {@link CaptureDecision} only.
 */
sealed interface CaptureState {

  /**
   * Not started for lack of a slot or disk budget; passed again whenever a capture gives up room.
   */
  record Waiting(String reason, String message) implements CaptureState {}

  /** tcpdump was started for this request. */
  record Running(CaptureRequest request) implements CaptureState {}

  /**
   * Waiting out the backoff before trying {@code request} again: after tcpdump exited on its own,
   * or after {@code attempts} starts that failed ({@code startFailed}). {@code message} says why,
   * for the status.
   */
  record BackingOff(
      CaptureRequest request, int attempts, Instant retryAt, boolean startFailed, String message)
      implements CaptureState {}

  /**
   * Stopped for good, Failed, until the request changes: the filter was refused, the disk is full,
   * the restarts or start attempts are spent. {@code keepsFiles} when its files stay on disk (and
   * hold disk budget).
   */
  record Failed(CaptureRequest request, String reason, String message, boolean keepsFiles)
      implements CaptureState {}

  /**
   * Ended: files kept, never started again for this {@code generation} of the PodCapture. {@code
   * at} is the completion time, RFC 3339; {@code reason} says how it ended: as asked (duration or
   * packet count, {@link Names#REASON_COMPLETED}) or because its Pod was deleted while it ran
   * ({@link Names#REASON_POD_DELETED}).
   */
  record Completed(Long generation, String at, String reason) implements CaptureState {
    /** Ended as asked. */
    Completed(Long generation, String at) {
      this(generation, at, Names.REASON_COMPLETED);
    }

    boolean podDeleted() {
      return Names.REASON_POD_DELETED.equals(reason);
    }
  }
}
