package io.podcapture.sets;

import java.time.Duration;
import java.util.List;

/**
 * What a pass over a set does: the Pods to make children for, and what it knows for the status.
 *
 * @param invalid why the spec is refused (no child is made), or null
 * @param window the set's window (null when invalid)
 * @param podsToCapture Pods to make a child for, oldest first
 * @param podsOverMaxPods matching Pods left without a child because maxPods is reached
 * @param maxPods the effective maxPods
 * @param lookAgain when to look at the set again by itself (the window's end), or null
 */
public record SetPlan(
    String invalid,
    SetWindow window,
    List<String> podsToCapture,
    int podsOverMaxPods,
    int maxPods,
    Duration lookAgain) {

  static SetPlan refused(String why) {
    return new SetPlan(why, null, List.of(), 0, 0, null);
  }

  public boolean isInvalid() {
    return invalid != null;
  }
}
