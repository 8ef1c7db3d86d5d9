package io.podcapture.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The tests' one reader of {@code /proc/<pid>/...}, for processes a test started or found writing
 * into its own folder. A process that ended reads as empty: tests poll, and a vanished process is
 * an answer, not an error.
 */
public final class Processes {
  private Processes() {}

  /** {@code /proc/<pid>/cmdline} split into its arguments; empty if the process is gone. */
  public static List<String> argv(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      return raw.length == 0
          ? List.of()
          : Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
    } catch (IOException e) {
      return List.of();
    }
  }

  /** {@code /proc/<pid>/comm}, the executable's short name; empty if the process is gone. */
  public static String comm(long pid) {
    return read(pid, "comm").strip();
  }

  /**
   * One field of {@code /proc/<pid>/status} (e.g. {@code CapEff}), without its name; null if
   * absent.
   */
  public static String statusField(long pid, String field) {
    return statusField(pid, field, "status");
  }

  /**
   * One {@code Name: value} field of {@code /proc/<pid>/<file>} (status, smaps_rollup); null if
   * absent.
   */
  public static String statusField(long pid, String field, String file) {
    return read(pid, file)
        .lines()
        .filter(l -> l.startsWith(field + ":"))
        .map(l -> l.substring(field.length() + 1).strip())
        .findFirst()
        .orElse(null);
  }

  /** {@code /proc/<pid>/<file>} as text; empty if the process is gone. */
  public static String read(long pid, String file) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), file));
    } catch (IOException e) {
      return "";
    }
  }

  /** Every pid now in {@code /proc}. */
  public static List<Long> all() {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs
          .map(p -> p.getFileName().toString())
          .filter(n -> n.chars().allMatch(Character::isDigit))
          .map(Long::parseLong)
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * Pids of live processes whose argv names a path inside {@code dir}: the tcpdumps writing there,
   * found without looking at anyone else's tcpdump.
   */
  public static List<Long> writingInto(Path dir) {
    String prefix = dir.toAbsolutePath().normalize() + "/";
    return all().stream()
        .filter(Processes::alive)
        .filter(pid -> argv(pid).stream().anyMatch(arg -> arg.startsWith(prefix)))
        .toList();
  }

  /** Whether {@code pid} is a live process (a zombie counts as gone). */
  public static boolean alive(long pid) {
    List<String> stat = stat(pid);
    return !stat.isEmpty() && !stat.get(0).equals("Z");
  }

  /**
   * The fields of {@code /proc/<pid>/stat} after the command name (state, ppid, pgrp, ...); empty
   * if the process is gone. The name is skipped because it may itself hold spaces and parentheses.
   */
  public static List<String> stat(long pid) {
    String stat = read(pid, "stat");
    return stat.isEmpty()
        ? List.of()
        : List.of(stat.substring(stat.lastIndexOf(')') + 2).split(" "));
  }

  /** Live processes whose process group is {@code pgid}. */
  public static List<Long> inGroup(long pgid) {
    return all().stream()
        .filter(
            pid -> {
              List<String> stat = stat(pid);
              return stat.size() > 2
                  && !stat.get(0).equals("Z")
                  && Long.parseLong(stat.get(2)) == pgid;
            })
        .toList();
  }

  /** Live processes with {@code argument} among their argv. */
  public static List<Long> withArgument(String argument) {
    return all().stream().filter(pid -> argv(pid).contains(argument) && alive(pid)).toList();
  }

  /**
   * SIGKILLs every process writing below {@code dir} (test clean-up: only the tcpdumps this test
   * started).
   */
  public static void killWritingInto(Path dir) {
    writingInto(dir).forEach(Processes::kill9);
  }

  /** SIGKILL, as the kernel's OOM killer or {@code kill -9} sends it. */
  public static void kill9(long pid) {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
  }
}
