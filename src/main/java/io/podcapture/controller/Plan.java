package io.podcapture.controller;

import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A decision of {@link CaptureDecision}: actions in order, the state to remember afterwards (null
 * forgets the capture), the status to write (null writes none), Events, and when to pass again
 * (null: only on a change).
 */
record Plan(
    List<Plan.Action> actions,
    CaptureState next,
    PodCaptureStatus status,
    List<Plan.Note> notes,
    Duration requeueAfter) {

  /** One thing to do, in order. */
  sealed interface Action {
    /** Adds the cleanup finalizer, before tcpdump may write a file for this PodCapture. */
    record AddFinalizer() implements Action {}

    /** Reserves room and starts (or restarts) tcpdump; the pass decides again with the outcome. */
    record Start(CaptureRequest request) implements Action {}

    /**
     * Removes the capture (stops tcpdump, deletes the files) and forgets it; {@code why} is a
     * CamelCase reason for metrics and logs.
     */
    record Remove(String why) implements Action {}

    /** Stops tcpdump and keeps the files (a full disk). */
    record StopKeepingFiles() implements Action {}

    /** Gives up the slot and keeps the disk budget: for a capture whose files stay. */
    record Park(int maxFiles, int fileSizeMB) implements Action {}

    /** Removes the Pod's annotation: the user deleted the annotation's PodCapture. */
    record RemoveAnnotation() implements Action {}

    /** Removes the cleanup finalizer (guarded JSON patch). */
    record RemoveFinalizer() implements Action {}

    /**
     * The Pod is not on this node and the capture never ran here: removes the node label and the
     * finalizer (in one guarded patch), so the cluster controller finds the Pod's node; nothing is
     * done if the API server has the Pod on this node after all (the cache was behind).
     */
    record Unclaim() implements Action {}

    /** Deletes the PodCapture: its ttlSecondsAfterFinished ran out. */
    record Delete() implements Action {}
  }

  /** Where an Event goes, and when. */
  enum Where {
    /**
     * With the status: on the PodCapture, a warning also on the annotation's Pod; sent only if the
     * plan's status was written (or it has none), so a pass that repeats a reason repeats no Event.
     */
    STATUS,
    /** On the Pod, where the annotation's user looks; sent whatever the status. */
    POD,
    /** On the PodCapture; sent whatever the status. */
    CAPTURE
  }

  /** An Event to record. */
  record Note(boolean warning, String reason, String message, Where where) {
    /** An Event that goes with the status. */
    Note(boolean warning, String reason, String message) {
      this(warning, reason, message, Where.STATUS);
    }
  }

  Plan withNote(Note first) {
    List<Note> all = new ArrayList<>(List.of(first));
    all.addAll(notes);
    return new Plan(actions, next, status, all, requeueAfter);
  }

  Plan withAction(Action action) {
    List<Action> all = new ArrayList<>(actions);
    all.add(action);
    return new Plan(all, next, status, notes, requeueAfter);
  }
}
