package io.podcapture.sets;

import java.time.Duration;
import java.time.Instant;

/**
 * A set's one capture window: from its start for {@code durationSeconds}, or open-ended without
 * them. Children made later get what is left of it, so every child ends at the same time.
 *
 * @param end the window's end, or null when the set runs until deleted
 */
public record SetWindow(Instant start, Instant end) {
  public boolean open(Instant now) {
    return end == null || now.isBefore(end);
  }

  /**
   * The durationSeconds of a child made now: what is left of the window, rounded up (a child ends
   * at most a second after the set), or null without an end.
   */
  public Integer childDuration(Instant now) {
    if (end == null) {
      return null;
    }
    long millis = Duration.between(now, end).toMillis();
    long seconds = Math.max(1, (millis + 999) / 1000);
    return (int) Math.min(seconds, Integer.MAX_VALUE);
  }
}
