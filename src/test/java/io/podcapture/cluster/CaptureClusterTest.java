package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControllerJvm;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.User;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Captures end to end against the real API server: the real agent jar with a token bound to its
 * Pod, a network-namespace Pod whose status the test writes as its kubelet would, real tcpdump. A
 * replica of the cluster controller runs too: it labels the PodCaptures created without a node with
 * their Pod's node, as in a cluster.
 */
@Tag("cluster")
class CaptureClusterTest {
  private static final String NS = "captures";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static NetnsPod web;
  private static ClusterNode node;
  private static ControllerJvm controller;
  private static User user;

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    user = new User(plane.admin());
    plane.namespace(NS);
    web = NetnsPod.create();
    node = ClusterNode.start(plane, "capture-node", dir);
    controller = plane.startLeadingController("podcapture-controller-captures", dir);
    plane.runningPod(ControlPlane.boundPod(NS, "web", node.name()).build(), web.ips());
  }

  @AfterAll
  static void stop() throws Exception {
    if (controller != null) {
      controller.close();
    }
    if (node != null) {
      node.close();
    }
    if (web != null) {
      web.close();
    }
  }

  private static PodCapture capture(String name, Consumer<PodCaptureSpec> options) {
    PodCapture cr = new PodCapture();
    cr.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    PodCaptureSpec spec = new PodCaptureSpec();
    spec.setPodName("web");
    options.accept(spec);
    cr.setSpec(spec);
    return user.createPodCapture(cr);
  }

  /** Pings until the capture's files hold at least {@code packets} packets. */
  private static List<String> pingUntilCaptured(String capture, int packets) throws Exception {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              web.ping(Ping.count(2).interval(Duration.ofMillis(20)));
              return Pcap.packets(node.files(NS, capture)).size() >= packets;
            });
    return Pcap.packets(assertFilesListed(capture));
  }

  /** The files on disk are the files the status lists. */
  private static List<Path> assertFilesListed(String capture) throws Exception {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              PodCapture cr = user.cr(NS, capture);
              return cr.getStatus().getFiles() != null
                  && cr.getStatus().getFiles().size() == node.files(NS, capture).size();
            });
    List<Path> files = node.files(NS, capture);
    assertFalse(files.isEmpty(), "no files for " + capture);
    return files;
  }

  private static void awaitGone(String capture) {
    await().atMost(WAIT).until(() -> user.cr(NS, capture) == null);
    await().atMost(WAIT).until(() -> node.files(NS, capture).isEmpty());
  }

  @Test
  void annotationCaptureRunsWithFilesAndRemovingTheAnnotationDeletesThem() throws Exception {
    user.annotate(NS, "web", "2");
    PodCapture cr = user.awaitPhase(NS, "web", "Running", WAIT);
    assertEquals(2, cr.getSpec().getMaxFiles());
    assertEquals(node.name(), cr.getStatus().getNode());
    assertEquals(
        ControlPlane.AGENT_NAMESPACE + "/" + node.identity.podName(), cr.getStatus().getAgentPod());
    assertEquals(web.ips(), cr.getStatus().getPodIPs());
    assertTrue(pingUntilCaptured("web", 4).stream().anyMatch(p -> p.contains(web.ipv4())));

    user.removeAnnotation(NS, "web");
    awaitGone("web");
  }

  @Test
  void directPodCaptureRunsWithFilesAndDeletingItDeletesThem() throws Exception {
    capture("direct", spec -> spec.setMaxFiles(3));
    user.awaitPhase(NS, "direct", "Running", WAIT);
    assertFalse(pingUntilCaptured("direct", 4).isEmpty());

    user.deletePodCapture(NS, "direct");
    awaitGone("direct");
  }

  @Test
  void twoCapturesOnOnePodEachGetTheirOwnPackets() throws Exception {
    capture("all", spec -> {});
    capture("https-only", spec -> spec.setFilter("tcp port 443"));
    user.awaitPhase(NS, "all", "Running", WAIT);
    PodCapture https = user.awaitPhase(NS, "https-only", "Running", WAIT);
    assertTrue(
        https.getStatus().getFilter().endsWith("and (tcp port 443)"),
        https.getStatus().getFilter());

    assertFalse(pingUntilCaptured("all", 4).isEmpty());
    assertEquals(List.of(), Pcap.packets(assertFilesListed("https-only")));

    user.deletePodCapture(NS, "all");
    user.deletePodCapture(NS, "https-only");
    awaitGone("all");
    awaitGone("https-only");
  }

  @Test
  void aDurationEndsTheCaptureCompletedWithItsFilesKept() throws Exception {
    long started = System.nanoTime();
    capture("three-seconds", spec -> spec.setDurationSeconds(3));
    PodCapture cr = user.awaitPhase(NS, "three-seconds", "Completed", WAIT);
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    System.out.printf("durationSeconds 3: Completed %d ms after create%n", tookMillis);
    assertTrue(tookMillis >= 3000, "completed after " + tookMillis + " ms");
    assertNotNull(cr.getStatus().getCompletionTime());
    assertFalse(node.files(NS, "three-seconds").isEmpty());

    user.deletePodCapture(NS, "three-seconds");
    awaitGone("three-seconds");
  }

  @Test
  void aPacketCountEndsTheCaptureCompletedWithExactlyThatManyPackets() throws Exception {
    capture("five-packets", spec -> spec.setPacketCount(5));
    user.awaitPhase(NS, "five-packets", "Running", WAIT);
    web.ping(Ping.count(10).interval(Duration.ofMillis(20)));
    user.awaitPhase(NS, "five-packets", "Completed", WAIT);
    assertEquals(5, Pcap.packets(assertFilesListed("five-packets")).size());

    user.deletePodCapture(NS, "five-packets");
    awaitGone("five-packets");
  }
}
