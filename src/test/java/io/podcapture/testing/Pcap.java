package io.podcapture.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/** Reads capture files back with {@code tcpdump -r}, and finds the tcpdump processes a test started. */
public final class Pcap {

  private Pcap() {
  }

  /** The packets in {@code file}, one line each as {@code tcpdump -r <file> -n} prints them. */
  public static List<String> packets(Path file) {
    Command.Result result = Command.run("tcpdump", "-r", file.toString(), "-n");
    List<String> lines = new ArrayList<>();
    for (String line : result.output().split("\n")) {
      // packet lines start with their time stamp; the rest are tcpdump's notes and warnings
      if (!line.isEmpty() && Character.isDigit(line.charAt(0))) {
        lines.add(line);
      }
    }
    return lines;
  }

  /** The packets of all {@code files}. */
  public static List<String> packets(List<Path> files) {
    List<String> lines = new ArrayList<>();
    files.forEach(file -> lines.addAll(packets(file)));
    return lines;
  }

  /**
   * Pids of live processes whose argv names a path inside {@code dir}: the tcpdumps writing there, found
   * without looking at anyone else's tcpdump.
   */
  public static List<Long> processesWritingInto(Path dir) {
    String prefix = dir.toAbsolutePath().normalize() + "/";
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : (Iterable<Path>) procs::iterator) {
        String name = proc.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          String stat = Files.readString(proc.resolve("stat"));
          if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
            continue;
          }
          String[] argv = new String(Files.readAllBytes(proc.resolve("cmdline"))).split("\0");
          if (Arrays.stream(argv).anyMatch(arg -> arg.startsWith(prefix))) {
            pids.add(Long.parseLong(name));
          }
        } catch (IOException | RuntimeException e) {
          // gone meanwhile
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pids;
  }

  /** Whether {@code pid} is a live process (a zombie counts as gone). */
  public static boolean alive(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return false;
    }
  }
}
