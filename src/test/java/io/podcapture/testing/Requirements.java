package io.podcapture.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What real-capture tests need (root, tcpdump, ip, ping). Unmet, a test is skipped with a printed
 * reason, except under CI ({@code CI=true}), where a skipped real test would hide a broken build:
 * there it fails.
 */
public final class Requirements {

  private Requirements() {}

  /** Root plus tcpdump, ip and ping on PATH: enough for {@link NetnsPod} and real captures. */
  public static void realCapture() {
    List<String> missing = new ArrayList<>();
    if (!isRoot()) {
      missing.add("root (real captures and network namespaces need it)");
    }
    for (String command : List.of("tcpdump", "ip", "ping")) {
      if (!onPath(command)) {
        missing.add(command + " on PATH");
      }
    }
    unmetIf(missing);
  }

  /** Further commands on PATH, e.g. setpriv. */
  public static void commands(String... commands) {
    List<String> missing = new ArrayList<>();
    for (String command : commands) {
      if (!onPath(command)) {
        missing.add(command + " on PATH");
      }
    }
    unmetIf(missing);
  }

  public static boolean underCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  private static void unmetIf(List<String> missing) {
    if (missing.isEmpty()) {
      return;
    }
    String reason = "missing " + String.join(", ", missing);
    if (underCi()) {
      Assertions.fail("test cannot run under CI=true: " + reason);
    }
    System.err.println("SKIPPED test: " + reason);
    Assumptions.abort(reason);
  }

  public static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          // real, effective, saved, fs: the effective uid decides
          return line.split("\\s+")[2].equals("0");
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  public static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
