package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.PodCapture;
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
 * PodCaptures (counted by a proxy in front of each). The agents take part in no election: the
 * cluster-wide duties and their Lease are the cluster controller's ({@link ControllerClusterTest}).
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
      // no agent watches PodCaptures without a node label any more: the controller does
      Set<String> captureNodes =
          seen.stream()
              .filter(s -> s.resource().equals("podcaptures"))
              .map(Seen::node)
              .collect(Collectors.toSet());
      assertEquals(Set.of(own), captureNodes, own + " was sent PodCaptures of these nodes");
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
}
