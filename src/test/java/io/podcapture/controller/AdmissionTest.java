package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.capture.CaptureKey;
import org.junit.jupiter.api.Test;

class AdmissionTest {
  private static CaptureKey key(String name) {
    return new CaptureKey("default", name);
  }

  @Test
  void capturesBeyondTheSlotLimitWaitWithTheNumbersInTheMessage() {
    Admission admission = new Admission(2, 1024);
    assertTrue(admission.reserve(key("a"), 5, 1, "n1").admitted());
    assertTrue(admission.reserve(key("b"), 5, 1, "n1").admitted());
    Admission.Decision third = admission.reserve(key("c"), 5, 1, "n1");
    assertFalse(third.admitted());
    assertTrue(third.waiting());
    assertEquals(Names.REASON_WAITING_FOR_SLOT, third.reason());
    assertTrue(third.message().contains("2 of 2 captures"), third.message());
    assertTrue(admission.reserve(key("a"), 5, 1, "n1").admitted(), "a held slot is kept");
    admission.release(key("a"));
    assertTrue(admission.reserve(key("c"), 5, 1, "n1").admitted());
  }

  @Test
  void aRingLargerThanTheWholeBudgetNeverFits() {
    Admission admission = new Admission(16, 100);
    Admission.Decision d = admission.reserve(key("a"), 64, 1, "n1");
    assertFalse(d.admitted());
    assertFalse(d.waiting());
    assertEquals(Names.REASON_TOO_LARGE, d.reason());
    assertTrue(d.message().contains("128 MB") && d.message().contains("100 MB"), d.message());
  }

  @Test
  void ringsWaitForBudgetHeldByOthers() {
    Admission admission = new Admission(16, 100);
    assertTrue(admission.reserve(key("a"), 30, 1, "n1").admitted()); // 60 MB
    Admission.Decision d = admission.reserve(key("b"), 25, 1, "n1"); // 50 MB
    assertFalse(d.admitted());
    assertTrue(d.waiting());
    assertEquals(Names.REASON_WAITING_FOR_DISK, d.reason());
    assertTrue(d.message().contains("hold 60 of 100 MB"), d.message());
    assertTrue(admission.reserve(key("a"), 10, 1, "n1").admitted(), "a capture may shrink its own ring");
    assertTrue(admission.reserve(key("b"), 25, 1, "n1").admitted());
    assertEquals(70, admission.reservedMB());
  }
}
