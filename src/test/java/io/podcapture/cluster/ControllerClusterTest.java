package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControlPlane.AgentIdentity;
import io.podcapture.testing.ControllerJvm;
import io.podcapture.testing.CountingApiProxy;
import io.podcapture.testing.CountingApiProxy.Request;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.User;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster controller's two replicas and two agents against the real API server, each behind a
 * proxy that logs its requests: the Lease changes hands within the Lease's time when the active
 * replica stops or is killed; no agent sends a request about a Lease; a node label naming another
 * node, or a node without agent, is corrected or explained within 10 s.
 */
@Tag("cluster")
class ControllerClusterTest {
  private static final String NS = "placed";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration PLACED_WITHIN = Duration.ofSeconds(10);
  private static final String[] NODES = {"ctl-a", "ctl-b"};
  private static final String NO_AGENT = "ctl-none";
  private static final String[] REPLICAS = {"podcapture-controller-1", "podcapture-controller-2"};

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static User user;
  private static final NetnsPod[] pods = new NetnsPod[2];
  private static final ClusterNode[] nodes = new ClusterNode[2];
  private static final CountingApiProxy[] agentProxies = new CountingApiProxy[2];
  private static final ControllerJvm[] controllers = new ControllerJvm[2];

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    user = new User(plane.admin());
    plane.namespace(NS);
    for (int i = 0; i < 2; i++) {
      pods[i] = NetnsPod.create();
      AgentIdentity identity = plane.agentIdentity(NODES[i], dir);
      agentProxies[i] = new CountingApiProxy(plane.apiServerUrl(), plane.caCert());
      Path kubeconfig =
          plane.writeKubeconfig(
              dir.resolve("proxied-" + NODES[i] + ".kubeconfig"),
              agentProxies[i].url(),
              identity.token());
      nodes[i] = ClusterNode.start(plane, identity, kubeconfig, dir);
      plane.runningPod(
          ControlPlane.boundPod(NS, "web-" + NODES[i], NODES[i]).build(), pods[i].ips());
    }
    // A node the agents' DaemonSet does not cover: its Pod never gets an agent.
    plane.node(NO_AGENT);
    plane.runningPod(
        ControlPlane.boundPod(NS, "web-" + NO_AGENT, NO_AGENT).build(), List.of("10.99.0.7"));
  }

  @BeforeEach
  void bothReplicasRun() throws Exception {
    for (int i = 0; i < 2; i++) {
      if (controllers[i] == null || !controllers[i].alive()) {
        if (controllers[i] != null) {
          controllers[i].close();
        }
        controllers[i] = plane.startController(REPLICAS[i], dir, Map.of());
      }
    }
    await().atMost(WAIT).until(() -> List.of(REPLICAS).contains(plane.controllerLeaseHolder()));
  }

  @AfterAll
  static void stop() throws Exception {
    for (int i = 0; i < 2; i++) {
      if (controllers[i] != null) {
        controllers[i].close();
      }
      if (nodes[i] != null) {
        nodes[i].close();
      }
      if (agentProxies[i] != null) {
        agentProxies[i].close();
      }
      if (pods[i] != null) {
        pods[i].close();
      }
    }
  }

  private static int leaderIndex() {
    String holder = plane.controllerLeaseHolder();
    return REPLICAS[0].equals(holder) ? 0 : 1;
  }

  /** Waits until the other replica holds the Lease; returns how long that took from {@code t0}. */
  private static long awaitHandover(int from, long t0) {
    String to = REPLICAS[1 - from];
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> to.equals(plane.controllerLeaseHolder()));
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void losingTheActiveReplicaHandsOverWithinTheLeaseTime() throws Exception {
    int first = leaderIndex();
    long stopped = System.nanoTime();
    assertEquals(0, controllers[first].stop(), "exit code on SIGTERM");
    long afterStop = awaitHandover(first, stopped);
    System.out.printf(
        "controller Lease: %s stopped (SIGTERM), %s took over %d ms later%n",
        REPLICAS[first], REPLICAS[1 - first], afterStop);
    assertTrue(controllers[first].log().contains("controller stopped"), controllers[first].log());
    // Released on SIGTERM: taken at the other's next try (every 2 s), not after the Lease's 15 s.
    assertTrue(afterStop < 5_000, "took over " + afterStop + " ms after SIGTERM");
    assertPlacedBy(REPLICAS[1 - first], "after-term");

    controllers[first] = plane.startController(REPLICAS[first], dir, Map.of());
    int second = 1 - first;
    long killed = System.nanoTime();
    controllers[second].kill();
    long afterKill = awaitHandover(second, killed);
    System.out.printf(
        "controller Lease: %s killed (SIGKILL), %s took over %d ms later%n",
        REPLICAS[second], REPLICAS[first], afterKill);
    // A crash gives nothing back: the Lease (15 s) runs out, then the next try (2 s) takes it.
    assertTrue(afterKill < 15_000 + 2_000 + 2_000, "took over " + afterKill + " ms after SIGKILL");
    assertPlacedBy(REPLICAS[first], "after-kill");
  }

  /** The new leader answers: a PodCapture of a missing Pod is explained. */
  private static void assertPlacedBy(String leader, String name) {
    assertEquals(leader, plane.controllerLeaseHolder());
    createCapture(name, "no-such-pod", null);
    await()
        .atMost(PLACED_WITHIN)
        .until(
            () -> {
              PodCapture cr = user.cr(NS, name);
              return cr.getStatus() != null
                  && Names.REASON_POD_NOT_FOUND.equals(User.ready(cr).getReason());
            });
    user.deletePodCapture(NS, name);
  }

  @Test
  void noAgentSendsASingleRequestAboutALease() throws Exception {
    // Long enough for several renewals (every 2 s) by the leading replica.
    Thread.sleep(6_000);
    for (int i = 0; i < 2; i++) {
      List<Request> leases = agentProxies[i].leaseRequests();
      System.out.printf(
          "agent on %s: %d requests in all, %d about a Lease%n",
          NODES[i], agentProxies[i].requests().size(), leases.size());
      assertEquals(
          List.of(),
          leases.stream().map(r -> r.method() + " " + r.path()).distinct().toList(),
          "Lease requests of the agent on " + NODES[i]);
      assertTrue(!agentProxies[i].requests().isEmpty(), "the proxy saw the agent's requests");
    }
    for (ControllerJvm controller : controllers) {
      Map<String, Long> byMethod =
          controller.proxy().leaseRequests().stream()
              .collect(Collectors.groupingBy(Request::method, Collectors.counting()));
      System.out.printf("controller %s Lease requests so far: %s%n", controller.name(), byMethod);
      assertTrue(!byMethod.isEmpty(), controller.name() + " runs for the Lease");
    }
  }

  @Test
  void aNodeLabelNamingAnotherNodeIsCorrectedAndTheCaptureRunsOnThePodsNode() throws Exception {
    long created = System.nanoTime();
    createCapture("copied", "web-" + NODES[1], NODES[0]);
    PodCapture cr = awaitRunning("copied", NODES[1]);
    long took = (System.nanoTime() - created) / 1_000_000;
    System.out.printf(
        "node label %s (Pod on %s): Running on %s %d ms after create%n",
        NODES[0], NODES[1], cr.getStatus().getNode(), took);
    assertEquals(NODES[1], cr.getMetadata().getLabels().get(Names.LABEL_NODE));
    await().atMost(PLACED_WITHIN).until(() -> user.hasEvent(NS, "copied", "NodeLabelCorrected"));
    deleteAndAwaitGone("copied");
  }

  @Test
  void aNodeLabelNamingANodeWithoutAgentIsCorrectedAndTheCaptureRuns() throws Exception {
    long created = System.nanoTime();
    createCapture("stale", "web-" + NODES[0], NO_AGENT);
    PodCapture cr = awaitRunning("stale", NODES[0]);
    System.out.printf(
        "node label %s (no agent; Pod on %s): Running on %s %d ms after create%n",
        NO_AGENT, NODES[0], cr.getStatus().getNode(), (System.nanoTime() - created) / 1_000_000);
    deleteAndAwaitGone("stale");
  }

  @Test
  void aPodOnANodeWithoutAgentIsExplainedInTheStatus() throws Exception {
    long created = System.nanoTime();
    createCapture("uncovered", "web-" + NO_AGENT, null);
    await()
        .atMost(PLACED_WITHIN)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              PodCapture now = user.cr(NS, "uncovered");
              return now.getStatus() != null && "NoAgentOnNode".equals(User.ready(now).getReason());
            });
    long took = (System.nanoTime() - created) / 1_000_000;
    PodCapture cr = user.cr(NS, "uncovered");
    System.out.printf(
        "Pod on %s (no agent): %s %s %d ms after create%n",
        NO_AGENT, cr.getStatus().getPhase(), User.ready(cr).getReason(), took);
    assertEquals(Names.PHASE_PENDING, cr.getStatus().getPhase());
    assertEquals("NoAgentOnNode", User.ready(cr).getReason());
    assertEquals(NO_AGENT, cr.getMetadata().getLabels().get(Names.LABEL_NODE));
    assertTrue(
        cr.getStatus().getMessage().startsWith("no podcapture agent runs on node " + NO_AGENT),
        cr.getStatus().getMessage());
    user.deletePodCapture(NS, "uncovered");
    await().atMost(WAIT).until(() -> user.cr(NS, "uncovered") == null);
  }

  private static void createCapture(String name, String pod, String nodeLabel) {
    PodCapture cr = new PodCapture();
    ObjectMetaBuilder meta = new ObjectMetaBuilder().withNamespace(NS).withName(name);
    if (nodeLabel != null) {
      meta.addToLabels(Names.LABEL_NODE, nodeLabel);
    }
    cr.setMetadata(meta.build());
    cr.setSpec(new PodCaptureSpec(pod, 1, 1));
    user.createPodCapture(cr);
  }

  private static PodCapture awaitRunning(String name, String node) {
    await()
        .atMost(PLACED_WITHIN)
        .pollInterval(Duration.ofMillis(50))
        .alias(name + " Running on " + node + "; controllers' logs:\n" + controllerLogs())
        .until(
            () -> {
              PodCapture cr = user.cr(NS, name);
              return cr.getStatus() != null
                  && Names.PHASE_RUNNING.equals(cr.getStatus().getPhase())
                  && node.equals(cr.getStatus().getNode());
            });
    PodCapture cr = user.cr(NS, name);
    assertNotEquals(null, cr.getStatus().getStartTime());
    return cr;
  }

  private static void deleteAndAwaitGone(String name) {
    user.deletePodCapture(NS, name);
    await().atMost(WAIT).until(() -> user.cr(NS, name) == null);
  }

  private static String controllerLogs() {
    StringBuilder logs = new StringBuilder();
    for (ControllerJvm controller : controllers) {
      if (controller != null) {
        logs.append(controller.name()).append(":\n").append(controller.log());
      }
    }
    return logs.toString();
  }
}
