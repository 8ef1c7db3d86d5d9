package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.api.v1alpha1.PodCaptureSetStatus;
import io.podcapture.controller.Names;
import io.podcapture.sets.ChildNames;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControllerJvm;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Processes;
import io.podcapture.testing.User;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PodCaptureSets against the real API server: two real agent jars on two nodes with real tcpdump,
 * network-namespace Pods, and the controller jar (PODCAPTURE_MODE=controller) holding the Lease
 * with its own ServiceAccount, as the Deployment runs it: only it may create a set's children.
 */
@Tag("cluster")
class SetClusterTest {
  private static final String NS = "sets";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static User user;
  private static KubernetesClient admin;
  private static ControllerJvm controller;
  private static final NetnsPod[] netns = new NetnsPod[4];
  private static final ClusterNode[] nodes = new ClusterNode[2];

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    plane
        .kubectl(
            "wait", "--for=condition=Established", "--timeout=60s", "crd/" + PodCaptureSet.CRD_NAME)
        .orThrow();
    admin = plane.admin();
    user = new User(admin);
    plane.namespace(NS);
    nodes[0] = ClusterNode.start(plane, "sets-a", dir);
    nodes[1] = ClusterNode.start(plane, "sets-b", dir);
    for (int i = 0; i < netns.length; i++) {
      netns[i] = NetnsPod.create();
    }
    controller = plane.startLeadingController("sets-controller", dir);
  }

  @AfterAll
  static void stop() throws Exception {
    if (controller != null) {
      controller.close();
    }
    for (ClusterNode node : nodes) {
      if (node != null) {
        node.close();
      }
    }
    for (NetnsPod pod : netns) {
      if (pod != null) {
        pod.close();
      }
    }
  }

  private static Pod pod(String name, String app, ClusterNode node, NetnsPod ns) {
    Pod pod = ControlPlane.boundPod(NS, name, node.name()).build();
    pod.getMetadata().setLabels(Map.of("app", app));
    return plane.runningPod(pod, ns.ips());
  }

  private static PodCaptureSet createSet(String name, String app, Integer durationSeconds) {
    PodCaptureSet set = new PodCaptureSet();
    set.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    PodCaptureSetSpec spec = new PodCaptureSetSpec();
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", app)).build());
    spec.setDurationSeconds(durationSeconds);
    set.setSpec(spec);
    return admin.resources(PodCaptureSet.class).inNamespace(NS).resource(set).create();
  }

  private static PodCaptureSet set(String name) {
    return admin.resources(PodCaptureSet.class).inNamespace(NS).withName(name).get();
  }

  private static List<PodCapture> children(String set) {
    return admin
        .resources(PodCapture.class)
        .inNamespace(NS)
        .withLabel(Names.LABEL_SET, set)
        .list()
        .getItems();
  }

  /** Waits until the Pod's child runs on its node and has written a file there. */
  private static PodCapture awaitCaptured(String set, String pod, ClusterNode node) {
    String child = ChildNames.of(set, pod);
    PodCapture cr = user.awaitPhase(NS, child, Names.PHASE_RUNNING, WAIT);
    assertEquals(node.name(), cr.getStatus().getNode(), child);
    assertEquals(node.name(), cr.getMetadata().getLabels().get(Names.LABEL_NODE), child);
    await().atMost(WAIT).until(() -> !node.files(NS, child).isEmpty());
    return cr;
  }

  private static boolean noTcpdumpAndNoFileOnAnyNode(String set, List<String> children)
      throws Exception {
    for (ClusterNode node : nodes) {
      for (String child : children) {
        if (!node.files(NS, child).isEmpty()) {
          return false;
        }
      }
      if (!Processes.writingInto(node.captureDir.resolve(NS)).isEmpty()) {
        return false;
      }
    }
    return set(set) == null && children(set).isEmpty();
  }

  @Test
  void aSetCapturesItsPodsOnBothNodesAndAPodCreatedLaterAndDeletingItLeavesNothing()
      throws Exception {
    pod("web-0", "web", nodes[0], netns[0]);
    pod("web-1", "web", nodes[1], netns[1]);
    pod("web-2", "web", nodes[0], netns[2]);
    long started = System.nanoTime();
    createSet("web", "web", null);

    awaitCaptured("web", "web-0", nodes[0]);
    awaitCaptured("web", "web-1", nodes[1]);
    awaitCaptured("web", "web-2", nodes[0]);
    System.out.printf(
        "set of 3 Pods on 2 nodes: all children Running after %d ms%n",
        (System.nanoTime() - started) / 1_000_000);
    await()
        .atMost(WAIT)
        .until(
            () -> {
              PodCaptureSetStatus s = set("web").getStatus();
              return s != null
                  && s.getChildren() != null
                  && s.getChildren().getRunning() == 3
                  && s.getNodeCount() == 2;
            });

    // A Pod created later is captured within the window.
    long created = System.nanoTime();
    pod("web-3", "web", nodes[1], netns[3]);
    awaitCaptured("web", "web-3", nodes[1]);
    System.out.printf(
        "Pod created later: its child Running after %d ms%n",
        (System.nanoTime() - created) / 1_000_000);
    await().atMost(WAIT).until(() -> set("web").getStatus().getCapturedPods() == 4);
    assertEquals(List.of("sets-a", "sets-b"), set("web").getStatus().getNodes());

    List<String> names = children("web").stream().map(c -> c.getMetadata().getName()).toList();
    assertEquals(4, names.size());
    admin.resources(PodCaptureSet.class).inNamespace(NS).withName("web").delete();
    await().atMost(WAIT).until(() -> noTcpdumpAndNoFileOnAnyNode("web", names));
  }

  @Test
  void aPodCreatedLaterEndsWithTheSetsWindow() throws Exception {
    pod("late-0", "late", nodes[0], netns[0]);
    createSet("late", "late", 15);
    awaitCaptured("late", "late-0", nodes[0]);
    Instant windowEnd = Instant.parse(set("late").getStatus().getWindowEnd());

    await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
    pod("late-1", "late", nodes[1], netns[1]);
    PodCapture late = awaitCaptured("late", "late-1", nodes[1]);
    assertTrue(late.getSpec().getDurationSeconds() < 15, "what is left of the window");

    await()
        .atMost(WAIT)
        .until(() -> Names.PHASE_COMPLETED.equals(user.phase(NS, ChildNames.of("late", "late-1"))));
    for (String pod : List.of("late-0", "late-1")) {
      PodCapture child = user.awaitPhase(NS, ChildNames.of("late", pod), "Completed", WAIT);
      Instant completed = Instant.parse(child.getStatus().getCompletionTime());
      long off = Math.abs(Duration.between(windowEnd, completed).toMillis());
      System.out.printf("%s completed %d ms from the window's end%n", pod, off);
      assertTrue(off <= 3_000, pod + " completed " + off + " ms from the window's end");
    }
    await()
        .atMost(WAIT)
        .until(() -> Names.PHASE_COMPLETED.equals(set("late").getStatus().getPhase()));
    admin.resources(PodCaptureSet.class).inNamespace(NS).withName("late").delete();
    await().atMost(WAIT).until(() -> set("late") == null);
  }

  /**
   * Needs the agent's "Pod deleted while its capture runs: Completed PodDeleted, files kept"
   * (decision 3 of issue 21).
   */
  @Test
  void aPodDeletedMidCaptureLeavesACompletedChildWithItsFiles() throws Exception {
    pod("db-0", "db", nodes[1], netns[2]);
    createSet("db", "db", null);
    String child = ChildNames.of("db", "db-0");
    awaitCaptured("db", "db-0", nodes[1]);
    netns[2].ping(Ping.count(3).interval(Duration.ofMillis(20)));

    plane.deletePodNow(NS, "db-0");

    PodCapture done = user.awaitPhase(NS, child, Names.PHASE_COMPLETED, WAIT);
    assertEquals(
        Names.REASON_POD_DELETED, User.ready(done).getReason(), done.getStatus().getMessage());
    assertFalse(nodes[1].files(NS, child).isEmpty(), "the child's files are kept");
    assertTrue(
        Processes.writingInto(nodes[1].captureDir.resolve(NS)).stream()
            .noneMatch(
                pid -> Processes.argv(pid).stream().anyMatch(a -> a.contains("capture-" + child))));
    await().atMost(WAIT).until(() -> set("db").getStatus().getChildren().getCompleted() == 1);

    admin.resources(PodCaptureSet.class).inNamespace(NS).withName("db").delete();
    await().atMost(WAIT).until(() -> noTcpdumpAndNoFileOnAnyNode("db", List.of(child)));
  }
}
