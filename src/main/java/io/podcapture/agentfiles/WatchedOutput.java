package io.podcapture.agentfiles;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The response body, noting when a write (or flush) began and has not yet returned, so the watchdog
 * can end a request whose reader stopped reading: its writes block once the socket's buffers are
 * full, and would hold a thread and a slot for as long as the reader likes.
 */
final class WatchedOutput extends FilterOutputStream {
  /** System.nanoTime() when the write in progress began, or 0 when none is. */
  private volatile long writingSince;

  WatchedOutput(OutputStream out) {
    super(out);
  }

  /** How long the write in progress has been blocked, in nanoseconds; 0 when none is. */
  long blockedNanos(long now) {
    long since = writingSince;
    return since == 0 ? 0 : now - since;
  }

  private void begin() {
    long now = System.nanoTime();
    writingSince = now == 0 ? 1 : now;
  }

  @Override
  public void write(int b) throws IOException {
    begin();
    try {
      out.write(b);
    } finally {
      writingSince = 0;
    }
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    begin();
    try {
      out.write(b, off, len);
    } finally {
      writingSince = 0;
    }
  }

  @Override
  public void flush() throws IOException {
    begin();
    try {
      out.flush();
    } finally {
      writingSince = 0;
    }
  }
}
