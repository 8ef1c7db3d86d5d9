package io.podcapture.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.testing.AgentJvm;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.Pods;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as the container runs it: a JVM process configured by environment, stopped by SIGTERM.
 */
@Tag("real-capture")
class AgentProcessTest {
  @TempDir Path tmp;
  private NetnsPod web;
  private MockApiServer api;
  private Process agent;

  @AfterEach
  void cleanUp() throws Exception {
    if (agent != null && agent.isAlive()) {
      agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (api != null) {
      api.close();
    }
    if (web != null) {
      web.close();
    }
  }

  @Test
  void sigtermStopsTcpdumpAndExitsQuicklyKeepingFilesAndPodCapture() throws Exception {
    Requirements.realCapture();
    web = NetnsPod.create();
    api = new MockApiServer();
    Path captureDir = tmp.resolve("capture");
    try (KubernetesClient user = api.client()) {
      user.pods()
          .inNamespace("default")
          .resource(Pods.running("default", "web", "node-a", "2", web.ipv4()))
          .create();
      agent =
          AgentJvm.start(
                  api.writeKubeconfig(tmp.resolve("kubeconfig")),
                  captureDir,
                  tmp.resolve("agent.log"),
                  Map.of())
              .process();

      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                PodCapture cr =
                    user.resources(PodCapture.class).inNamespace("default").withName("web").get();
                return cr != null
                    && cr.getStatus() != null
                    && "Running".equals(cr.getStatus().getPhase());
              });
      List<Long> tcpdumps = Processes.writingInto(captureDir.resolve("default"));
      assertEquals(1, tcpdumps.size());

      long sent = System.nanoTime();
      agent.destroy(); // SIGTERM, as the kubelet sends
      assertTrue(
          agent.waitFor(20, TimeUnit.SECONDS),
          "exits well within the 30 s termination grace period");
      long tookMillis = Duration.ofNanos(System.nanoTime() - sent).toMillis();
      System.out.println(
          "agent exited " + tookMillis + " ms after SIGTERM with code " + agent.exitValue());
      assertTrue(tookMillis < 10_000, "took " + tookMillis + " ms");

      assertFalse(Processes.alive(tcpdumps.get(0)), "tcpdump stopped with the agent");
      assertTrue(Files.exists(captureDir.resolve("default/capture-web.pcap0")), "files are kept");
      assertTrue(
          user.resources(PodCapture.class).inNamespace("default").withName("web").get() != null,
          "the PodCapture is kept, so the capture resumes when the agent is back");
      String log = Files.readString(tmp.resolve("agent.log"));
      assertTrue(log.contains("PodCapture(default/web)"), log);
    }
  }
}
