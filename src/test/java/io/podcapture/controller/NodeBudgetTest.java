package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.capture.CaptureKey;
import org.junit.jupiter.api.Test;

class NodeBudgetTest {
  private static CaptureKey key(String name) {
    return new CaptureKey("default", name);
  }

  @Test
  void capturesBeyondTheSlotLimitWaitWithTheNumbersInTheMessage() {
    NodeBudget budget = new NodeBudget(2, 1024);
    assertTrue(budget.reserve(key("a"), 5, 1, "n1").fits());
    assertTrue(budget.reserve(key("b"), 5, 1, "n1").fits());
    NodeBudget.Verdict third = budget.reserve(key("c"), 5, 1, "n1");
    assertFalse(third.fits());
    assertTrue(third.waiting());
    assertEquals(Names.REASON_WAITING_FOR_SLOT, third.reason());
    assertTrue(third.message().contains("2 of 2 captures"), third.message());
    assertTrue(budget.reserve(key("a"), 5, 1, "n1").fits(), "a held slot is kept");
    budget.release(key("a"));
    assertTrue(budget.reserve(key("c"), 5, 1, "n1").fits());
  }

  @Test
  void aRingLargerThanTheWholeBudgetNeverFits() {
    NodeBudget budget = new NodeBudget(16, 100);
    NodeBudget.Verdict d = budget.reserve(key("a"), 64, 1, "n1");
    assertFalse(d.fits());
    assertFalse(d.waiting());
    assertEquals(Names.REASON_TOO_LARGE, d.reason());
    assertTrue(d.message().contains("128 MB") && d.message().contains("100 MB"), d.message());
  }

  @Test
  void ringsWaitForBudgetHeldByOthers() {
    NodeBudget budget = new NodeBudget(16, 100);
    assertTrue(budget.reserve(key("a"), 30, 1, "n1").fits()); // 60 MB
    NodeBudget.Verdict d = budget.reserve(key("b"), 25, 1, "n1"); // 50 MB
    assertFalse(d.fits());
    assertTrue(d.waiting());
    assertEquals(Names.REASON_WAITING_FOR_DISK, d.reason());
    assertTrue(d.message().contains("hold 60 of 100 MB"), d.message());
    assertTrue(budget.reserve(key("a"), 10, 1, "n1").fits(), "a capture may shrink its own ring");
    assertTrue(budget.reserve(key("b"), 25, 1, "n1").fits());
    assertEquals(70, budget.reservedMB());
  }

  @Test
  void checkingReservesNothing() {
    NodeBudget budget = new NodeBudget(1, 100);
    assertTrue(budget.check(key("a"), 1, 1, "n1").fits());
    assertTrue(budget.check(key("b"), 1, 1, "n1").fits());
    assertEquals(0, budget.inUse());
  }

  @Test
  void aParkedCaptureFreesItsSlotAndKeepsItsDisk() {
    NodeBudget budget = new NodeBudget(1, 10);
    assertTrue(budget.reserve(key("a"), 2, 1, "n1").fits());
    assertTrue(budget.park(key("a"), 2, 1), "a slot was freed");
    assertEquals(0, budget.inUse());
    assertEquals(4, budget.reservedMB());
    assertEquals(Names.REASON_WAITING_FOR_DISK, budget.check(key("b"), 4, 1, "n1").reason());
    assertTrue(budget.check(key("b"), 3, 1, "n1").fits());
  }

  @Test
  void filesFoundAtStartUpHoldDiskWithoutASlot() {
    NodeBudget budget = new NodeBudget(1, 10);
    assertFalse(budget.park(key("done"), 3, 1), "no slot was held");
    assertEquals(6, budget.reservedMB());
    assertEquals(0, budget.inUse());
  }
}
