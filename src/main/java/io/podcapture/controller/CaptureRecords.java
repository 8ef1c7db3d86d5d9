package io.podcapture.controller;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

/**
 * All the agent remembers of each capture between passes, in one record per key: its state, its
 * budget reservation, its last write and when sizes were last written, and whether its annotation
 * was refused. {@link #forget} drops all of it at once.
 *
 * <p>Two memories are kept apart on purpose, as they must outlive the capture: the UIDs of
 * PodCaptures the agent deleted itself (a pass may still see the deleted object in a lagging cache,
 * and must not take it for a user's deletion), and the Events already sent ({@link EventRecorder},
 * keyed by the object the Event is about, Pods included, as client-go's recorder).
 */
final class CaptureRecords {
  private static final Duration DELETIONS_REMEMBERED = Duration.ofMinutes(10);

  /**
   * One capture's memory; immutable, replaced whole.
   *
   * @param state what the decision remembers (null: nothing)
   * @param reservation the node budget it holds (null: none)
   * @param lastWrite the PodCapture as this agent last wrote it, and when (null: none recent)
   * @param sizesWritten when a status was last written (file sizes are written at most once per
   *     refresh interval)
   * @param refused the annotation of the Pod of this name was refused (its Warning was given)
   */
  record Record(
      CaptureState state,
      NodeBudget.Reservation reservation,
      Written lastWrite,
      Instant sizesWritten,
      boolean refused) {
    static final Record EMPTY = new Record(null, null, null, null, false);

    boolean empty() {
      return equals(EMPTY);
    }
  }

  /** A PodCapture as this agent wrote it, and when. */
  record Written(PodCapture object, Instant at) {}

  private final Map<CaptureKey, Record> records = new ConcurrentHashMap<>();
  private final Map<String, Instant> agentDeletions = new ConcurrentHashMap<>();
  private final Clock clock;
  private final NodeBudget budget;

  CaptureRecords(Clock clock, int maxCaptures, long budgetMB) {
    this.clock = clock;
    this.budget = new NodeBudget(maxCaptures, budgetMB, new Reservations());
  }

  /** The node's budget, whose reservations live in these records. */
  NodeBudget budget() {
    return budget;
  }

  /**
   * Forgets everything of the capture; returns whether it held a budget reservation (its room is
   * free now).
   */
  boolean forget(CaptureKey key) {
    Record gone = records.remove(key);
    return gone != null && gone.reservation() != null;
  }

  Record get(CaptureKey key) {
    return records.getOrDefault(key, Record.EMPTY);
  }

  /** Changes the capture's record; one left empty is dropped. */
  void update(CaptureKey key, UnaryOperator<Record> change) {
    records.compute(
        key,
        (k, r) -> {
          Record next = change.apply(r == null ? Record.EMPTY : r);
          return next.empty() ? null : next;
        });
  }

  CaptureState state(CaptureKey key) {
    return get(key).state();
  }

  void setState(CaptureKey key, CaptureState state) {
    update(
        key, r -> new Record(state, r.reservation(), r.lastWrite(), r.sizesWritten(), r.refused()));
  }

  void forEachState(BiConsumer<CaptureKey, CaptureState> action) {
    records.forEach(
        (key, r) -> {
          if (r.state() != null) {
            action.accept(key, r.state());
          }
        });
  }

  /** Remembers that this agent deletes the PodCapture itself; before the request is sent. */
  void markDeletedByAgent(String uid) {
    Instant now = clock.instant();
    agentDeletions.values().removeIf(at -> at.plus(DELETIONS_REMEMBERED).isBefore(now));
    agentDeletions.put(uid, now);
  }

  void unmarkDeletedByAgent(String uid) {
    agentDeletions.remove(uid);
  }

  boolean deletedByAgent(String uid) {
    return uid != null && agentDeletions.containsKey(uid);
  }

  /** The budget's reservations, kept in the records. */
  private final class Reservations implements NodeBudget.Store {
    @Override
    public NodeBudget.Reservation get(CaptureKey key) {
      return CaptureRecords.this.get(key).reservation();
    }

    @Override
    public void put(CaptureKey key, NodeBudget.Reservation reservation) {
      update(
          key,
          r -> new Record(r.state(), reservation, r.lastWrite(), r.sizesWritten(), r.refused()));
    }

    @Override
    public Iterable<NodeBudget.Reservation> all() {
      return records.values().stream()
          .map(Record::reservation)
          .filter(java.util.Objects::nonNull)
          .toList();
    }
  }
}
