package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
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
 * The real API server goes away and comes back: the agent keeps capturing, resumes its informers
 * (after etcd compacted the history they resume from, through a relist on 410 Gone) and leaves
 * nothing behind.
 */
@Tag("cluster")
class ApiServerFaultsClusterTest {
  private static final String NS = "faults";
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
    node = ClusterNode.start(plane, "fault-node", dir);
    plane.runningPod(ControlPlane.boundPod(NS, "web", node.name()).build(), web.ips());
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

  private static long packets(String capture, String pattern) throws Exception {
    return Pcap.packets(node.files(NS, capture)).stream().filter(p -> p.contains(pattern)).count();
  }

  @Test
  void aTwentySecondOutageWithEtcdCompactedMeanwhileLosesNothingAndOrphansNothing()
      throws Exception {
    user.annotate(NS, "web", "1");
    user.awaitPhase(NS, "web", "Running", WAIT);
    String before = user.cr(NS, "web").getMetadata().getResourceVersion();

    long down = System.nanoTime();
    plane.stop("kube-apiserver");
    // 20 pings while the API server is away: tcpdump keeps writing
    assertEquals(20, web.ping(Ping.count(20).interval(Duration.ofMillis(100))).received());
    long compactedAt = plane.compactEtcd();
    long left = 20_000 - (System.nanoTime() - down) / 1_000_000;
    if (left > 0) {
      Thread.sleep(left);
    }
    plane.start("kube-apiserver");
    System.out.printf(
        "kube-apiserver away %d ms; etcd compacted at revision %d%n",
        (System.nanoTime() - down) / 1_000_000, compactedAt);

    // What the agent's watch resumes from is gone: the server answers 410 Gone (an ERROR event)
    String watch =
        plane
            .kubectl(
                "get",
                "--raw",
                "/apis/tcpdump.antrea.io/v1alpha1/podcaptures?watch=true&timeoutSeconds=2&resourceVersion="
                    + before)
            .output();
    assertTrue(watch.contains("\"code\":410"), watch);

    // Nothing lost: the outage's packets are in the file (requests and replies)...
    assertTrue(packets("web", "ICMP echo request") >= 20, "requests in the file after the outage");
    // ...and the informers relisted: a new PodCapture and a status refresh are handled
    PodCapture after = new PodCapture();
    // Labelled with its node, as the cluster controller would (placement is not this test's
    // subject, and no controller runs here).
    after.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(NS)
            .withName("after")
            .addToLabels(Names.LABEL_NODE, node.name())
            .build());
    after.setSpec(new PodCaptureSpec("web", 1, 1));
    user.createPodCapture(after);
    user.awaitPhase(NS, "after", "Running", WAIT);
    long bytes = user.cr(NS, "web").getStatus().getTotalBytes();
    web.ping(Ping.count(10).interval(Duration.ofMillis(20)));
    await().atMost(WAIT).until(() -> user.cr(NS, "web").getStatus().getTotalBytes() > bytes);

    // Nothing orphaned: stopping both removes every file and every tcpdump
    user.removeAnnotation(NS, "web");
    user.deletePodCapture(NS, "after");
    for (String capture : List.of("web", "after")) {
      await().atMost(WAIT).until(() -> user.cr(NS, capture) == null);
      await().atMost(WAIT).until(() -> node.files(NS, capture).isEmpty());
    }
    await().atMost(WAIT).until(() -> Processes.writingInto(node.captureDir).isEmpty());
    assertTrue(node.agent().alive());
  }
}
