package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.Processes;
import io.podcapture.testing.User;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A captured Pod deleted: kube-controller-manager's garbage collector deletes the annotation's
 * PodCapture (through its ownerReference to the Pod), and the agent removes its files.
 */
@Tag("cluster")
class GarbageCollectionClusterTest {
  private static final String NS = "collected";
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static NetnsPod web;
  private static ClusterNode node;
  private static User user;

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    user = new User(plane.admin());
    plane.namespace(NS);
    web = NetnsPod.create();
    node = ClusterNode.start(plane, "gc-node", dir);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    if (web != null) {
      web.close();
    }
  }

  @Test
  void deletingACapturedPodMakesTheGarbageCollectorDeleteItsPodCaptureAndTheAgentItsFiles()
      throws Exception {
    Pod pod =
        plane.runningPod(
            ControlPlane.boundPod(NS, "doomed", node.name())
                .editMetadata()
                .addToAnnotations("tcpdump.antrea.io", "1")
                .endMetadata()
                .build(),
            web.ips());
    PodCapture cr = user.awaitPhase(NS, "doomed", "Running", WAIT);
    // the annotation's PodCapture is owned by its Pod (a direct one is not: docs/api.md)
    OwnerReference owner = cr.getMetadata().getOwnerReferences().get(0);
    assertEquals(pod.getMetadata().getUid(), owner.getUid());
    assertEquals("Pod", owner.getKind());
    await().atMost(WAIT).until(() -> !node.files(NS, "doomed").isEmpty());

    // With the agent stopped, only the garbage collector can delete the PodCapture: the finalizer
    // keeps it, marked, until the agent is back.
    node.stopAgent();
    plane.deletePodNow(NS, "doomed");
    long deleted = System.nanoTime();
    await()
        .atMost(WAIT)
        .until(() -> user.cr(NS, "doomed").getMetadata().getDeletionTimestamp() != null);
    System.out.printf(
        "garbage collector marked the PodCapture deleted %d ms after its Pod%n",
        (System.nanoTime() - deleted) / 1_000_000);
    assertFalse(node.files(NS, "doomed").isEmpty(), "files kept while the agent was away");

    node.startAgent();
    await().atMost(WAIT).until(() -> user.cr(NS, "doomed") == null);
    await().atMost(WAIT).until(() -> node.files(NS, "doomed").isEmpty());
    assertEquals(List.of(), Processes.writingInto(node.captureDir));
    assertNotNull(node.agent());
  }
}
