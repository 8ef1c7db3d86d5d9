package io.podcapture.filesapi;

import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends requests that last too long or whose reader stopped reading: past the deadline, or with a
 * write blocked for longer than the stall limit, the request's upstream streams (the agent's) are
 * closed and its thread interrupted. The server's socket is an interruptible channel: a thread
 * blocked writing to it gets a ClosedByInterruptException and the connection is closed, which is
 * the only way to free a thread stuck in a write to a reader that went away without closing.
 */
final class RequestWatchdog {
  private static final Logger LOG = LoggerFactory.getLogger(RequestWatchdog.class);

  private final Duration maxRequest;
  private final Duration maxStall;
  private final LongSupplier nanoTime;
  private final Set<Guard> running = ConcurrentHashMap.newKeySet();

  RequestWatchdog(Duration maxRequest, Duration maxStall, LongSupplier nanoTime) {
    this.maxRequest = maxRequest;
    this.maxStall = maxStall;
    this.nanoTime = nanoTime;
  }

  /** Watches the calling thread's request until the guard is closed. */
  Guard start(String what) {
    Guard guard = new Guard(Thread.currentThread(), what, nanoTime.getAsLong());
    running.add(guard);
    return guard;
  }

  /** One pass over the running requests (every second). */
  void check() {
    long now = nanoTime.getAsLong();
    for (Guard guard : running) {
      long writing = guard.writeStarted;
      if (now - guard.started > maxRequest.toNanos()) {
        guard.abort("it lasted longer than " + maxRequest.toSeconds() + " s");
      } else if (writing != 0 && now - writing > maxStall.toNanos()) {
        guard.abort("its reader took nothing for " + maxStall.toSeconds() + " s");
      }
    }
  }

  int running() {
    return running.size();
  }

  /** The watch over one request. */
  final class Guard implements AutoCloseable {
    private final Thread thread;
    private final String what;
    private final long started;
    private final List<Closeable> upstreams = new CopyOnWriteArrayList<>();
    private volatile long writeStarted;
    private boolean done;
    private volatile boolean aborted;

    private Guard(Thread thread, String what, long started) {
      this.thread = thread;
      this.what = what;
      this.started = started;
    }

    /** Closed when the request is ended from outside. */
    void upstream(Closeable stream) {
      upstreams.add(stream);
      if (aborted) {
        closeQuietly(stream);
      }
    }

    boolean aborted() {
      return aborted;
    }

    /** The response body, its writes timed. */
    OutputStream watch(OutputStream out) {
      return new FilterOutputStream(out) {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          writeStarted = Math.max(1, nanoTime.getAsLong());
          try {
            out.write(b, off, len);
          } finally {
            writeStarted = 0;
          }
        }

        @Override
        public void flush() throws IOException {
          writeStarted = Math.max(1, nanoTime.getAsLong());
          try {
            out.flush();
          } finally {
            writeStarted = 0;
          }
        }
      };
    }

    private void abort(String why) {
      synchronized (this) {
        if (done || aborted) {
          return;
        }
        aborted = true;
        LOG.info("files API: ending {}: {}", what, why);
        upstreams.forEach(RequestWatchdog::closeQuietly);
        thread.interrupt();
      }
    }

    /** The request is over: no interrupt after this returns, and none left pending. */
    @Override
    public void close() {
      synchronized (this) {
        done = true;
      }
      running.remove(this);
      upstreams.forEach(RequestWatchdog::closeQuietly);
      // An interrupt meant for this request must not hit the pool thread's next one.
      Thread.interrupted();
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      // already broken: nothing to add
    }
  }
}
