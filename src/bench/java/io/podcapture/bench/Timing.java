package io.podcapture.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** Waiting for moments and turning them into milliseconds. */
final class Timing {
  private Timing() {}

  /**
   * Polls every millisecond until every probe has given a time (System.nanoTime), or the timeout
   * passes.
   */
  @SafeVarargs
  static Long[] awaitAll(long t0, long timeoutMillis, Supplier<Long>... probes) {
    Long[] at = new Long[probes.length];
    long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (int i = 0; i < probes.length; i++) {
        if (at[i] == null) {
          at[i] = probes[i].get();
          all &= at[i] != null;
        }
      }
      if (all) {
        break;
      }
      LockSupport.parkNanos(1_000_000);
    }
    return at;
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  /** Milliseconds from {@code t0} to {@code at}, or null when the moment never came. */
  static Double since(Long at, long t0) {
    return at == null ? null : ms(at - t0);
  }
}
