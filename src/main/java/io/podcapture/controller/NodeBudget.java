package io.podcapture.controller;

import io.podcapture.capture.CaptureKey;
import java.util.HashMap;
import java.util.Map;

/**
 * The node's capture limits: at most {@code maxCaptures} tcpdumps at once (slots), and all rings
 * together within {@code budgetMB} of disk (a ring needs maxFiles x fileSizeMB, plus one kept ring
 * of an earlier run). A capture holds its reservation from its start until it is released. A
 * capture that no longer runs but keeps its files (Completed, or Failed with files) is parked: it
 * keeps its disk and gives up its slot.
 */
final class NodeBudget {
  private final int maxCaptures;
  private final long budgetMB;
  private final Store reservations;

  /** What a capture holds: megabytes of disk and, unless {@code parked}, a slot. */
  record Reservation(long megabytes, boolean parked) {}

  /** Where the reservations are kept: in each capture's record ({@link CaptureRecords}). */
  interface Store {
    /** The key's reservation, or null. */
    Reservation get(CaptureKey key);

    /** Sets the key's reservation; null removes it. */
    void put(CaptureKey key, Reservation reservation);

    Iterable<Reservation> all();
  }

  /** Fits, or why not: {@code waiting} means it fits once others end; otherwise it never fits. */
  record Verdict(boolean fits, boolean waiting, String reason, String message) {
    static final Verdict FITS = new Verdict(true, false, null, null);
  }

  /** Read-only: whether a ring would fit now. The decision asks this; only a start reserves. */
  interface View {
    Verdict check(CaptureKey key, int maxFiles, int fileSizeMB);
  }

  NodeBudget(int maxCaptures, long budgetMB, Store reservations) {
    this.maxCaptures = maxCaptures;
    this.budgetMB = budgetMB;
    this.reservations = reservations;
  }

  /** A budget that keeps its reservations itself. */
  NodeBudget(int maxCaptures, long budgetMB) {
    this(maxCaptures, budgetMB, new OwnStore());
  }

  private static final class OwnStore implements Store {
    private final Map<CaptureKey, Reservation> map = new HashMap<>();

    @Override
    public Reservation get(CaptureKey key) {
      return map.get(key);
    }

    @Override
    public void put(CaptureKey key, Reservation reservation) {
      if (reservation == null) {
        map.remove(key);
      } else {
        map.put(key, reservation);
      }
    }

    @Override
    public Iterable<Reservation> all() {
      return map.values();
    }
  }

  /**
   * Megabytes a ring may take: tcpdump's -C is a threshold, and one earlier ring may be kept beside
   * it.
   */
  static long ringMB(int maxFiles, int fileSizeMB) {
    return 2L * maxFiles * fileSizeMB;
  }

  /** A view that names this node in its messages. */
  View view(String node) {
    return (key, maxFiles, fileSizeMB) -> check(key, maxFiles, fileSizeMB, node);
  }

  synchronized Verdict check(CaptureKey key, int maxFiles, int fileSizeMB, String node) {
    long need = ringMB(maxFiles, fileSizeMB);
    if (need > budgetMB) {
      return new Verdict(
          false,
          false,
          Names.REASON_TOO_LARGE,
          String.format(
              "a ring of %d x %d MB needs up to %d MB with one kept earlier ring, more than the node's disk budget of "
                  + "%d MB (DISK_BUDGET_MB); use fewer files",
              maxFiles, fileSizeMB, need, budgetMB));
    }
    Reservation held = reservations.get(key);
    boolean hasSlot = held != null && !held.parked();
    if (!hasSlot && inUse() >= maxCaptures) {
      return new Verdict(
          false,
          true,
          Names.REASON_WAITING_FOR_SLOT,
          String.format(
              "waiting for a capture slot: %d of %d captures run on node %s (MAX_CAPTURES); starts when one ends",
              inUse(), maxCaptures, node));
    }
    long used = reservedMB() - (held == null ? 0 : held.megabytes());
    if (used + need > budgetMB) {
      return new Verdict(
          false,
          true,
          Names.REASON_WAITING_FOR_DISK,
          String.format(
              "waiting for disk budget: this ring needs up to %d MB, other captures on node %s hold %d of %d MB "
                  + "(DISK_BUDGET_MB); starts when enough is released",
              need, node, used, budgetMB));
    }
    return Verdict.FITS;
  }

  /**
   * Takes a slot and the ring's disk if they fit (checked again: another worker may have taken
   * them).
   */
  synchronized Verdict reserve(CaptureKey key, int maxFiles, int fileSizeMB, String node) {
    Verdict verdict = check(key, maxFiles, fileSizeMB, node);
    if (verdict.fits()) {
      reservations.put(key, new Reservation(ringMB(maxFiles, fileSizeMB), false));
    }
    return verdict;
  }

  /**
   * Gives up the key's slot but keeps (or takes, for files found at start-up) its disk; returns
   * whether a slot was freed.
   */
  synchronized boolean park(CaptureKey key, int maxFiles, int fileSizeMB) {
    Reservation held = reservations.get(key);
    long megabytes = held == null ? ringMB(maxFiles, fileSizeMB) : held.megabytes();
    reservations.put(key, new Reservation(megabytes, true));
    return held != null && !held.parked();
  }

  /** Frees the key's reservation; returns whether it held one. */
  synchronized boolean release(CaptureKey key) {
    boolean held = reservations.get(key) != null;
    reservations.put(key, null);
    return held;
  }

  /** Slots taken: captures reserved and not parked. */
  synchronized int inUse() {
    int n = 0;
    for (Reservation r : reservations.all()) {
      n += r.parked() ? 0 : 1;
    }
    return n;
  }

  synchronized long reservedMB() {
    long sum = 0;
    for (Reservation r : reservations.all()) {
      sum += r.megabytes();
    }
    return sum;
  }
}
