package io.podcapture.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads capture files back with {@code tcpdump -r}, and lists a capture folder. */
public final class Pcap {

  private Pcap() {}

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
   * Every regular file below {@code dir}, as paths relative to it (empty if there is no such
   * folder).
   */
  public static List<String> files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
