package io.podcapture.capture;

import static io.podcapture.capture.CaptureException.Reason.StorageFailed;
import static io.podcapture.capture.CaptureException.Reason.TcpdumpFailed;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tcpdump process: started and confirmed running, its stderr kept as a bounded tail, stopped
 * with SIGTERM and then SIGKILL, and always reaped.
 */
final class TcpdumpProcess {

  private static final Logger log = LoggerFactory.getLogger(TcpdumpProcess.class);

  /**
   * How often start looks for the first file; start latency is at most this above tcpdump's own.
   */
  private static final long POLL_MILLIS = 5;

  private static final int TAIL_LINES = 20;
  private static final int MAX_LINE = 500;

  /** How long to wait for stderr to be read to its end once the process has gone. */
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(1);

  private final Process process;
  private final String name;
  private final Instant startTime;
  private final Deque<String> tail = new ArrayDeque<>();
  private final InputStream stderr;

  /** The bytes of a line not yet ended by a newline. */
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

  private final CompletableFuture<TcpdumpProcess> exited = new CompletableFuture<>();
  private volatile boolean stopRequested;

  private TcpdumpProcess(Process process, String name) {
    this.process = process;
    this.name = name;
    this.startTime = Instant.now();
    this.stderr = process.getErrorStream();
    // No reader thread per tcpdump (a Java thread costs about 100 KB of resident stack, see
    // BENCHMARKS.md): tcpdump writes to stderr only when it starts, fails or ends, far less than a
    // pipe holds, so its stderr is read whenever the output is asked for (every status refresh) and
    // to its end once the process exits.
    CompletableFuture<Void> unused =
        process
            .onExit()
            .thenRun(
                () -> {
                  readStderr(true);
                  exited.complete(this);
                });
  }

  /**
   * Runs {@code argv} and returns once the process is alive and {@code firstFile} exists. The pid
   * file is written as soon as the process exists, so even an agent that crashes during the start
   * can find it. If the process exits first or the file does not appear within {@code timeout}, the
   * process is killed and reaped, the pid file deleted, and the start fails with tcpdump's own
   * error text; deleting a ring file it may have made is the caller's part.
   */
  static TcpdumpProcess start(
      List<String> argv, Path firstFile, Path pidFile, Duration timeout, String name)
      throws CaptureException {
    Process process;
    try {
      process =
          new ProcessBuilder(argv)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
    } catch (IOException e) {
      throw new CaptureException(
          TcpdumpFailed, "cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    }
    TcpdumpProcess tcpdump = new TcpdumpProcess(process, name);
    try {
      tcpdump.writePidFile(pidFile);
      tcpdump.awaitFirstFile(firstFile, timeout);
      return tcpdump;
    } catch (CaptureException | RuntimeException e) {
      tcpdump.stopRequested = true;
      process.destroyForcibly();
      deletePidFile(pidFile);
      throw e;
    }
  }

  private void writePidFile(Path pidFile) throws CaptureException {
    Optional<PidFile> pid = PidFile.of(process.pid());
    if (pid.isEmpty()) {
      // already gone: awaitFirstFile reports why
      return;
    }
    try {
      pid.get().write(pidFile);
    } catch (IOException e) {
      throw new CaptureException(StorageFailed, "cannot write " + pidFile + ": " + e, e);
    }
  }

  private static void deletePidFile(Path pidFile) {
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", pidFile, e.toString());
    }
  }

  private void awaitFirstFile(Path firstFile, Duration timeout) throws CaptureException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        if (Files.exists(firstFile, LinkOption.NOFOLLOW_LINKS)) {
          return;
        }
        if (!process.isAlive()) {
          awaitOutput();
          throw new CaptureException(
              TcpdumpFailed,
              "tcpdump " + CaptureSnapshot.describeExit(process.exitValue()) + ": " + errorText());
        }
        if (System.nanoTime() - deadline > 0) {
          kill();
          throw new CaptureException(
              TcpdumpFailed,
              "tcpdump did not create "
                  + firstFile.getFileName()
                  + " within "
                  + timeout.toMillis()
                  + " ms: "
                  + errorText());
        }
        // returns at once when the process exits, so a failing tcpdump is reported without delay
        process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      // no waiting when interrupted (the caller kills it and the JDK's reaper thread still reaps
      // it)
      Thread.currentThread().interrupt();
      throw new CaptureException(TcpdumpFailed, "interrupted while starting tcpdump", e);
    }
  }

  long pid() {
    return process.pid();
  }

  Instant startTime() {
    return startTime;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Whether {@link #stop} or {@link #requestStop} was called, so an exit is not a surprise. */
  boolean stopRequested() {
    return stopRequested;
  }

  /** The exit code once the process has gone, else null. */
  Integer exitCode() {
    return process.isAlive() ? null : process.exitValue();
  }

  /** The last lines tcpdump wrote to stderr, oldest first. */
  String lastOutput() {
    readStderr(false);
    synchronized (tail) {
      return String.join("\n", tail);
    }
  }

  /**
   * Completes (on the JDK's process reaper thread) once the process has exited and its stderr is
   * read.
   */
  CompletableFuture<TcpdumpProcess> exited() {
    return exited;
  }

  /** SIGTERM, up to {@code grace} to exit, then SIGKILL; returns once the process is reaped. */
  void stop(Duration grace) {
    requestStop();
    awaitStop(grace);
  }

  /** Sends SIGTERM without waiting, so several captures can be told to stop at once. */
  void requestStop() {
    stopRequested = true;
    process.destroy();
  }

  /** Waits up to {@code grace} after {@link #requestStop}, then SIGKILLs; returns once reaped. */
  void awaitStop(Duration grace) {
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn(
            "tcpdump {} (pid {}) still runs {} ms after SIGTERM, sending SIGKILL",
            name,
            pid(),
            grace.toMillis());
        kill();
      }
      awaitOutput();
    } catch (InterruptedException e) {
      // do not leave it running; the JDK's reaper thread still reaps it
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void kill() throws InterruptedException {
    stopRequested = true;
    process.destroyForcibly();
    // SIGKILL cannot be caught; waitFor returns once the JDK has reaped the child
    process.waitFor();
  }

  private void awaitOutput() throws InterruptedException {
    try {
      exited.get(DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.debug("stderr of tcpdump {} not read to its end", name, e);
    }
  }

  /** tcpdump's error text for a user: its stderr without the lines it prints on every start. */
  private String errorText() {
    readStderr(false);
    String text;
    synchronized (tail) {
      text =
          tail.stream()
              .filter(
                  line ->
                      !line.startsWith("tcpdump: data link type ")
                          && !line.startsWith("tcpdump: listening on "))
              .collect(Collectors.joining("\n"));
    }
    return text.isBlank() ? "(tcpdump printed nothing)" : text;
  }

  /**
   * Reads what tcpdump has written to stderr into the tail: what is there without blocking, or,
   * once the process has exited ({@code toEnd}), everything up to the end (the write end is closed
   * then, so this does not block).
   */
  private void readStderr(boolean toEnd) {
    synchronized (tail) {
      try {
        byte[] buffer = new byte[1024];
        while (true) {
          int ready = toEnd ? buffer.length : Math.min(stderr.available(), buffer.length);
          if (ready <= 0) {
            break;
          }
          int n = stderr.read(buffer, 0, ready);
          if (n < 0) {
            break;
          }
          for (int i = 0; i < n; i++) {
            if (buffer[i] == '\n') {
              endLine();
            } else if (partial.size() < MAX_LINE) {
              partial.write(buffer[i]);
            }
          }
        }
        if (toEnd) {
          endLine();
          stderr.close();
        }
      } catch (IOException e) {
        // closed: everything there was has been read
        log.debug("reading stderr of tcpdump {} failed", name, e);
      }
    }
  }

  private void endLine() {
    if (partial.size() > 0) {
      remember(partial.toString(StandardCharsets.UTF_8));
      partial.reset();
    }
  }

  private void remember(String line) {
    synchronized (tail) {
      if (tail.size() == TAIL_LINES) {
        tail.removeFirst();
      }
      tail.addLast(line);
    }
  }

  @Override
  public String toString() {
    return "tcpdump " + name + " (pid " + process.pid() + ")";
  }
}
