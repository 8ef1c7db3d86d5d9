package io.podcapture.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.mock.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent as the container runs it: a JVM process configured by environment, stopped by SIGTERM. */
class AgentProcessTest {
  @TempDir
  Path tmp;
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

  /** A kubeconfig pointing at the mock API server, as KUBECONFIG would in a real shell. */
  static Path kubeconfig(Path dir, int port) throws Exception {
    Path file = dir.resolve("kubeconfig");
    Files.writeString(file, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster: {server: "http://localhost:%d"}
        users:
        - name: mock
          user: {}
        contexts:
        - name: mock
          context: {cluster: mock, user: mock, namespace: default}
        current-context: mock
        """.formatted(port));
    return file;
  }

  @Test
  void sigtermStopsTcpdumpAndExitsQuicklyKeepingFilesAndPodCapture() throws Exception {
    Requirements.realCapture();
    web = NetnsPod.create();
    api = new MockApiServer();
    Path captureDir = tmp.resolve("capture");
    try (KubernetesClient user = api.client()) {
      user.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata().withName("web")
          .withNamespace("default").addToAnnotations("tcpdump.antrea.io", "2").endMetadata().withNewSpec()
          .withNodeName("node-a").endSpec().withNewStatus().withPodIP(web.ipv4()).addNewPodIP().withIp(web.ipv4())
          .endPodIP().endStatus().build()).create();

      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          "io.podcapture.Main").redirectErrorStream(true).redirectOutput(tmp.resolve("agent.log").toFile());
      pb.environment().put("NODE_NAME", "node-a");
      pb.environment().put("CAPTURE_DIR", captureDir.toString());
      pb.environment().put("KUBECONFIG", kubeconfig(tmp, api.port()).toString());
      pb.environment().put("HTTP_PORT", "0");
      agent = pb.start();

      await().atMost(Duration.ofSeconds(30)).until(() -> {
        PodCapture cr = user.resources(PodCapture.class).inNamespace("default").withName("web").get();
        return cr != null && cr.getStatus() != null && "Running".equals(cr.getStatus().getPhase());
      });
      List<Long> tcpdumps = Pcap.processesWritingInto(captureDir.resolve("default"));
      assertEquals(1, tcpdumps.size());

      long sent = System.nanoTime();
      agent.destroy(); // SIGTERM, as the kubelet sends
      assertTrue(agent.waitFor(20, TimeUnit.SECONDS), "exits well within the 30 s termination grace period");
      long tookMillis = Duration.ofNanos(System.nanoTime() - sent).toMillis();
      System.out.println("agent exited " + tookMillis + " ms after SIGTERM with code " + agent.exitValue());
      assertTrue(tookMillis < 10_000, "took " + tookMillis + " ms");

      assertFalse(Pcap.alive(tcpdumps.get(0)), "tcpdump stopped with the agent");
      assertTrue(Files.exists(captureDir.resolve("default/capture-web.pcap0")), "files are kept");
      assertTrue(user.resources(PodCapture.class).inNamespace("default").withName("web").get() != null,
          "the PodCapture is kept, so the capture resumes when the agent is back");
      String log = Files.readString(tmp.resolve("agent.log"));
      assertTrue(log.contains("PodCapture(default/web)"), log);
    }
  }
}
