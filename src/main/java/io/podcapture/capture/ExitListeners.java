package io.podcapture.capture;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners told when a capture's tcpdump ended without being stopped, one exit at a time, on
 * their own thread: never on the caller's thread or under a capture's lock.
 */
final class ExitListeners {
  private static final Logger log = LoggerFactory.getLogger(ExitListeners.class);

  private final List<Consumer<CaptureKey>> listeners = new CopyOnWriteArrayList<>();

  /**
   * Its one thread ends when idle, so it needs no shutdown (and a late exit after close is never
   * rejected).
   */
  private final Executor notifier =
      new ThreadPoolExecutor(
          0,
          1,
          1,
          TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(),
          runnable -> {
            Thread thread = new Thread(runnable, "capture-exit-listeners");
            thread.setDaemon(true);
            return thread;
          });

  void add(Consumer<CaptureKey> listener) {
    listeners.add(listener);
  }

  /** The executor the listeners are told on. */
  Executor executor() {
    return notifier;
  }

  /** Tells the listeners, later, on their thread. */
  void tellLater(CaptureKey key) {
    notifier.execute(() -> tell(key));
  }

  /** Tells the listeners now; call on {@link #executor()}. */
  void tell(CaptureKey key) {
    for (Consumer<CaptureKey> listener : listeners) {
      try {
        listener.accept(key);
      } catch (RuntimeException e) {
        log.warn("unexpected-exit listener failed for {}", key, e);
      }
    }
  }
}
