package io.podcapture.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's memory of its own PodCapture writes (kept in each capture's record, {@link
 * CaptureRecords}), and the status writer. The informer cache lags behind our own writes by a few
 * milliseconds: a pass in between must not take the stale copy for the truth and write (or create)
 * the same thing again, so passes read {@link #freshest}. Status is written only when it changed,
 * and a change of file sizes alone at most once per refresh interval.
 */
final class Writes {
  private static final Logger LOG = LoggerFactory.getLogger(Writes.class);

  /** How long our own write is preferred to a cache that does not show it yet. */
  static final Duration CACHE_LAG = Duration.ofSeconds(5);

  /**
   * When a pass that went by our own write, not the cache, looks again: the cache has caught up by
   * then.
   */
  static final Duration RECHECK_AFTER_LAG = CACHE_LAG.plusSeconds(1);

  private final KubernetesClient client;
  private final Clock clock;
  private final Duration sizeRefresh;
  private final CaptureRecords records;

  /** Remembers writes in {@code records}: each capture's last write and when sizes were written. */
  Writes(KubernetesClient client, Clock clock, Duration sizeRefresh, CaptureRecords records) {
    this.client = client;
    this.clock = clock;
    this.sizeRefresh = sizeRefresh;
    this.records = records;
  }

  /**
   * When a pass that went by our own recent write, not the cache ({@code cached} null, {@code cr}
   * not), looks again: once the cache has caught up, as the object may be gone by then without an
   * event left to bring the key back; sooner if the pass asked for sooner.
   */
  static Duration recheckAfterOwnWrite(PodCapture cached, PodCapture cr, Duration again) {
    if (cached != null || cr == null) {
      return again;
    }
    return again != null && again.compareTo(RECHECK_AFTER_LAG) < 0 ? again : RECHECK_AFTER_LAG;
  }

  /**
   * The cached object, or what we wrote a moment ago if the cache has not caught up with it yet.
   */
  PodCapture freshest(CaptureKey key, PodCapture cached) {
    CaptureRecords.Written mine = records.get(key).lastWrite();
    if (mine == null) {
      return cached;
    }
    if (mine.at().plus(CACHE_LAG).isBefore(clock.instant())) {
      records.update(key, r -> mine.equals(r.lastWrite()) ? written(r, null) : r);
      return cached;
    }
    if (cached == null) {
      return mine.object();
    }
    return newer(mine.object(), cached) ? mine.object() : cached;
  }

  /**
   * Resource versions are opaque strings; the API server's are increasing numbers, which is all we
   * rely on.
   */
  private static boolean newer(PodCapture a, PodCapture b) {
    try {
      return Long.parseLong(a.getMetadata().getResourceVersion())
          > Long.parseLong(b.getMetadata().getResourceVersion());
    } catch (NumberFormatException | NullPointerException e) {
      return false;
    }
  }

  void remember(PodCapture object) {
    CaptureRecords.Written mine = new CaptureRecords.Written(object, clock.instant());
    records.update(PodCaptures.key(object), r -> written(r, mine));
  }

  private static CaptureRecords.Record written(
      CaptureRecords.Record r, CaptureRecords.Written lastWrite) {
    return new CaptureRecords.Record(
        r.state(), r.reservation(), lastWrite, r.sizesWritten(), r.refused());
  }

  /**
   * Writes the status if it changed (sizes at most once per refresh interval); returns whether it
   * wrote.
   */
  boolean status(PodCapture cr, PodCaptureStatus desired) {
    CaptureKey key = PodCaptures.key(cr);
    DesiredStatus.Change change = DesiredStatus.compare(cr.getStatus(), desired);
    if (change == DesiredStatus.Change.NONE) {
      return false;
    }
    Instant now = clock.instant();
    if (change == DesiredStatus.Change.SIZES) {
      Instant last = records.get(key).sizesWritten();
      if (last != null && last.plus(sizeRefresh).isAfter(now)) {
        return false;
      }
    }
    PodCapture copy =
        Objects.requireNonNull(io.fabric8.kubernetes.client.utils.Serialization.clone(cr));
    copy.setStatus(desired);
    PodCapture written =
        client
            .resources(PodCapture.class)
            .inNamespace(key.namespace())
            .resource(copy)
            .updateStatus();
    CaptureRecords.Written mine = new CaptureRecords.Written(written, now);
    records.update(
        key, r -> new CaptureRecords.Record(r.state(), r.reservation(), mine, now, r.refused()));
    LOG.debug(
        "PodCapture({}) status written: {} {}", key, desired.getPhase(), desired.getMessage());
    return true;
  }
}
