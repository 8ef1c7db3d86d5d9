package io.podcapture.capture;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's running tcpdump captures, one per {@link CaptureKey}.
 *
 * <p>Each key has its own lock, so a slow start or stop of one capture never holds up another. Only
 * {@link #removeLeftovers} and {@link #close} take the whole table, as they are meant for start-up
 * and shutdown.
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
 * its duration runs out: then a timer here stops it through the usual SIGTERM path. A completed
 * capture stays in the table with its files until {@link #remove}; an equal request does not
 * restart it. A crashed capture with a duration is restarted for the time that is left of it, so
 * the capture ends when it was asked to.
 *
 * <p>After {@link #close()}, {@link #ensure} throws {@link IllegalStateException} and {@link
 * #remove} does nothing (the files stay for the next agent run).
 */
public final class CaptureManager implements PacketCapturer {

  private static final Logger log = LoggerFactory.getLogger(CaptureManager.class);

  /**
   * How long tcpdump runs on after a capture's duration, so the packets of its last second are
   * written: libpcap hands packets over in blocks, a block once a second (tcpdump's timeout) or
   * when full, and a tcpdump stopped with SIGTERM drops the block not handed over yet (measured: 98
   * of 100 pings of the last second were lost). libpcap's immediate mode would avoid that, but
   * under a flood ping it lost 28 of 40 thousand packets.
   */
  static final Duration FLUSH_AFTER_DURATION = Duration.ofMillis(1500);

  /**
   * A file system with less free than this is full for a capture: tcpdump's writes fail (it does
   * not say so).
   */
  private static final long FULL_BELOW_BYTES = 64 * 1024;

  private final CaptureConfig config;
  private final TcpdumpCommand command;
  private final FilterCompiler compiler;
  private final ConcurrentHashMap<CaptureKey, Slot> slots = new ConcurrentHashMap<>();
  private final List<Consumer<CaptureKey>> listeners = new CopyOnWriteArrayList<>();

  /** Shared by per-key work, exclusive for whole-table work (leftover clean-up, close). */
  private final ReadWriteLock table = new ReentrantReadWriteLock();

  /**
   * Tells the unexpected-exit listeners, one exit at a time. Its one thread ends when idle, so it
   * needs no shutdown (and a late exit after close is never rejected).
   */
  private final Executor notifier =
      new ThreadPoolExecutor(
          0,
          1,
          1,
          TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(),
          runnable -> {
            Thread thread = new Thread(runnable, "capture-exit-listeners");
            thread.setDaemon(true);
            return thread;
          });

  /**
   * Ends captures whose duration ran out; its one thread starts with the first capture that has a
   * duration.
   */
  private final ScheduledThreadPoolExecutor timer =
      new ScheduledThreadPoolExecutor(
          1,
          runnable -> {
            Thread thread = new Thread(runnable, "capture-durations");
            thread.setDaemon(true);
            return thread;
          });

  private volatile boolean closed;

  public CaptureManager(CaptureConfig config) {
    this.config = config;
    this.command = TcpdumpCommand.of(config);
    this.compiler = new FilterCompiler(command, config.startTimeout());
    timer.setRemoveOnCancelPolicy(true);
  }

  /** One key's place in the table; its lock serialises everything done to that capture. */
  private static final class Slot {
    final ReentrantLock lock = new ReentrantLock();

    /**
     * Set once the slot has left the table; whoever then gets its lock must look the key up again.
     */
    boolean retired;

    volatile Capture capture;
  }

  /**
   * A capture as started: what was asked, the files, the process, the complete filter, how often it
   * was restarted, and when its duration runs out (null without one).
   */
  private record Capture(
      ValidRequest request,
      CaptureFiles files,
      TcpdumpProcess process,
      String filter,
      int restartCount,
      Instant deadline,
      Ending ending) {

    /**
     * tcpdump ended as asked: its packet count reached ({@code -c}, exit 0), or its duration ran
     * out.
     */
    boolean completed() {
      return ending.timeUp
          || (request.packetCount() != null
              && !process.isAlive()
              && !process.stopRequested()
              && Integer.valueOf(0).equals(process.exitCode()));
    }
  }

  /**
   * What changes about a running capture's end: whether its time is up, and the timer that will say
   * so.
   */
  private static final class Ending {
    volatile boolean timeUp;
    volatile ScheduledFuture<?> timer;

    void cancelTimer() {
      ScheduledFuture<?> scheduled = timer;
      if (scheduled != null) {
        scheduled.cancel(false);
      }
    }
  }

  /** Work on one key under its lock. */
  private interface KeyWork<T> {
    T run(Slot slot) throws CaptureException;
  }

  @Override
  public CaptureSnapshot ensure(CaptureRequest request) throws CaptureException {
    // refuse bad input before anything touches disk or runs
    ValidRequest valid = ValidRequest.of(request);
    CaptureFiles files = CaptureFiles.of(config.captureDir(), valid.key());
    return withKey(
        valid.key(),
        slot -> {
          Capture current = slot.capture;
          boolean same = current != null && current.request().sameCaptureAs(valid);
          if (same && (current.process().isAlive() || current.completed())) {
            return snapshot(current);
          }
          // everything that can refuse the request comes before the running capture is touched
          String filter = PodFilter.complete(podFilter(valid), valid.filter());
          if (valid.filter() != null) {
            compiler.check(filter, valid.filter());
          }
          int restarts = 0;
          Instant deadline = null;
          if (current != null) {
            current.ending().cancelTimer();
            restarts = current.restartCount();
            if (current.process().isAlive()) {
              log.info("capture {}: request changed, restarting tcpdump", valid.key());
              current.process().stop(config.stopGrace());
            } else if (current.completed()) {
              log.info(
                  "capture {}: request changed, starting a new run after the completed one",
                  valid.key());
              restarts = 0;
            } else if (!current.process().stopRequested()) {
              restarts++;
              log.info(
                  "capture {}: tcpdump had {}, restarting it (restart {})",
                  valid.key(),
                  CaptureSnapshot.describeExit(current.process().exitCode()),
                  restarts);
            }
            if (same) {
              // a restart of the same capture keeps the end it was asked for
              deadline = current.deadline();
              if (deadline != null && !Instant.now().isBefore(deadline)) {
                log.info(
                    "capture {}: its duration ran out while tcpdump was not running: completed",
                    valid.key());
                current.ending().timeUp = true;
                return snapshot(current);
              }
            }
          }
          try {
            slot.capture = start(valid, files, restarts, filter, deadline);
          } catch (CaptureException e) {
            slot.capture = null;
            throw e;
          }
          return snapshot(slot.capture);
        });
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

  private Capture start(
      ValidRequest request, CaptureFiles files, int restarts, String filter, Instant deadline)
      throws CaptureException {
    files.createFolders();
    stopLeftover(files);
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
    if (deadline == null && request.duration() != null) {
      deadline = process.startTime().plus(request.duration());
    }
    Capture capture =
        new Capture(request, files, process, filter, restarts, deadline, new Ending());
    // async: listeners never run on the caller's thread or under a capture's lock
    CompletableFuture<Void> unused =
        process
            .exited()
            .thenAcceptAsync(
                p -> {
                  if (p.stopRequested()) {
                    return;
                  }
                  if (capture.completed()) {
                    log.info(
                        "capture {}: tcpdump (pid {}) recorded its {} packets and exited: completed",
                        request.key(),
                        p.pid(),
                        request.packetCount());
                  } else {
                    log.warn(
                        "capture {}: tcpdump (pid {}) {}: {}",
                        request.key(),
                        p.pid(),
                        CaptureSnapshot.describeExit(p.exitCode()),
                        p.lastOutput());
                  }
                  tellListeners(request.key());
                },
                notifier);
    if (deadline != null) {
      long delay =
          Math.max(
              0, Duration.between(Instant.now(), deadline.plus(FLUSH_AFTER_DURATION)).toMillis());
      capture.ending().timer =
          timer.schedule(() -> endAtDeadline(capture), delay, TimeUnit.MILLISECONDS);
    }
    log.info(
        "capture {}: tcpdump (pid {}) started in {} ms: {}",
        request.key(),
        process.pid(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began),
        argv);
    return capture;
  }

  /**
   * The duration of {@code capture} ran out ({@link #FLUSH_AFTER_DURATION} ago): it is marked
   * completed, then stopped the usual way (SIGTERM, SIGKILL after the grace period), files kept,
   * and the exit listeners told. Nothing happens if the capture was replaced, stopped or ended
   * meanwhile.
   */
  // Identity, not equality: the slot must still hold the very capture this timer was set for; an
  // equal request
  // started again since is another tcpdump with its own deadline.
  @SuppressWarnings("ReferenceEquality")
  private void endAtDeadline(Capture capture) {
    CaptureKey key = capture.request().key();
    table.readLock().lock();
    try {
      Slot slot = slots.get(key);
      if (closed || slot == null) {
        return;
      }
      slot.lock.lock();
      try {
        if (slot.retired || slot.capture != capture || !capture.process().isAlive()) {
          return;
        }
        capture.ending().timeUp = true;
        log.info(
            "capture {}: its duration of {} s ran out, stopping tcpdump (pid {}): completed",
            key,
            capture.request().duration().toSeconds(),
            capture.process().pid());
        capture.process().stop(config.stopGrace());
        Files.deleteIfExists(capture.files().pidFile());
      } catch (IOException e) {
        log.warn("capture {}: cannot delete {}: {}", key, capture.files().pidFile(), e.toString());
      } finally {
        slot.lock.unlock();
      }
    } finally {
      table.readLock().unlock();
    }
    notifier.execute(() -> tellListeners(key));
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

  private void tellListeners(CaptureKey key) {
    for (Consumer<CaptureKey> listener : listeners) {
      try {
        listener.accept(key);
      } catch (RuntimeException e) {
        log.warn("unexpected-exit listener failed for {}", key, e);
      }
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
    if (closed) {
      // shutting down: files are kept for the next agent run, which decides with removeLeftovers
      log.debug("remove {} after close: ignored", key);
      return;
    }
    try {
      withKey(
          key,
          slot -> {
            Capture current = slot.capture;
            if (current != null) {
              current.ending().cancelTimer();
              current.process().stop(config.stopGrace());
              slot.capture = null;
            }
            stopLeftover(files);
            try {
              files.deleteEverything();
            } catch (IOException e) {
              log.warn("capture {}: cannot delete all files: {}", key, e.toString());
            }
            return null;
          });
    } catch (CaptureException e) {
      throw new IllegalStateException("remove does not fail", e);
    } catch (IllegalStateException e) {
      if (!closed) {
        throw e;
      }
    }
  }

  @Override
  public void stopKeepingFiles(CaptureKey key) {
    if (closed) {
      return;
    }
    try {
      withKey(
          key,
          slot -> {
            Capture current = slot.capture;
            if (current != null && current.process().isAlive()) {
              log.warn(
                  "capture {}: stopping tcpdump (pid {}), keeping its files",
                  key,
                  current.process().pid());
              current.process().stop(config.stopGrace());
            }
            return null;
          });
    } catch (CaptureException e) {
      throw new IllegalStateException("stopKeepingFiles does not fail", e);
    } catch (IllegalStateException e) {
      if (!closed) {
        throw e;
      }
    }
  }

  @Override
  public Optional<CaptureSnapshot> snapshot(CaptureKey key) {
    Slot slot = slots.get(key);
    Capture capture = slot == null ? null : slot.capture;
    return capture == null ? Optional.empty() : Optional.of(snapshot(capture));
  }

  private CaptureSnapshot snapshot(Capture capture) {
    TcpdumpProcess process = capture.process();
    boolean running = process.isAlive();
    Integer exitCode = running || process.stopRequested() ? null : process.exitCode();
    List<RingFile> files = new ArrayList<>();
    try {
      addFiles(files, capture.files().ring(), false);
      addFiles(files, capture.files().previous(), true);
    } catch (IOException e) {
      log.warn("capture {}: cannot list files: {}", capture.request().key(), e.toString());
    }
    String storageProblem = null;
    if (running) {
      long free = capture.files().freeBytes();
      if (free < FULL_BELOW_BYTES) {
        storageProblem =
            "no space left in capture folder "
                + capture.files().namespaceDir()
                + " ("
                + free
                + " bytes free): tcpdump can no longer write its files, packets are lost";
      }
    }
    return new CaptureSnapshot(
        capture.request().request(),
        running,
        capture.filter(),
        process.startTime(),
        files,
        exitCode,
        process.lastOutput(),
        capture.restartCount(),
        storageProblem,
        capture.completed());
  }

  private static void addFiles(List<RingFile> out, List<Path> paths, boolean previous) {
    for (Path path : paths) {
      try {
        out.add(new RingFile(path.getFileName().toString(), path, Files.size(path), previous));
      } catch (IOException e) {
        // deleted or rotated away between listing and reading its size: it is no longer part of the
        // capture
      }
    }
  }

  @Override
  public Set<CaptureKey> captures() {
    Set<CaptureKey> keys = new LinkedHashSet<>();
    slots.forEach(
        (key, slot) -> {
          if (slot.capture != null) {
            keys.add(key);
          }
        });
    return keys;
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
   * ours are touched: ring files, kept files and pid files of valid Pod names in folders named like
   * namespaces. Empty {@code previous/} and namespace folders of removed captures are deleted too.
   */
  @Override
  public void removeLeftovers(Set<CaptureKey> keep) {
    table.writeLock().lock();
    try {
      for (Path namespaceDir : list(config.captureDir())) {
        String namespace = namespaceDir.getFileName().toString();
        if (!Dns1123.isLabel(namespace)
            || !Files.isDirectory(namespaceDir, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        Set<String> pods = new TreeSet<>();
        for (Path dir : List.of(namespaceDir, namespaceDir.resolve(CaptureFiles.PREVIOUS_DIR))) {
          for (Path file : list(dir)) {
            String pod = CaptureFiles.podOf(file.getFileName().toString());
            if (pod != null) {
              pods.add(pod);
            }
          }
        }
        for (String pod : pods) {
          removeLeftover(new CaptureKey(namespace, pod), keep);
        }
        deleteIfEmpty(namespaceDir.resolve(CaptureFiles.PREVIOUS_DIR));
        deleteIfEmpty(namespaceDir);
      }
    } finally {
      table.writeLock().unlock();
    }
  }

  private void removeLeftover(CaptureKey key, Set<CaptureKey> keep) {
    Slot slot = slots.get(key);
    if (slot != null && slot.capture != null) {
      return;
    }
    try {
      CaptureFiles files = CaptureFiles.of(config.captureDir(), key);
      stopLeftover(files);
      if (keep.contains(key)) {
        Files.deleteIfExists(files.pidFile());
      } else {
        log.info("capture {}: deleting files left by an earlier run", key);
        files.deleteEverything();
      }
    } catch (CaptureException | IOException e) {
      log.warn("capture {}: cannot remove leftovers: {}", key, e.toString());
    }
  }

  /**
   * Stops the tcpdump a pid file names if it still is the one that wrote this capture (same start
   * time, our ring path in its argv), then deletes the pid file. A recycled pid is never signalled.
   */
  private void stopLeftover(CaptureFiles files) {
    Optional<PidFile> saved = PidFile.read(files.pidFile());
    if (saved.isEmpty()) {
      return;
    }
    PidFile pid = saved.get();
    boolean ours =
        slots.values().stream()
            .map(s -> s.capture)
            .anyMatch(c -> c != null && c.process().pid() == pid.pid() && c.process().isAlive());
    if (!ours && pid.isTcpdumpWriting(files.ringBase())) {
      ProcessHandle.of(pid.pid())
          .ifPresent(
              handle -> {
                log.info(
                    "capture {}: stopping tcpdump pid {} left by an earlier run",
                    files.key(),
                    pid.pid());
                stopHandle(handle, config.stopGrace());
              });
    }
    try {
      Files.deleteIfExists(files.pidFile());
    } catch (IOException e) {
      log.warn("capture {}: cannot delete {}: {}", files.key(), files.pidFile(), e.toString());
    }
  }

  private static void stopHandle(ProcessHandle handle, Duration grace) {
    try {
      handle.destroy();
      handle.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      handle.destroyForcibly();
      try {
        handle.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception again) {
        log.warn("pid {} did not exit after SIGKILL", handle.pid());
      }
    } catch (InterruptedException e) {
      handle.destroyForcibly();
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      log.warn("waiting for pid {} failed", handle.pid(), e);
    }
  }

  private static List<Path> list(Path dir) {
    List<Path> entries = new ArrayList<>();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return entries;
    }
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      stream.forEach(entries::add);
    } catch (NoSuchFileException e) {
      // gone meanwhile: nothing to do
    } catch (IOException e) {
      log.warn("cannot list {}: {}", dir, e.toString());
    }
    return entries;
  }

  private static void deleteIfEmpty(Path dir) {
    try {
      Files.deleteIfExists(dir);
    } catch (DirectoryNotEmptyException e) {
      // holds files that are not leftovers: keep it
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", dir, e.toString());
    }
  }

  /**
   * Stops every tcpdump (SIGTERM to all first, so the grace periods overlap) and keeps all files.
   */
  @Override
  public void close() {
    table.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      timer.shutdownNow();
      List<Capture> running = new ArrayList<>();
      for (Slot slot : slots.values()) {
        Capture capture = slot.capture;
        if (capture != null) {
          capture.process().requestStop();
          running.add(capture);
        }
      }
      for (Capture capture : running) {
        capture.process().awaitStop(config.stopGrace());
        try {
          Files.deleteIfExists(capture.files().pidFile());
        } catch (IOException e) {
          log.debug("cannot delete {}", capture.files().pidFile(), e);
        }
      }
      slots.clear();
      log.info("stopped {} captures, their files are kept", running.size());
    } finally {
      table.writeLock().unlock();
    }
  }

  /**
   * Runs {@code work} holding {@code key}'s lock. The slot leaves the table when the work leaves no
   * capture in it, still under the lock, so a concurrent caller waiting for the lock notices and
   * starts over.
   */
  private <T> T withKey(CaptureKey key, KeyWork<T> work) throws CaptureException {
    table.readLock().lock();
    try {
      while (true) {
        if (closed) {
          throw new IllegalStateException("capturer is closed");
        }
        Slot slot = slots.computeIfAbsent(key, k -> new Slot());
        slot.lock.lock();
        try {
          if (slot.retired) {
            continue;
          }
          try {
            return work.run(slot);
          } finally {
            if (slot.capture == null) {
              slot.retired = true;
              slots.remove(key, slot);
            }
          }
        } finally {
          slot.lock.unlock();
        }
      }
    } finally {
      table.readLock().unlock();
    }
  }
}
