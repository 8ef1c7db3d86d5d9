package io.podcapture.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A capture run as it is now: process facts, files read from disk, and whether its disk is full.
 */
final class Snapshots {
  private static final Logger log = LoggerFactory.getLogger(Snapshots.class);

  /**
   * A file system with less free than this is full for a capture: tcpdump's writes fail (it does
   * not say so).
   */
  private static final long FULL_BELOW_BYTES = 64 * 1024;

  private Snapshots() {}

  static CaptureSnapshot of(CaptureRun run) {
    TcpdumpProcess process = run.process;
    boolean running = process.isAlive();
    Integer exitCode = running || process.stopRequested() ? null : process.exitCode();
    List<RingFile> files = new ArrayList<>();
    try {
      addFiles(files, run.files.ring(), false);
      addFiles(files, run.files.previous(), true);
    } catch (IOException e) {
      log.warn("capture {}: cannot list files: {}", run.request.key(), e.toString());
    }
    return new CaptureSnapshot(
        run.request.request(),
        running,
        run.filter,
        process.startTime(),
        files,
        exitCode,
        process.lastOutput(),
        run.restartCount,
        running ? storageProblem(run.files) : null,
        run.completed());
  }

  /** Why tcpdump cannot write although it runs (its disk is full), or null. */
  private static String storageProblem(CaptureFiles files) {
    long free = files.freeBytes();
    if (free >= FULL_BELOW_BYTES) {
      return null;
    }
    return "no space left in capture folder "
        + files.namespaceDir()
        + " ("
        + free
        + " bytes free): tcpdump can no longer write its files, packets are lost";
  }

  private static void addFiles(List<RingFile> out, List<Path> paths, boolean previous) {
    for (Path path : paths) {
      try {
        out.add(new RingFile(path.getFileName().toString(), path, Files.size(path), previous));
      } catch (IOException e) {
        // Deleted or rotated away between listing and reading its size: no longer part of it.
      }
    }
  }
}
