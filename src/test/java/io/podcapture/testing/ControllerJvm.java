package io.podcapture.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One replica of the cluster controller ({@code PODCAPTURE_MODE=controller}) as a real JVM running
 * the built jar, talking to the API server through its own {@link CountingApiProxy} (so a test
 * reads every request it made), as {@link ControlPlane#startController} starts it. {@link #stop()}
 * is the kubelet's SIGTERM, {@link #kill()} a crash.
 */
public final class ControllerJvm implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Path log;
  private final CountingApiProxy proxy;

  ControllerJvm(String name, Process process, Path log, CountingApiProxy proxy) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.proxy = proxy;
  }

  /** Its Pod's name: its identity in the Lease. */
  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** What it asked the API server, request by request. */
  public CountingApiProxy proxy() {
    return proxy;
  }

  /** SIGTERM, as the kubelet stops a Pod; returns the exit code. */
  public int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      kill();
      throw new IllegalStateException(name + " did not stop within 30 s of SIGTERM:\n" + log());
    }
    return process.exitValue();
  }

  /** SIGKILL, as an OOM kill or a node's crash leaves things: the Lease is not released. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** Waits until the log holds {@code text}; false if it does not within {@code atMost}. */
  public boolean awaitLog(String text, Duration atMost) throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!log().contains(text)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** SIGTERM if it still runs (giving the Lease back), then closes its proxy. */
  @Override
  public void close() throws InterruptedException {
    try {
      if (process.isAlive()) {
        stop();
      }
    } finally {
      proxy.close();
    }
  }
}
