package io.podcapture.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command (argv, no shell) to its end and returns its exit code and output (stdout and
 * stderr).
 */
public final class Command {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** The outcome of a command. */
  public record Result(List<String> argv, int exitCode, String output) {

    /** This result, or an exception with the output if the command failed. */
    public Result orThrow() {
      if (exitCode != 0) {
        throw new IllegalStateException(
            String.join(" ", argv) + " exited with " + exitCode + ": " + output);
      }
      return this;
    }

    public boolean ok() {
      return exitCode == 0;
    }
  }

  private Command() {}

  public static Result run(String... argv) {
    return run(DEFAULT_TIMEOUT, List.of(argv));
  }

  public static Result run(List<String> argv) {
    return run(DEFAULT_TIMEOUT, argv);
  }

  /** Runs {@code argv}; after {@code timeout} it is killed and the result has exit code -1. */
  public static Result run(Duration timeout, List<String> argv) {
    Process process;
    try {
      process =
          new ProcessBuilder(argv)
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + argv, e);
    }
    CompletableFuture<String> output =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                return "(output not read: " + e + ")";
              }
            });
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        return new Result(
            List.copyOf(argv), -1, "timed out after " + timeout + ": " + output.getNow(""));
      }
      return new Result(List.copyOf(argv), process.exitValue(), output.get(5, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + argv, e);
    } catch (Exception e) {
      return new Result(List.copyOf(argv), process.exitValue(), "(output not read: " + e + ")");
    }
  }
}
