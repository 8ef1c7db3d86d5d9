package io.podcapture.clusterwide;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which nodes a node agent serves, from the agents' Pods: a node has an agent while such a Pod is
 * bound to it and not being deleted. A node whose last agent Pod went less than {@link #GRACE} ago
 * still counts as served: the DaemonSet replaces its Pod on a rolling update, and the controller
 * must not write "no agent" over the status of a capture the new agent is about to take up again.
 * Pure and thread-safe; the clock is the caller's.
 */
final class AgentNodes {
  /** How long a node counts as served after its last agent Pod went. */
  static final Duration GRACE = Duration.ofSeconds(20);

  private final Clock clock;

  /** Each agent Pod (namespace/name) and its node. */
  private final Map<String, String> pods = new HashMap<>();

  /** Agent Pods per node. */
  private final Map<String, Integer> perNode = new HashMap<>();

  /** When each node's last agent Pod went (removed once an agent is back). */
  private final Map<String, Instant> departed = new HashMap<>();

  AgentNodes(Clock clock) {
    this.clock = clock;
  }

  /**
   * An agent Pod was added or changed: {@code node} is its node, or null when it is unscheduled or
   * being deleted. Returns the nodes whose presence changed.
   */
  synchronized Set<String> update(String pod, String node) {
    Set<String> changed = new TreeSet<>();
    String before = pods.get(pod);
    if (before != null && before.equals(node)) {
      return changed;
    }
    if (before != null) {
      pods.remove(pod);
      if (decrement(before)) {
        changed.add(before);
      }
    }
    if (node != null && !node.isEmpty()) {
      pods.put(pod, node);
      if (perNode.merge(node, 1, Integer::sum) == 1) {
        departed.remove(node);
        changed.add(node);
      }
    }
    return changed;
  }

  /** An agent Pod is gone. Returns the nodes whose presence changed. */
  synchronized Set<String> remove(String pod) {
    return update(pod, null);
  }

  /** True when this was the node's last agent Pod. */
  private boolean decrement(String node) {
    int left = perNode.merge(node, -1, Integer::sum);
    if (left <= 0) {
      perNode.remove(node);
      departed.put(node, clock.instant());
      return true;
    }
    return false;
  }

  /** Whether an agent serves {@code node} now (or its last one went less than GRACE ago). */
  synchronized boolean serves(String node) {
    if (perNode.containsKey(node)) {
      return true;
    }
    Instant gone = departed.get(node);
    return gone != null && gone.plus(GRACE).isAfter(clock.instant());
  }

  /** Nodes with an agent Pod now (the grace not counted). */
  synchronized int nodes() {
    return perNode.size();
  }
}
