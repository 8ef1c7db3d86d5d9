package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkQueueTest {

  @Test
  void aKeyAddedTwiceIsQueuedOnce() throws Exception {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1))) {
      q.add("a");
      q.add("a");
      q.add("b");
      assertEquals(2, q.depth());
      assertEquals("a", q.take());
      assertEquals("b", q.take());
    }
  }

  @Test
  void aKeyAddedWhileProcessingIsQueuedAgainWhenDone() throws Exception {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1))) {
      q.add("a");
      String key = q.take();
      q.add("a");
      assertEquals(0, q.depth(), "not handed to a second worker while the first holds it");
      q.done(key);
      assertEquals(1, q.depth());
      assertEquals("a", q.take());
    }
  }

  @Test
  void backoffDoublesPerFailureUpToTheCapAndResetsOnForget() {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(100), Duration.ofMillis(1000))) {
      assertEquals(Duration.ofMillis(100), q.nextBackoff("a"));
      assertEquals(Duration.ofMillis(200), q.nextBackoff("a"));
      assertEquals(Duration.ofMillis(400), q.nextBackoff("a"));
      assertEquals(Duration.ofMillis(800), q.nextBackoff("a"));
      assertEquals(Duration.ofMillis(1000), q.nextBackoff("a"));
      assertEquals(Duration.ofMillis(1000), q.nextBackoff("a"));
      assertEquals(Duration.ofMillis(100), q.nextBackoff("b"), "per key");
      q.forget("a");
      assertEquals(Duration.ofMillis(100), q.nextBackoff("a"));
    }
  }

  @Test
  void delayedAddsArriveAfterTheirDelayAndOnlyTheEarliestIsKept() throws Exception {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1))) {
      long start = System.nanoTime();
      q.addAfter("a", Duration.ofMillis(300));
      q.addAfter("a", Duration.ofMillis(100));
      q.addAfter("a", Duration.ofMillis(200));
      assertEquals("a", q.take());
      long waited = Duration.ofNanos(System.nanoTime() - start).toMillis();
      assertTrue(waited >= 90, "waited " + waited + " ms");
      q.done("a");
      Thread.sleep(400);
      assertEquals(0, q.depth(), "the later delays were dropped");
    }
  }

  @Test
  void takeReturnsNullAfterClose() throws Exception {
    WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1));
    Thread closer =
        new Thread(
            () -> {
              try {
                Thread.sleep(100);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              q.close();
            });
    closer.start();
    assertNull(q.take());
    closer.join();
  }
}
