package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControlPlane.AgentIdentity;
import io.podcapture.testing.CountingApiProxy;
import io.podcapture.testing.CountingApiProxy.Seen;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.User;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents on two nodes against the real API server: each is sent only its own node's Pods and
 * PodCaptures (counted by a proxy in front of each), one of them holds the Lease and answers for
 * PodCaptures no node has taken on, and when it stops the other takes over.
 */
@Tag("cluster")
class TwoAgentsClusterTest {
  private static final String NS = "two";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static User user;
  private static final NetnsPod[] pods = new NetnsPod[2];
  private static final ClusterNode[] nodes = new ClusterNode[2];
  private static final CountingApiProxy[] proxies = new CountingApiProxy[2];

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    user = new User(plane.admin());
    plane.namespace(NS);
    String[] names = {"two-a", "two-b"};
    for (int i = 0; i < 2; i++) {
      pods[i] = NetnsPod.create();
      AgentIdentity identity = plane.agentIdentity(names[i], dir);
      proxies[i] = new CountingApiProxy(plane.apiServerUrl(), plane.caCert());
      Path kubeconfig =
          plane.writeKubeconfig(
              dir.resolve("proxied-" + names[i] + ".kubeconfig"),
              proxies[i].url(),
              identity.token());
      nodes[i] = ClusterNode.start(plane, identity, kubeconfig, dir);
      plane.runningPod(
          ControlPlane.boundPod(NS, "web-" + names[i], names[i]).build(), pods[i].ips());
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (int i = 0; i < 2; i++) {
      if (nodes[i] != null) {
        nodes[i].close();
      }
      if (proxies[i] != null) {
        proxies[i].close();
      }
      if (pods[i] != null) {
        pods[i].close();
      }
    }
  }

  @Test
  void eachAgentIsSentOnlyItsOwnNodesPodsAndPodCaptures() throws Exception {
    for (ClusterNode node : nodes) {
      user.annotate(NS, "web-" + node.name(), "1");
    }
    for (ClusterNode node : nodes) {
      PodCapture cr = user.awaitPhase(NS, "web-" + node.name(), "Running", WAIT);
      assertEquals(node.name(), cr.getStatus().getNode());
      await().atMost(WAIT).until(() -> !node.files(NS, "web-" + node.name()).isEmpty());
    }
    for (ClusterNode node : nodes) {
      user.removeAnnotation(NS, "web-" + node.name());
    }
    for (ClusterNode node : nodes) {
      await().atMost(WAIT).until(() -> user.cr(NS, "web-" + node.name()) == null);
    }

    for (int i = 0; i < 2; i++) {
      String own = nodes[i].name();
      String other = nodes[1 - i].name();
      List<Seen> seen = proxies[i].seen();
      Map<String, Long> counts =
          seen.stream()
              .collect(
                  Collectors.groupingBy(s -> s.resource() + " " + s.type(), Collectors.counting()));
      System.out.printf("agent on %s was sent: %s%n", own, counts);
      Set<String> podNodes =
          seen.stream()
              .filter(s -> s.resource().equals("pods"))
              .map(Seen::node)
              .collect(Collectors.toSet());
      assertEquals(Set.of(own), podNodes, "nodes of the Pods sent to the agent on " + own);
      // the elected agent also watches PodCaptures without a node label ("")
      Set<String> captureNodes =
          seen.stream()
              .filter(s -> s.resource().equals("podcaptures"))
              .map(Seen::node)
              .collect(Collectors.toSet());
      assertTrue(Set.of(own, "").containsAll(captureNodes), own + " was sent " + captureNodes);
      // its own capture came and went: added, updated (status), deleted
      Map<String, Long> ownCapture =
          seen.stream()
              .filter(
                  s -> s.resource().equals("podcaptures") && s.name().equals(NS + "/web-" + own))
              .collect(Collectors.groupingBy(Seen::type, Collectors.counting()));
      assertTrue(
          ownCapture.containsKey("ADDED") && ownCapture.containsKey("DELETED"),
          ownCapture.toString());
      assertTrue(
          seen.stream().noneMatch(s -> s.name().contains("web-" + other)),
          own + " was sent the other node's objects");
    }
  }

  private static String holder() {
    Lease lease =
        plane
            .admin()
            .leases()
            .inNamespace(ControlPlane.AGENT_NAMESPACE)
            .withName("podcapture-agent-leader")
            .get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  @Test
  void whenTheElectedAgentStopsTheOtherTakesOverAndExplainsAMissingPod() throws Exception {
    Set<String> agents = Set.of(nodes[0].identity.podName(), nodes[1].identity.podName());
    await().atMost(WAIT).until(() -> agents.contains(holder()));
    String first = holder();
    ClusterNode elected = nodes[0].identity.podName().equals(first) ? nodes[0] : nodes[1];
    ClusterNode other = elected == nodes[0] ? nodes[1] : nodes[0];
    assertMissingPodExplained("ghost-1");

    long stopped = System.nanoTime();
    elected.stopAgent();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> other.identity.podName().equals(holder()));
    long tookMillis = (System.nanoTime() - stopped) / 1_000_000;
    System.out.printf(
        "Lease: %s stopped (SIGTERM), %s took over %d ms later%n",
        first, other.identity.podName(), tookMillis);
    // released on SIGTERM: taken at the other's next try (every 2 s), not after the Lease's 15 s
    assertTrue(tookMillis < 10_000, "took over after " + tookMillis + " ms");
    assertNotEquals(first, holder());
    assertMissingPodExplained("ghost-2");
    elected.startAgent();

    // A crash gives nothing back: the other takes over once the Lease has run out
    long killed = System.nanoTime();
    other.killAgent();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> elected.identity.podName().equals(holder()));
    long crashMillis = (System.nanoTime() - killed) / 1_000_000;
    System.out.printf(
        "Lease: %s killed (SIGKILL), %s took over %d ms later%n",
        other.identity.podName(), first, crashMillis);
    assertMissingPodExplained("ghost-3");
    other.startAgent();
  }

  private static void assertMissingPodExplained(String name) {
    PodCapture cr = new PodCapture();
    cr.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    cr.setSpec(new PodCaptureSpec("no-such-pod", 1, 1));
    user.createPodCapture(cr);
    await()
        .atMost(Duration.ofSeconds(10))
        .alias(name + " explained; agents' logs:\n" + nodes[0].log() + "\n" + nodes[1].log())
        .until(
            () -> {
              PodCapture now = user.cr(NS, name);
              return now.getStatus() != null && now.getStatus().getMessage() != null;
            });
    PodCapture now = user.cr(NS, name);
    assertEquals("Pending", now.getStatus().getPhase());
    assertEquals(
        "Pod no-such-pod not found in namespace two; the capture starts when it appears",
        now.getStatus().getMessage());
    assertEquals(Names.REASON_POD_NOT_FOUND, User.ready(now).getReason());
    user.deletePodCapture(NS, name);
    await().atMost(WAIT).until(() -> user.cr(NS, name) == null);
  }
}
