package io.podcapture.controller;

import io.podcapture.capture.CaptureException;
import io.podcapture.capture.CaptureSnapshot;

/** What came of an {@link Plan.Action.Start}: the input of the pass's next decision. */
sealed interface StartOutcome {
  /** tcpdump runs; {@code snapshot} as the start left it. */
  record Started(CaptureSnapshot snapshot) implements StartOutcome {}

  /** The capture layer refused or could not start the request, for this reason. */
  record StartFailed(CaptureException.Reason reason, String message) implements StartOutcome {}

  /** Another worker took the room since the decision; {@code verdict} says what is missing. */
  record NoRoom(NodeBudget.Verdict verdict) implements StartOutcome {}
}
