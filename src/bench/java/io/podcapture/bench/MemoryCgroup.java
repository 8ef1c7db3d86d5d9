package io.podcapture.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A memory cgroup of its own for the agent and its tcpdumps, to read what a container's memory
 * limit counts: anonymous memory, kernel memory charged to the group and the page cache it brought
 * in (VmRSS counts shared library pages in every process, and does not count what the group's page
 * cache holds). cgroup v1 or v2.
 */
final class MemoryCgroup implements AutoCloseable {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private final Path dir;
  private final String usageFile;
  private final String peakFile;

  private MemoryCgroup(Path dir, String usageFile, String peakFile) {
    this.dir = dir;
    this.usageFile = usageFile;
    this.peakFile = peakFile;
  }

  /** A new group, or empty where this machine has no memory cgroup to make one in. */
  static Optional<MemoryCgroup> create() {
    String name =
        "podcapture-bench-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    try {
      Path v1 = Path.of("/sys/fs/cgroup/memory");
      if (Files.isDirectory(v1) && Files.exists(v1.resolve("memory.usage_in_bytes"))) {
        Path dir = Files.createDirectory(v1.resolve(name));
        return Optional.of(
            new MemoryCgroup(dir, "memory.usage_in_bytes", "memory.max_usage_in_bytes"));
      }
      Path v2 = Path.of("/sys/fs/cgroup");
      if (Files.exists(v2.resolve("cgroup.subtree_control"))
          && Files.readString(v2.resolve("cgroup.subtree_control")).contains("memory")) {
        Path dir = Files.createDirectory(v2.resolve(name));
        return Optional.of(new MemoryCgroup(dir, "memory.current", "memory.peak"));
      }
    } catch (IOException | RuntimeException e) {
      // no cgroup to measure in: the numbers are left out
    }
    return Optional.empty();
  }

  /** argv that joins this group and then becomes {@code argv} (same pid). */
  List<String> wrap(List<String> argv) {
    List<String> out =
        new ArrayList<>(
            List.of(
                "sh",
                "-c",
                "echo $$ > '" + dir.resolve("cgroup.procs") + "' && exec \"$@\"",
                "sh"));
    out.addAll(argv);
    return out;
  }

  long usageKiB() {
    return read(usageFile);
  }

  /** The highest usage since the group was made (-1 where the kernel does not keep it). */
  long peakKiB() {
    return read(peakFile);
  }

  private long read(String file) {
    try {
      return Long.parseLong(Files.readString(dir.resolve(file)).strip()) / 1024;
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /** Removes the group once its processes are gone. */
  @Override
  public void close() {
    for (int i = 0; i < 50; i++) {
      try {
        Files.deleteIfExists(dir);
        return;
      } catch (IOException e) {
        AgentProcess.sleepMillis(100); // its last process is still exiting
      }
    }
  }
}
