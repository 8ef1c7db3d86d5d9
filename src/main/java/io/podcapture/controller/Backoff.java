package io.podcapture.controller;

import java.time.Duration;

/**
 * The one backoff of the controller: 1 s, 2 s, 4 s ... up to 60 s, for restarts and failed starts
 * alike.
 */
final class Backoff {
  static final Duration FIRST = Duration.ofSeconds(1);
  static final Duration MAX = Duration.ofSeconds(60);

  private Backoff() {}

  /**
   * The wait before attempt {@code done + 1}, after {@code done} earlier attempts (0 gives the
   * first step).
   */
  static Duration after(int done) {
    Duration delay = FIRST.multipliedBy(1L << Math.min(Math.max(done, 0), 16));
    return delay.compareTo(MAX) > 0 ? MAX : delay;
  }
}
