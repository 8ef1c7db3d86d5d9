package io.podcapture.capture;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The table of capture runs, one slot per {@link CaptureKey}, each with its own lock, so a slow
 * start or stop of one capture never holds up another. Whole-table work (leftover clean-up, close)
 * takes the table exclusively.
 */
final class SlotTable {

  /** One key's place in the table; its lock serialises everything done to that capture. */
  static final class Slot {
    final ReentrantLock lock = new ReentrantLock();

    /**
     * Set once the slot has left the table; whoever then gets its lock must look the key up again.
     */
    boolean retired;

    volatile CaptureRun run;
  }

  /** Work on one key under its lock. */
  interface KeyWork<T> {
    T run(Slot slot) throws CaptureException;
  }

  private final ConcurrentHashMap<CaptureKey, Slot> slots = new ConcurrentHashMap<>();

  /** Shared by per-key work, exclusive for whole-table work (leftover clean-up, close). */
  private final ReadWriteLock table = new ReentrantReadWriteLock();

  private volatile boolean closed;

  boolean closed() {
    return closed;
  }

  /**
   * Runs {@code work} holding {@code key}'s lock. The slot leaves the table when the work leaves no
   * run in it, still under the lock, so a concurrent caller waiting for the lock notices and starts
   * over.
   *
   * @throws IllegalStateException once the table is closed
   */
  <T> T withKey(CaptureKey key, KeyWork<T> work) throws CaptureException {
    table.readLock().lock();
    try {
      while (true) {
        if (closed) {
          throw new IllegalStateException("capturer is closed");
        }
        Slot slot = slots.computeIfAbsent(key, k -> new Slot());
        slot.lock.lock();
        try {
          if (slot.retired) {
            continue;
          }
          try {
            return work.run(slot);
          } finally {
            if (slot.run == null) {
              slot.retired = true;
              slots.remove(key, slot);
            }
          }
        } finally {
          slot.lock.unlock();
        }
      }
    } finally {
      table.readLock().unlock();
    }
  }

  /**
   * Runs {@code action} under the key's lock if {@code run} is still the key's run (not replaced,
   * removed or closed meanwhile); returns what the action returned, or false if it did not run.
   */
  // Identity, not equality: the slot must still hold the very run; an equal request started again
  // since is another tcpdump.
  @SuppressWarnings("ReferenceEquality")
  boolean ifCurrent(CaptureRun run, Predicate<CaptureRun> action) {
    table.readLock().lock();
    try {
      Slot slot = slots.get(run.request.key());
      if (closed || slot == null) {
        return false;
      }
      slot.lock.lock();
      try {
        if (slot.retired || slot.run != run) {
          return false;
        }
        return action.test(run);
      } finally {
        slot.lock.unlock();
      }
    } finally {
      table.readLock().unlock();
    }
  }

  /** The key's run, or null. */
  CaptureRun current(CaptureKey key) {
    Slot slot = slots.get(key);
    return slot == null ? null : slot.run;
  }

  Set<CaptureKey> keys() {
    Set<CaptureKey> keys = new LinkedHashSet<>();
    slots.forEach(
        (key, slot) -> {
          if (slot.run != null) {
            keys.add(key);
          }
        });
    return keys;
  }

  /** Whether a live tcpdump of this table has this pid. */
  boolean runsPid(long pid) {
    return slots.values().stream()
        .map(s -> s.run)
        .anyMatch(r -> r != null && r.process.pid() == pid && r.process.isAlive());
  }

  /** Runs {@code work} holding the whole table: no per-key work runs meanwhile. */
  void exclusively(Runnable work) {
    table.writeLock().lock();
    try {
      work.run();
    } finally {
      table.writeLock().unlock();
    }
  }

  /**
   * Closes the table: hands every run to {@code stopAll} and empties the table; nothing the second
   * time.
   */
  void close(Consumer<List<CaptureRun>> stopAll) {
    exclusively(
        () -> {
          if (closed) {
            return;
          }
          closed = true;
          List<CaptureRun> runs = new ArrayList<>();
          for (Slot slot : slots.values()) {
            if (slot.run != null) {
              runs.add(slot.run);
            }
          }
          stopAll.accept(runs);
          slots.clear();
        });
  }
}
