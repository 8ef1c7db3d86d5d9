package io.podcapture.clusterwide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which nodes have an agent, with a controllable clock for the grace after an agent goes. */
class AgentNodesTest {
  private Instant now = Instant.parse("2026-12-05T07:00:00Z");
  private final AgentNodes nodes =
      new AgentNodes(
          new Clock() {
            @Override
            public ZoneOffset getZone() {
              return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
              return this;
            }

            @Override
            public Instant instant() {
              return now;
            }
          });

  @Test
  void aNodeNeverSeenWithAnAgentIsNotServed() {
    assertFalse(nodes.serves("node-a"));
    assertEquals(0, nodes.nodes());
  }

  @Test
  void anAgentPodServesItsNodeAndItsDepartureIsReported() {
    assertEquals(Set.of("node-a"), nodes.update("kube-system/agent-1", "node-a"));
    assertTrue(nodes.serves("node-a"));
    assertEquals(Set.of(), nodes.update("kube-system/agent-1", "node-a"), "no change");
    assertEquals(Set.of("node-a"), nodes.remove("kube-system/agent-1"));
    assertEquals(0, nodes.nodes());
  }

  @Test
  void aNodeStaysServedForTheGraceAfterItsLastAgentWent() {
    nodes.update("kube-system/agent-1", "node-a");
    nodes.remove("kube-system/agent-1");
    assertTrue(nodes.serves("node-a"), "a rolling update replaces the agent");
    now = now.plus(AgentNodes.GRACE).minusMillis(1);
    assertTrue(nodes.serves("node-a"));
    now = now.plusMillis(1);
    assertFalse(nodes.serves("node-a"));
  }

  @Test
  void aNodeWithTwoAgentPodsKeepsItsAgentWhenOneGoes() {
    nodes.update("kube-system/agent-old", "node-a");
    assertEquals(Set.of(), nodes.update("kube-system/agent-new", "node-a"));
    assertEquals(Set.of(), nodes.remove("kube-system/agent-old"));
    now = now.plus(Duration.ofMinutes(5));
    assertTrue(nodes.serves("node-a"));
    assertEquals(1, nodes.nodes());
  }

  @Test
  void anAgentPodBeingDeletedNoLongerServes() {
    nodes.update("kube-system/agent-1", "node-a");
    // onUpdate with a deletionTimestamp: AgentPresence passes null as its node.
    assertEquals(Set.of("node-a"), nodes.update("kube-system/agent-1", null));
    now = now.plus(AgentNodes.GRACE);
    assertFalse(nodes.serves("node-a"));
  }

  @Test
  void anAgentBackOnItsNodeEndsTheGrace() {
    nodes.update("kube-system/agent-1", "node-a");
    nodes.remove("kube-system/agent-1");
    assertEquals(Set.of("node-a"), nodes.update("kube-system/agent-2", "node-a"));
    now = now.plus(Duration.ofMinutes(5));
    assertTrue(nodes.serves("node-a"));
  }
}
