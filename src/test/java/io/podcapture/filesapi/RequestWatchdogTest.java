package io.podcapture.filesapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RequestWatchdogTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final RequestWatchdog watchdog =
      new RequestWatchdog(Duration.ofSeconds(3600), Duration.ofSeconds(60), now::get);

  private static long seconds(long s) {
    return TimeUnit.SECONDS.toNanos(s);
  }

  @Test
  void aWriteBlockedLongerThanTheStallLimitEndsTheRequest() throws Exception {
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      try (SocketChannel writer = SocketChannel.open(listener.getLocalAddress());
          SocketChannel reader = listener.accept()) {
        AtomicBoolean upstreamClosed = new AtomicBoolean();
        CompletableFuture<RequestWatchdog.Guard> guardOf = new CompletableFuture<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Thread request =
            new Thread(
                () -> {
                  try (RequestWatchdog.Guard guard = watchdog.start("GET /stream")) {
                    guard.upstream((Closeable) () -> upstreamClosed.set(true));
                    guardOf.complete(guard);
                    OutputStream out = guard.watch(Channels.newOutputStream(writer));
                    byte[] chunk = new byte[64 * 1024];
                    while (true) {
                      out.write(chunk); // the reader never reads: this blocks once buffers fill
                    }
                  } catch (IOException e) {
                    ended.complete(e);
                  }
                });
        request.start();
        guardOf.get(5, TimeUnit.SECONDS);
        Thread.sleep(500); // until the socket buffers are full and the write blocks
        now.addAndGet(seconds(59));
        watchdog.check();
        assertFalse(ended.isDone());
        now.addAndGet(seconds(2));
        watchdog.check();
        assertInstanceOf(ClosedByInterruptException.class, ended.get(5, TimeUnit.SECONDS));
        assertTrue(upstreamClosed.get());
        request.join(5_000);
        assertEquals(0, watchdog.running());
        assertTrue(reader.isOpen());
      }
    }
  }

  @Test
  void aRequestPastItsDeadlineIsEndedEvenWhileWriting() throws Exception {
    RequestWatchdog shortLived =
        new RequestWatchdog(Duration.ofSeconds(10), Duration.ofSeconds(60), now::get);
    AtomicBoolean upstreamClosed = new AtomicBoolean();
    CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
    CompletableFuture<Void> registered = new CompletableFuture<>();
    Thread request =
        new Thread(
            () -> {
              try (RequestWatchdog.Guard guard = shortLived.start("GET /merged")) {
                guard.upstream((Closeable) () -> upstreamClosed.set(true));
                registered.complete(null);
                Thread.sleep(10_000);
                interrupted.complete(false);
              } catch (InterruptedException e) {
                interrupted.complete(true);
              }
            });
    request.start();
    registered.get(5, TimeUnit.SECONDS);
    now.addAndGet(seconds(9));
    shortLived.check();
    assertFalse(interrupted.isDone());
    now.addAndGet(seconds(2));
    shortLived.check();
    assertTrue(interrupted.get(5, TimeUnit.SECONDS));
    assertTrue(upstreamClosed.get());
  }

  @Test
  void aFinishedRequestIsNeverInterrupted() {
    RequestWatchdog.Guard guard = watchdog.start("GET /x");
    guard.close();
    now.addAndGet(seconds(7200));
    watchdog.check();
    assertFalse(Thread.currentThread().isInterrupted());
    assertEquals(0, watchdog.running());
  }
}
