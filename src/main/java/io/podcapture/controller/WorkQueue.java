package io.podcapture.controller;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A de-duplicating work queue with per-key exponential backoff, after client-go's. A key is held at
 * most once while waiting, and never handed to two workers at a time: a key added while it is being
 * processed is queued again when its worker calls {@link #done}.
 */
public final class WorkQueue<K> implements AutoCloseable {
  private final Deque<K> queue = new ArrayDeque<>();
  private final Set<K> dirty = new HashSet<>();
  private final Set<K> processing = new HashSet<>();
  private final Map<K, Integer> failures = new HashMap<>();
  private final Map<K, Delayed> delayed = new HashMap<>();
  private final ScheduledExecutorService timer;
  private final long baseDelayMillis;
  private final long maxDelayMillis;
  private boolean shutdown;

  private record Delayed(long dueMillis, ScheduledFuture<?> future) {}

  public WorkQueue(Duration baseDelay, Duration maxDelay) {
    this.baseDelayMillis = baseDelay.toMillis();
    this.maxDelayMillis = maxDelay.toMillis();
    ScheduledThreadPoolExecutor delays =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "workqueue-timer");
              t.setDaemon(true);
              return t;
            });
    // Started now rather than at the first delay: the agent's thread count is then the same idle
    // and busy, apart from one process reaper per running tcpdump.
    delays.prestartAllCoreThreads();
    this.timer = delays;
  }

  /** Queues the key now unless it is already waiting. */
  public synchronized void add(K key) {
    if (shutdown || !dirty.add(key)) {
      return;
    }
    if (!processing.contains(key)) {
      queue.addLast(key);
      notifyAll();
    }
  }

  /**
   * Queues the key after a delay; of several pending delays for one key only the earliest is kept.
   */
  public synchronized void addAfter(K key, Duration delay) {
    if (shutdown) {
      return;
    }
    long millis = delay.toMillis();
    if (millis <= 0) {
      add(key);
      return;
    }
    long due = System.currentTimeMillis() + millis;
    Delayed pending = delayed.get(key);
    if (pending != null) {
      if (pending.dueMillis() <= due) {
        return;
      }
      pending.future().cancel(false);
    }
    ScheduledFuture<?> future = timer.schedule(() -> fire(key, due), millis, TimeUnit.MILLISECONDS);
    delayed.put(key, new Delayed(due, future));
  }

  private synchronized void fire(K key, long due) {
    Delayed pending = delayed.get(key);
    if (pending != null && pending.dueMillis() == due) {
      delayed.remove(key);
    }
    add(key);
  }

  /** Queues the key again after its next backoff delay: base * 2^(failures-1), capped. */
  public void addRateLimited(K key) {
    addAfter(key, nextBackoff(key));
  }

  /** Counts a failure for the key and returns the delay before its next try. */
  public synchronized Duration nextBackoff(K key) {
    int n = failures.merge(key, 1, Integer::sum);
    long delay = baseDelayMillis << Math.min(n - 1, 30);
    return Duration.ofMillis(Math.min(delay < 0 ? maxDelayMillis : delay, maxDelayMillis));
  }

  /** Clears the key's failure count after a successful pass. */
  public synchronized void forget(K key) {
    failures.remove(key);
  }

  /**
   * Blocks until a key is ready and marks it as being processed; returns null once the queue is
   * shut down.
   */
  public synchronized K take() throws InterruptedException {
    while (queue.isEmpty() && !shutdown) {
      wait();
    }
    if (shutdown) {
      return null;
    }
    K key = queue.pollFirst();
    processing.add(key);
    dirty.remove(key);
    return key;
  }

  /** Ends processing of a key, queueing it again if it was added meanwhile. */
  public synchronized void done(K key) {
    processing.remove(key);
    if (dirty.contains(key) && !shutdown) {
      queue.addLast(key);
      notifyAll();
    }
  }

  /** Keys waiting to be processed now (not counting delayed ones). */
  public synchronized int depth() {
    return queue.size();
  }

  @Override
  public synchronized void close() {
    shutdown = true;
    timer.shutdownNow();
    notifyAll();
  }
}
