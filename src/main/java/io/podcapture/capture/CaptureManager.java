package io.podcapture.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's running tcpdump captures, one per {@link CaptureKey}.
 *
 * <p>Each key has its own lock ({@link SlotTable}), so a slow start or stop of one capture never
 * holds up another. Only {@link #removeLeftovers} and {@link #close} take the whole table, as they
 * are meant for start-up and shutdown.
 *
 * <p>When a capture (re)starts and its ring files are already on disk, left by an earlier agent run
 * or by the tcpdump that ran before, they are moved to {@code <dir>/<ns>/previous/} rather than
 * overwritten. At most one generation is kept per capture: a later restart replaces the kept files,
 * so a capture uses at most twice its ring (2 x maxFiles x fileSizeMB, plus tcpdump's slight
 * overshoot of each file).
 *
 * <p>A failed start leaves no process and no new file, and the capture is dropped from the table
 * (so a later {@link #ensure} starts afresh and its restart count begins at zero). A request
 * refused before the start (bad input, a filter that does not compile) leaves everything as it was,
 * a running capture included.
 *
 * <p>A capture completes when tcpdump exits 0 by itself with a packet count ({@code -c}), or when
 * its duration runs out: then a timer ({@link DurationTimers}) stops it through the usual SIGTERM
 * path. A completed capture stays in the table with its files until {@link #remove}; an equal
 * request does not restart it. A crashed capture with a duration is restarted for the time that is
 * left of it, so the capture ends when it was asked to: the restart count and the deadline are the
 * capture layer's ({@link CaptureRun}).
 *
 * <p>After {@link #close()}, {@link #ensure} throws {@link IllegalStateException} and {@link
 * #remove} does nothing (the files stay for the next agent run).
 */
public final class CaptureManager implements PacketCapturer {

  private static final Logger log = LoggerFactory.getLogger(CaptureManager.class);

  private final CaptureConfig config;
  private final TcpdumpCommand command;
  private final FilterCompiler compiler;
  private final SlotTable slots = new SlotTable();
  private final ExitListeners listeners = new ExitListeners();
  private final DurationTimers timers = new DurationTimers();
  private final Leftovers leftovers;

  public CaptureManager(CaptureConfig config) {
    this.config = config;
    this.command = TcpdumpCommand.of(config);
    this.compiler = new FilterCompiler(command, config.startTimeout());
    this.leftovers = new Leftovers(config.captureDir(), config.stopGrace(), slots::runsPid);
  }

  @Override
  public CaptureSnapshot ensure(CaptureRequest request) throws CaptureException {
    // refuse bad input before anything touches disk or runs
    ValidRequest valid = ValidRequest.of(request);
    CaptureFiles files = CaptureFiles.of(config.captureDir(), valid.key());
    return slots.withKey(
        valid.key(),
        slot -> {
          CaptureRun current = slot.run;
          boolean same = current != null && current.request.sameCaptureAs(valid);
          if (same && (current.process.isAlive() || current.completed())) {
            return Snapshots.of(current);
          }
          // everything that can refuse the request comes before the running capture is touched
          String filter = PodFilter.complete(podFilter(valid), valid.filter());
          if (valid.filter() != null) {
            compiler.check(filter, valid.filter());
          }
          CaptureRun.Next next =
              current == null ? new CaptureRun.Next(0, null) : end(current, valid);
          if (next.deadline() != null && !Instant.now().isBefore(next.deadline())) {
            log.info(
                "capture {}: its duration ran out while tcpdump was not running: completed",
                valid.key());
            current.timeUp = true;
            return Snapshots.of(current);
          }
          try {
            slot.run = start(valid, files, next, filter);
          } catch (CaptureException e) {
            slot.run = null;
            throw e;
          }
          return Snapshots.of(slot.run);
        });
  }

  /** Ends the current run before the next: stops a live tcpdump, and says why it goes again. */
  private CaptureRun.Next end(CaptureRun current, ValidRequest valid) {
    current.cancelTimer();
    CaptureRun.Next next = current.next(valid);
    if (current.process.isAlive()) {
      log.info("capture {}: request changed, restarting tcpdump", valid.key());
      current.process.stop(config.stopGrace());
    } else if (current.completed()) {
      log.info(
          "capture {}: request changed, starting a new run after the completed one", valid.key());
    } else if (!current.process.stopRequested()) {
      log.info(
          "capture {}: tcpdump had {}, restarting it (restart {})",
          valid.key(),
          CaptureSnapshot.describeExit(current.process.exitCode()),
          next.restartCount());
    }
    return next;
  }

  /**
   * The Pod filter for this node's devices as they are now; interface indexes only exist on {@code
   * any}.
   */
  private String podFilter(ValidRequest request) {
    List<NodeInterfaces.Device> excluded =
        config.onAnyInterface() ? NodeInterfaces.read(config.sysClassNet()).repeating() : List.of();
    return PodFilter.of(request.ips(), excluded);
  }

  private CaptureRun start(
      ValidRequest request, CaptureFiles files, CaptureRun.Next next, String filter)
      throws CaptureException {
    files.createFolders();
    leftovers.stop(files);
    files.keepRingAsPrevious();
    files.checkRoom(request.fileSizeMB() * 1024L * 1024L);
    List<String> argv =
        command.argv(
            files.ringBase(),
            request.maxFiles(),
            request.fileSizeMB(),
            request.packetCount(),
            request.snapLength(),
            filter);
    long began = System.nanoTime();
    TcpdumpProcess process;
    try {
      process =
          TcpdumpProcess.start(
              argv,
              files.firstFile(request.maxFiles()),
              files.pidFile(),
              config.startTimeout(),
              request.key().toString());
    } catch (CaptureException e) {
      deleteNewRing(files);
      log.warn("capture {}: tcpdump did not start: {}", request.key(), e.getMessage());
      throw e;
    }
    Instant deadline = next.deadline();
    if (deadline == null && request.duration() != null) {
      deadline = process.startTime().plus(request.duration());
    }
    CaptureRun run = new CaptureRun(request, files, process, filter, next.restartCount(), deadline);
    CompletableFuture<Void> unused =
        process.exited().thenAcceptAsync(p -> exited(run), listeners.executor());
    if (deadline != null) {
      timers.schedule(run, this::endAtDeadline);
    }
    log.info(
        "capture {}: tcpdump (pid {}) started in {} ms: {}",
        request.key(),
        process.pid(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began),
        argv);
    return run;
  }

  /** tcpdump of {@code run} ended; unless it was stopped, the listeners are told. */
  private void exited(CaptureRun run) {
    TcpdumpProcess p = run.process;
    if (p.stopRequested()) {
      return;
    }
    if (run.completed()) {
      log.info(
          "capture {}: tcpdump (pid {}) recorded its {} packets and exited: completed",
          run.request.key(),
          p.pid(),
          run.request.packetCount());
    } else {
      log.warn(
          "capture {}: tcpdump (pid {}) {}: {}",
          run.request.key(),
          p.pid(),
          CaptureSnapshot.describeExit(p.exitCode()),
          p.lastOutput());
    }
    listeners.tell(run.request.key());
  }

  /**
   * The duration of {@code run} ran out ({@link DurationTimers#FLUSH_AFTER_DURATION} ago): it is
   * marked completed, then stopped the usual way (SIGTERM, SIGKILL after the grace period), files
   * kept, and the exit listeners told. Nothing happens if the run was replaced, stopped or ended
   * meanwhile.
   */
  private void endAtDeadline(CaptureRun run) {
    boolean ended =
        slots.ifCurrent(
            run,
            r -> {
              if (!r.process.isAlive()) {
                return false;
              }
              r.timeUp = true;
              log.info(
                  "capture {}: its duration of {} s ran out, stopping tcpdump (pid {}): completed",
                  r.request.key(),
                  r.request.duration().toSeconds(),
                  r.process.pid());
              r.process.stop(config.stopGrace());
              deletePidFile(r);
              return true;
            });
    if (ended) {
      listeners.tellLater(run.request.key());
    }
  }

  /**
   * After a failed start every ring file is new (the old ones went to previous/), so all of them
   * go.
   */
  private static void deleteNewRing(CaptureFiles files) {
    try {
      files.deleteRing();
    } catch (IOException e) {
      log.warn("capture {}: cannot delete files of a failed start: {}", files.key(), e.toString());
    }
  }

  private static void deletePidFile(CaptureRun run) {
    try {
      Files.deleteIfExists(run.files.pidFile());
    } catch (IOException e) {
      log.warn(
          "capture {}: cannot delete {}: {}", run.request.key(), run.files.pidFile(), e.toString());
    }
  }

  @Override
  public void remove(CaptureKey key) {
    CaptureFiles files;
    try {
      files = CaptureFiles.of(config.captureDir(), key);
    } catch (CaptureException e) {
      // such a key can have no files and no process
      log.debug("remove {}: {}", key, e.getMessage());
      return;
    }
    onKey(
        key,
        slot -> {
          CaptureRun current = slot.run;
          if (current != null) {
            current.cancelTimer();
            current.process.stop(config.stopGrace());
            slot.run = null;
          }
          leftovers.stop(files);
          try {
            files.deleteEverything();
          } catch (IOException e) {
            log.warn("capture {}: cannot delete all files: {}", key, e.toString());
          }
        });
  }

  @Override
  public void stopKeepingFiles(CaptureKey key) {
    onKey(
        key,
        slot -> {
          CaptureRun current = slot.run;
          if (current != null && current.process.isAlive()) {
            log.warn(
                "capture {}: stopping tcpdump (pid {}), keeping its files",
                key,
                current.process.pid());
            current.process.stop(config.stopGrace());
          }
        });
  }

  /**
   * Work on a key that cannot fail; nothing once closed (shutting down: files are kept for the next
   * agent run, which decides with removeLeftovers).
   */
  private void onKey(CaptureKey key, Consumer<SlotTable.Slot> work) {
    if (slots.closed()) {
      log.debug("{} after close: ignored", key);
      return;
    }
    try {
      slots.withKey(
          key,
          slot -> {
            work.accept(slot);
            return null;
          });
    } catch (CaptureException e) {
      throw new IllegalStateException("this work does not fail", e);
    } catch (IllegalStateException e) {
      if (!slots.closed()) {
        throw e;
      }
    }
  }

  @Override
  public Optional<CaptureSnapshot> snapshot(CaptureKey key) {
    CaptureRun run = slots.current(key);
    return run == null ? Optional.empty() : Optional.of(Snapshots.of(run));
  }

  @Override
  public Set<CaptureKey> captures() {
    return slots.keys();
  }

  @Override
  public void onExit(Consumer<CaptureKey> listener) {
    listeners.add(listener);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Meant for start-up, before the first {@link #ensure}; it holds the whole table while it
   * runs. Keys this capturer holds are left alone whatever {@code keep} says. Only files named like
   * ours are touched ({@link Leftovers}).
   */
  @Override
  public void removeLeftovers(Set<CaptureKey> keep) {
    slots.exclusively(() -> leftovers.removeAll(keep, key -> slots.current(key) != null));
  }

  /**
   * Stops every tcpdump (SIGTERM to all first, so the grace periods overlap) and keeps all files.
   */
  @Override
  public void close() {
    slots.close(
        runs -> {
          timers.shutdown();
          for (CaptureRun run : runs) {
            run.process.requestStop();
          }
          for (CaptureRun run : runs) {
            run.process.awaitStop(config.stopGrace());
            deletePidFile(run);
          }
          log.info("stopped {} captures, their files are kept", runs.size());
        });
  }
}
