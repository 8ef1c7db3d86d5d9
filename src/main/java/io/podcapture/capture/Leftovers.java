package io.podcapture.capture;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongPredicate;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an earlier agent run left behind: tcpdump processes named by pid files, and files of
 * captures no longer wanted. Only files named like ours are touched: ring files, kept files and pid
 * files of valid Pod names in folders named like namespaces. A recycled pid is never signalled.
 */
final class Leftovers {
  private static final Logger log = LoggerFactory.getLogger(Leftovers.class);

  private final Path captureDir;
  private final Duration stopGrace;
  private final LongPredicate ours;

  /** {@code ours} tells the pids of this agent's own live tcpdumps, never stopped as leftovers. */
  Leftovers(Path captureDir, Duration stopGrace, LongPredicate ours) {
    this.captureDir = captureDir;
    this.stopGrace = stopGrace;
    this.ours = ours;
  }

  /**
   * Stops leftover tcpdumps and deletes the files of every capture not in {@code keep}; captures
   * {@code held} are left alone. Empty {@code previous/} and namespace folders are deleted too.
   */
  void removeAll(Set<CaptureKey> keep, Predicate<CaptureKey> held) {
    for (Path namespaceDir : list(captureDir)) {
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
        CaptureKey key = new CaptureKey(namespace, pod);
        if (!held.test(key)) {
          remove(key, keep.contains(key));
        }
      }
      deleteIfEmpty(namespaceDir.resolve(CaptureFiles.PREVIOUS_DIR));
      deleteIfEmpty(namespaceDir);
    }
  }

  private void remove(CaptureKey key, boolean keepFiles) {
    try {
      CaptureFiles files = CaptureFiles.of(captureDir, key);
      stop(files);
      if (keepFiles) {
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
   * time, our ring path in its argv), then deletes the pid file.
   */
  void stop(CaptureFiles files) {
    Optional<PidFile> saved = PidFile.read(files.pidFile());
    if (saved.isEmpty()) {
      return;
    }
    PidFile pid = saved.get();
    if (!ours.test(pid.pid()) && pid.isTcpdumpWriting(files.ringBase())) {
      ProcessHandle.of(pid.pid())
          .ifPresent(
              handle -> {
                log.info(
                    "capture {}: stopping tcpdump pid {} left by an earlier run",
                    files.key(),
                    pid.pid());
                stopHandle(handle, stopGrace);
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
}
