package io.podcapture.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.User;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API server goes away during a real capture and comes back: the capture runs on untouched
 * meanwhile (same tcpdump, files kept and growing), and once the API server is back the agent
 * catches up by itself, without a restart: it writes the status it could not write, and applies a
 * change a user made while it could not see.
 */
class ApiOutageFaultTest extends LocalAgentFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /**
   * Long enough for a failing status write's backoff to outgrow the status refresh (1 s here) many
   * times.
   */
  private static final Duration OUTAGE = Duration.ofSeconds(20);

  private NetnsPod web;

  @BeforeEach
  void createPod() {
    web = NetnsPod.create();
  }

  @AfterEach
  void deletePod() {
    web.close();
  }

  @Test
  void captureSurvivesAnApiOutageAndChangesMadeMeanwhileAreAppliedWhenItReturns() throws Exception {
    cluster.namespace("shop");
    cluster.createPod("default", "web", "3", web.ips());
    cluster.createPod("shop", "other", "2", List.of("198.51.100.50"));
    cluster.createPod("shop", "gone", "2", List.of("198.51.100.51"));
    agent = AgentHarness.wholeAgent(api, captureDir, Map.of());
    PodCapture before = cluster.awaitPhase("default", "web", "Running", WAIT);
    cluster.awaitPhase("shop", "other", "Running", WAIT);
    cluster.awaitPhase("shop", "gone", "Running", WAIT);
    Path webDir = captureDir.resolve("default");
    Path otherDir = captureDir.resolve("shop");
    await()
        .atMost(WAIT)
        .until(
            () ->
                Processes.writingInto(webDir).size() == 1
                    && Processes.writingInto(otherDir).size() == 2);
    List<Long> webPids = Processes.writingInto(webDir);
    List<Long> otherPids = Processes.writingInto(otherDir);
    Path webFile = webDir.resolve("capture-web.pcap0");
    long sizeBefore = Files.size(webFile);

    api.stop();
    long stopped = System.nanoTime();
    // The Pod keeps talking while the agent cannot reach the API server.
    assertEquals(20, web.ping(Ping.count(20).interval(Duration.ofMillis(20))).received());
    // A user, through an API server the agent cannot reach, stops one capture and deletes the Pod
    // of another. (Only a fresh list tells a resumed watch about a deletion it missed: this needs
    // the informer to relist.)
    try (KubernetesClient elsewhere = api.sideDoor()) {
      User.annotate(elsewhere, "shop", "other", null);
      elsewhere.pods().inNamespace("shop").withName("gone").delete();
    }
    api.closeSideDoor();
    // Through the outage, nothing is stopped, restarted or deleted.
    while (System.nanoTime() - stopped < OUTAGE.toNanos()) {
      assertEquals(webPids, Processes.writingInto(webDir), "web's tcpdump runs on");
      assertEquals(
          otherPids,
          Processes.writingInto(otherDir),
          "other's tcpdump runs on until the agent knows");
      assertTrue(Files.exists(otherDir.resolve("capture-other.pcap0")));
      Thread.sleep(500);
    }
    long sizeDuring = Files.size(webFile);
    assertTrue(
        sizeDuring >= sizeBefore + 20 * 98,
        "the capture kept writing: " + sizeBefore + " -> " + sizeDuring);

    api.restart();
    long restarted = System.nanoTime();

    // Both are timed from the API server's return, each on its own: the changes made meanwhile are
    // applied (both captures stop, their files and PodCaptures go), and the status catches up with
    // the bytes of the outage.
    long[] otherApplied = {-1};
    long[] statusWritten = {-1};
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              long now = (System.nanoTime() - restarted) / 1_000_000;
              if (otherApplied[0] < 0
                  && cluster.cr("shop", "other") == null
                  && cluster.cr("shop", "gone") == null
                  && Processes.writingInto(otherDir).isEmpty()
                  && Pcap.files(otherDir).isEmpty()) {
                otherApplied[0] = now;
              }
              if (statusWritten[0] < 0
                  && cluster.cr("default", "web").getStatus().getTotalBytes() >= sizeDuring) {
                statusWritten[0] = now;
              }
              return otherApplied[0] >= 0 && statusWritten[0] >= 0;
            });
    long statusCaughtUp = statusWritten[0];

    // Within a status refresh or two of the API server's return (1 s here, plus the client's own
    // retries), whatever backoff the failed writes would have reached by then.
    assertTrue(statusCaughtUp < 5000, "status caught up after " + statusCaughtUp + " ms");
    PodCapture after = cluster.cr("default", "web");
    assertEquals("Running", after.getStatus().getPhase());
    assertEquals(
        before.getMetadata().getUid(), after.getMetadata().getUid(), "the same PodCapture");
    assertEquals(
        before.getStatus().getStartTime(),
        after.getStatus().getStartTime(),
        "the same tcpdump run");
    assertEquals(webPids, Processes.writingInto(webDir), "the same tcpdump");
    assertEquals(0, after.getStatus().getRestartCount());
    assertTrue(
        api.dispatcher().goneAnswers() > 0,
        "the agent resumed its watches and was told to list again");
    System.out.printf(
        "API outage of %d ms: removed annotation and deleted Pod applied %d ms after the API server returned, status "
            + "caught up after %d ms%n",
        OUTAGE.toMillis(), otherApplied[0], statusCaughtUp);
  }
}
