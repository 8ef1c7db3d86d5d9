package io.podcapture.controller;

import io.podcapture.capture.CaptureKey;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The node's capture limits: at most {@code maxCaptures} captures at once, and all rings together within
 * {@code budgetMB} of disk (a ring needs maxFiles x fileSizeMB, plus one kept ring of an earlier run). A capture
 * holds its reservation from admission until it is released. A capture that stopped for good but keeps its files
 * (Failed) is parked: it keeps its disk reservation and gives up its slot, as it no longer runs.
 */
final class Admission {
  private final int maxCaptures;
  private final long budgetMB;
  private final Map<CaptureKey, Long> reservedMB = new HashMap<>();
  /** Reserved keys that hold disk but no slot. */
  private final Set<CaptureKey> parked = new HashSet<>();

  /** Admitted, or why not: {@code waiting} means it fits once others end; otherwise it never fits. */
  record Decision(boolean admitted, boolean waiting, String reason, String message) {
  }

  Admission(int maxCaptures, long budgetMB) {
    this.maxCaptures = maxCaptures;
    this.budgetMB = budgetMB;
  }

  /** Megabytes a ring may take: tcpdump's -C is a threshold, and one earlier ring may be kept beside it. */
  static long ringMB(int maxFiles, int fileSizeMB) {
    return 2L * maxFiles * fileSizeMB;
  }

  synchronized Decision reserve(CaptureKey key, int maxFiles, int fileSizeMB, String node) {
    long need = ringMB(maxFiles, fileSizeMB);
    if (need > budgetMB) {
      return new Decision(false, false, Names.REASON_TOO_LARGE, String.format(
          "a ring of %d x %d MB needs up to %d MB with one kept earlier ring, more than the node's disk budget of "
              + "%d MB (DISK_BUDGET_MB); use fewer files", maxFiles, fileSizeMB, need, budgetMB));
    }
    Long held = reservedMB.get(key);
    boolean hasSlot = held != null && !parked.contains(key);
    if (!hasSlot && inUse() >= maxCaptures) {
      return new Decision(false, true, Names.REASON_WAITING_FOR_SLOT, String.format(
          "waiting for a capture slot: %d of %d captures run on node %s (MAX_CAPTURES); starts when one ends",
          inUse(), maxCaptures, node));
    }
    long used = reservedMB.values().stream().mapToLong(Long::longValue).sum() - (held == null ? 0 : held);
    if (used + need > budgetMB) {
      return new Decision(false, true, Names.REASON_WAITING_FOR_DISK, String.format(
          "waiting for disk budget: this ring needs up to %d MB, other captures on node %s hold %d of %d MB "
              + "(DISK_BUDGET_MB); starts when enough is released", need, node, used, budgetMB));
    }
    reservedMB.put(key, need);
    parked.remove(key);
    return new Decision(true, false, null, null);
  }

  /** Gives up the key's slot but keeps its disk reservation; returns whether a slot was freed. */
  synchronized boolean park(CaptureKey key) {
    return reservedMB.containsKey(key) && parked.add(key);
  }

  /** Frees the key's reservation; returns whether it held one. */
  synchronized boolean release(CaptureKey key) {
    parked.remove(key);
    return reservedMB.remove(key) != null;
  }

  /** Slots taken: captures admitted and not parked. */
  synchronized int inUse() {
    return reservedMB.size() - parked.size();
  }

  synchronized long reservedMB() {
    return reservedMB.values().stream().mapToLong(Long::longValue).sum();
  }
}
