package io.podcapture.controller;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * UIDs of PodCaptures this agent deleted itself (because the annotation or the Pod went). Such a
 * deletion is not a user's "stop this capture": an annotation added again meanwhile must stay and
 * start a new capture, not be removed. Entries outlive the object for a while, because a pass may
 * still see it in a lagging cache.
 */
final class AgentDeletions {
  private static final Duration MEMORY = Duration.ofMinutes(10);
  private final Map<String, Instant> uids = new ConcurrentHashMap<>();
  private final Clock clock;

  AgentDeletions(Clock clock) {
    this.clock = clock;
  }

  /** Called before the delete request: its finalizer pass may run before the request returns. */
  void mark(String uid) {
    Instant now = clock.instant();
    uids.values().removeIf(at -> at.plus(MEMORY).isBefore(now));
    uids.put(uid, now);
  }

  void unmark(String uid) {
    uids.remove(uid);
  }

  boolean contains(String uid) {
    return uid != null && uids.containsKey(uid);
  }
}
