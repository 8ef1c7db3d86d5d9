package io.podcapture.capture;

import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs tcpdump captures. The controller reaches processes and capture files only through this
 * interface, so its tests run against a fake and the real implementation is tested with real
 * tcpdump.
 *
 * <p>One word per meaning, here and in the controller above it:
 *
 * <ul>
 *   <li><b>stop</b>: end a capture's tcpdump (SIGTERM, then SIGKILL after the grace period); its
 *       files stay ({@link #stopKeepingFiles}, and {@link #close} for all of them);
 *   <li><b>remove</b>: stop, then delete the capture's files and forget it ({@link #remove}, {@link
 *       #removeLeftovers}); the controller's {@code Action.Remove};
 *   <li><b>complete</b>: tcpdump ended by itself as asked (packet count or duration); <b>crash</b>:
 *       it ended by itself otherwise ({@link #onExit});
 *   <li><b>leftover</b>: a tcpdump or files an earlier agent run left behind.
 * </ul>
 *
 * The node's capture budget has its own verbs, used for nothing else: a capture <b>reserves</b> a
 * slot and disk, <b>parks</b> (keeps the disk, gives up the slot) and <b>releases</b> both ({@code
 * NodeBudget}). Finalizers are added and removed.
 */
public interface PacketCapturer extends AutoCloseable {

  /**
   * Makes the capture run as requested: starts it if absent, restarts it if the request differs
   * from the running one or its tcpdump has crashed (counting a restart in the latter case), and
   * does nothing if it already runs with an equal request, or has completed with an equal request
   * (a completed capture is never restarted; a different request starts a new run). Returns once
   * tcpdump runs and its first file exists. The user's filter is checked and compiled ({@code
   * tcpdump -d}) before anything is started.
   *
   * <p>The restart count and, for a capture with a duration, its deadline belong to the capturer: a
   * crash restart counts one more and keeps the deadline, so the capture ends when it was asked to.
   * Whether to restart at all is the caller's decision, made from the snapshot.
   *
   * @throws CaptureException when tcpdump cannot start, or the filter is refused ({@code
   *     InvalidFilter}, with tcpdump's own error text); then no process and no new file is left
   */
  CaptureSnapshot ensure(CaptureRequest request) throws CaptureException;

  /** Removes the capture: stops its tcpdump and deletes its files. Harmless if absent. */
  void remove(CaptureKey key);

  /**
   * Stops the capture's tcpdump but keeps its files and its place, for a capture that cannot go on
   * (its disk is full): the snapshot then shows it not running, {@link #ensure} starts it again and
   * {@link #remove} deletes the files. A capturer that cannot keep a capture without its process
   * removes it altogether.
   */
  default void stopKeepingFiles(CaptureKey key) {
    remove(key);
  }

  /**
   * The capture as it is now, with file sizes read from disk; empty if this capturer holds no such
   * capture.
   */
  Optional<CaptureSnapshot> snapshot(CaptureKey key);

  /** Keys of every capture held, running or exited. */
  Set<CaptureKey> captures();

  /**
   * Start-up clean-up: stops tcpdump processes an earlier agent run left behind and deletes the
   * files of every capture whose key is not in {@code keep}. Files of kept keys stay (a resumed
   * capture keeps them).
   */
  void removeLeftovers(Set<CaptureKey> keep);

  /**
   * Registers a listener told (on another thread) when a capture's tcpdump ends without being
   * stopped: it crashed, or it completed (packet count or duration reached; see {@link
   * CaptureSnapshot#completed}).
   */
  void onExit(Consumer<CaptureKey> listener);

  /**
   * Agent shutdown: stops every tcpdump but keeps all files, so captures resume when the agent
   * returns.
   */
  @Override
  void close();
}
