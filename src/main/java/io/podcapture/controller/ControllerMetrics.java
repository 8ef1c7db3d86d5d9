package io.podcapture.controller;

import java.time.Duration;

/**
 * What the controller reports as it works; the monitoring layer turns it into Prometheus metrics.
 */
public interface ControllerMetrics {
  /** Does nothing: for tests and tools that do not export metrics. */
  ControllerMetrics NONE = new ControllerMetrics() {};

  /** One reconcile pass ended, successfully or not. */
  default void reconciled(Duration took, boolean failed) {}

  /** A call to the API server failed with this HTTP code (0 when no answer came). */
  default void apiError(int code) {}

  /**
   * The agent told users something through an Event (CaptureStarted, CaptureStopped, a failure
   * reason...).
   */
  default void event(String type, String reason) {}

  /** A tcpdump was started for a capture (first start, or restart with a changed request). */
  default void captureStarted() {}

  /** A capture's tcpdump was stopped and its files deleted, for this CamelCase reason. */
  default void captureStopped(String reason) {}

  /** A capture went to Failed (or could not start) for this CamelCase reason. */
  default void captureFailed(String reason) {}

  /** A tcpdump that had ended on its own was started again. */
  default void tcpdumpRestarted() {}

  /**
   * The informer of this node's PodCaptures told of a change to one labelled with {@code node} (its
   * node label, null if none): any other node than this one means the label selector let it
   * through.
   */
  default void podCaptureEvent(String node) {}
}
