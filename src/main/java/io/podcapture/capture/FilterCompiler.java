package io.podcapture.capture;

import static io.podcapture.capture.CaptureException.Reason.InvalidFilter;
import static io.podcapture.capture.CaptureException.Reason.TcpdumpFailed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Compiles a filter expression with tcpdump itself ({@code tcpdump -d}) before any capture runs it,
 * so a filter that does not compile is refused with tcpdump's own words instead of a capture that
 * fails to start.
 *
 * <p>{@code tcpdump -d} needs a link type to compile for. The capture runs on {@code -i any},
 * LINUX_SLL2, and qualifiers such as {@code inbound} or {@code ifindex} compile for that link type
 * only. Opening {@code any} would need NET_RAW; reading a capture file does not: tcpdump gets
 * {@code -r -} and, on its stdin, the 24-byte header of an empty pcap file of link type LINUX_SLL2.
 * Same executable, launcher and {@code -Z root} as the capture (Debian's tcpdump would otherwise
 * switch to user tcpdump, which the bounded capabilities forbid), the expression after {@code --}
 * in an argv, never a shell.
 */
final class FilterCompiler {

  /**
   * pcap file header: magic (little-endian), version 2.4, zone 0, sigfigs 0, snaplen 262144,
   * LINUX_SLL2 (276).
   */
  private static final byte[] SLL2_PCAP_HEADER =
      HexFormat.of().parseHex("d4c3b2a10200040000000000000000000000040014010000");

  /** Long enough to recognise the problem; tcpdump's errors are one line. */
  private static final int MAX_ERROR = 300;

  private static final int MAX_STDERR = 16 * 1024;

  private final TcpdumpCommand command;
  private final Duration timeout;

  /** Set once a known-good expression compiled, so a failure after that is the filter's fault. */
  private volatile boolean works;

  FilterCompiler(TcpdumpCommand command, Duration timeout) {
    this.command = command;
    this.timeout = timeout;
  }

  /**
   * Compiles {@code userFilter} on its own, then {@code expression}, the complete filter that
   * carries it; refuses it with {@code InvalidFilter} and tcpdump's error text, or with {@code
   * TcpdumpFailed} when tcpdump cannot compile anything at all.
   */
  void check(String expression, UserFilter userFilter) throws CaptureException {
    if (!works) {
      Outcome selfCheck = compile("ip");
      if (selfCheck.exitCode() != 0) {
        throw new CaptureException(
            TcpdumpFailed,
            "cannot check filters: "
                + command.executable()
                + " -d "
                + (selfCheck.exitCode() < 0
                    ? "did not finish"
                    : "exited with code " + selfCheck.exitCode())
                + ": "
                + selfCheck.error());
      }
      works = true;
    }
    // On its own first: "icmp) or (ip" compiles inside "(<Pod filter>) and (...)" and would widen
    // the capture to the whole node; a filter that is a complete expression by itself cannot reach
    // outside its parentheses.
    Outcome outcome = compile(userFilter.text());
    if (outcome.exitCode() == 0) {
      outcome = compile(expression);
    }
    if (outcome.exitCode() < 0) {
      throw new CaptureException(
          InvalidFilter,
          "filter "
              + Quote.value(userFilter.text())
              + " did not compile within "
              + timeout.toMillis()
              + " ms (host names in a filter are looked up"
              + " on the node): "
              + outcome.error());
    }
    if (outcome.exitCode() != 0) {
      throw new CaptureException(
          InvalidFilter,
          "filter "
              + Quote.value(userFilter.text())
              + " does not compile: "
              + outcome.error()
              + "; accepted is a pcap-filter expression (man pcap-filter)");
    }
  }

  /** tcpdump's exit code (-1 when it did not finish in time) and error text. */
  private record Outcome(int exitCode, String error) {}

  private Outcome compile(String expression) throws CaptureException {
    Process process;
    try {
      process =
          new ProcessBuilder(command.compileArgv(expression))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
    } catch (IOException e) {
      throw new CaptureException(
          TcpdumpFailed, "cannot run " + command.executable() + ": " + e.getMessage(), e);
    }
    CompletableFuture<String> stderr =
        CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(SLL2_PCAP_HEADER);
    } catch (IOException e) {
      // tcpdump exited before reading its input: its exit code and stderr say why
    }
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        return new Outcome(-1, errorText(stderr.getNow("")));
      }
      return new Outcome(
          process.exitValue(), errorText(stderr.get(timeout.toMillis(), TimeUnit.MILLISECONDS)));
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CaptureException(TcpdumpFailed, "interrupted while checking the filter", e);
    } catch (Exception e) {
      return new Outcome(process.exitValue(), "(tcpdump's output not read: " + e + ")");
    }
  }

  private static String read(InputStream in) {
    try (in) {
      byte[] bytes = in.readNBytes(MAX_STDERR);
      in.transferTo(OutputStream.nullOutputStream());
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** tcpdump's stderr without what it prints on every run, on one line, cut. */
  static String errorText(String stderr) {
    List<String> lines = new ArrayList<>();
    for (String line : stderr.lines().toList()) {
      String trimmed = line.strip();
      if (!trimmed.isEmpty()
          && !trimmed.startsWith("reading from file")
          && !trimmed.startsWith("Warning: interface names might be incorrect")) {
        lines.add(trimmed);
      }
    }
    String text = lines.stream().collect(Collectors.joining("; "));
    if (text.isEmpty()) {
      return "(tcpdump printed nothing)";
    }
    StringBuilder clean = new StringBuilder();
    text.codePoints()
        .limit(MAX_ERROR)
        .forEach(c -> clean.append(c >= 0x20 && c < 0x7f ? (char) c : '?'));
    return text.length() > MAX_ERROR ? clean + "..." : clean.toString();
  }
}
