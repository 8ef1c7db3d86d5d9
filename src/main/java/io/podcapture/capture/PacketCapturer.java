package io.podcapture.capture;

import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs tcpdump captures. The controller reaches processes and capture files only through this interface,
 * so its tests run against a fake and the real implementation is tested with real tcpdump.
 */
public interface PacketCapturer extends AutoCloseable {

  /**
   * Makes the capture run as requested: starts it if absent, restarts it if the request differs from the
   * running one or its tcpdump has crashed (counting a restart in the latter case), and does nothing if it
   * already runs with an equal request, or has completed with an equal request (a completed capture is never
   * restarted; a different request starts a new run). Returns once tcpdump runs and its first file exists.
   * The user's filter is checked and compiled ({@code tcpdump -d}) before anything is started.
   *
   * @throws CaptureException when tcpdump cannot start, or the filter is refused ({@code InvalidFilter}, with
   *     tcpdump's own error text); then no process and no new file is left
   */
  CaptureSnapshot ensure(CaptureRequest request) throws CaptureException;

  /** Stops the capture (SIGTERM, SIGKILL after the grace period) and deletes its files. Harmless if absent. */
  void stop(CaptureKey key);

  /**
   * Stops the capture's tcpdump but keeps its files and its place, for a capture that cannot go on (its disk is
   * full): the snapshot then shows it not running, {@link #ensure} starts it again and {@link #stop} deletes the
   * files. A capturer that cannot keep a capture without its process stops it altogether.
   */
  default void halt(CaptureKey key) {
    stop(key);
  }

  /** The capture as it is now, with file sizes read from disk; empty if this capturer holds no such capture. */
  Optional<CaptureSnapshot> snapshot(CaptureKey key);

  /** Keys of every capture held, running or exited. */
  Set<CaptureKey> captures();

  /**
   * Start-up clean-up: stops tcpdump processes an earlier agent run left behind and deletes the files of
   * every capture whose key is not in {@code keep}. Files of kept keys stay (a resumed capture keeps them).
   */
  void removeLeftovers(Set<CaptureKey> keep);

  /**
   * Registers a listener told (on another thread) when a capture's tcpdump ends without being stopped: it
   * crashed, or it completed (packet count or duration reached; see {@link CaptureSnapshot#completed}).
   */
  void onExit(Consumer<CaptureKey> listener);

  /** Agent shutdown: stops every tcpdump but keeps all files, so captures resume when the agent returns. */
  @Override
  void close();
}
