package io.podcapture.capture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The pid of a capture's tcpdump and its start time (clock ticks since boot, field 22 of {@code
 * /proc/<pid>/stat}), saved on disk so that an agent restarted after a crash can stop the tcpdump
 * it left behind. The start time tells a live tcpdump from a recycled pid, which must never be
 * signalled.
 */
record PidFile(long pid, long startTicks) {

  /** The pid file of a running process, or empty if it has already gone. */
  static Optional<PidFile> of(long pid) {
    OptionalLong ticks = startTicks(pid);
    return ticks.isPresent() ? Optional.of(new PidFile(pid, ticks.getAsLong())) : Optional.empty();
  }

  /** Reads a pid file; empty if it is absent or not in our format (a torn write, say). */
  static Optional<PidFile> read(Path file) {
    try {
      String[] words = Files.readString(file, StandardCharsets.US_ASCII).trim().split(" ", -1);
      if (words.length != 2) {
        return Optional.empty();
      }
      return Optional.of(new PidFile(Long.parseLong(words[0]), Long.parseLong(words[1])));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  void write(Path file) throws IOException {
    Files.writeString(file, pid + " " + startTicks + "\n", StandardCharsets.US_ASCII);
  }

  /**
   * Whether this pid still is the process that was saved (same start time) and that process writes
   * {@code ringBase} (its argv holds that path), i.e. it is the capture's tcpdump and may be
   * stopped.
   */
  boolean isTcpdumpWriting(Path ringBase) {
    OptionalLong now = startTicks(pid);
    return now.isPresent()
        && now.getAsLong() == startTicks
        && commandLine(pid).contains(ringBase.toString());
  }

  /** Start time of {@code pid} in clock ticks since boot, or empty if there is no such process. */
  static OptionalLong startTicks(long pid) {
    try {
      String stat =
          Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
      // the command name (field 2) is in parentheses and may itself hold spaces and ')'
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
      // fields[0] is field 3 (state), so field 22 (starttime) is fields[19]
      return OptionalLong.of(Long.parseLong(fields[19]));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** The argv of {@code pid}, empty if there is no such process. */
  static List<String> commandLine(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      return Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
    } catch (IOException e) {
      return List.of();
    }
  }
}
