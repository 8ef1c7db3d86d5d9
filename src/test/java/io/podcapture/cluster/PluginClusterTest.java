package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import io.podcapture.sets.ChildNames;
import io.podcapture.testing.Command;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControllerJvm;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.User;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * plugin/kubectl-podcapture run by the real kubectl (found on PATH as a plugin) against the real
 * API server, with the real agent taking the captures: start with options, start -l, list, stop.
 */
@Tag("cluster")
class PluginClusterTest {
  private static final String NS = "plugged";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static final List<NetnsPod> netns = new ArrayList<>();
  private static ClusterNode node;
  private static ControllerJvm controller;
  private static User user;

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    user = new User(plane.admin());
    plane.namespace(NS);
    node = ClusterNode.start(plane, "plugin-node", dir);
    // It labels what the plugin creates with the Pod's node, as in a cluster.
    controller = plane.startLeadingController("podcapture-controller-plugin", dir);
    for (String name : List.of("web-1", "web-2")) {
      NetnsPod pod = NetnsPod.create();
      netns.add(pod);
      plane.runningPod(
          ControlPlane.boundPod(NS, name, node.name())
              .editMetadata()
              .addToLabels("app", "web")
              .endMetadata()
              .build(),
          pod.ips());
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (controller != null) {
      controller.close();
    }
    if (node != null) {
      node.close();
    }
    netns.forEach(NetnsPod::close);
  }

  /** {@code kubectl podcapture ARGS}: the real kubectl finds the plugin on PATH. */
  private static Command.Result plugin(String... args) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("plugin-bin"));
    Path plugin = bin.resolve("kubectl-podcapture");
    if (!Files.exists(plugin)) {
      Files.createSymbolicLink(
          plugin, MockApiServer.projectDir().resolve("plugin/kubectl-podcapture"));
    }
    Map<String, String> env = new HashMap<>(plane.kubectlEnvironment());
    env.put("PATH", bin + File.pathSeparator + env.get("PATH"));
    List<String> argv = new ArrayList<>(List.of("kubectl", "podcapture"));
    argv.addAll(List.of(args));
    Command.Result result = ControlPlane.run(Duration.ofSeconds(90), env, argv);
    System.out.println("$ " + String.join(" ", argv) + "\n" + result.output());
    return result;
  }

  @Test
  void startWithOptionsStartWithSelectorListAndStop() throws Exception {
    String out =
        plugin(
                "start",
                "web-1",
                "-n",
                NS,
                "--filter",
                "icmp",
                "--files",
                "2",
                "--file-size",
                "3",
                "--duration",
                "10m",
                "--snaplen",
                "128",
                "--ttl",
                "1h")
            .orThrow()
            .output();
    String name = out.lines().filter(l -> l.startsWith("web-1-")).findFirst().orElseThrow();
    PodCapture direct = user.awaitPhase(NS, name, "Running", WAIT);
    PodCaptureSpec spec = direct.getSpec();
    assertEquals("web-1", spec.getPodName());
    assertEquals("icmp", spec.getFilter());
    assertEquals(2, spec.getMaxFiles());
    assertEquals(3, spec.getFileSizeMB());
    assertEquals(600, spec.getDurationSeconds());
    assertEquals(128, spec.getSnapLength());
    assertEquals(3600, spec.getTtlSecondsAfterFinished());

    // -l makes one PodCaptureSet; the controller gives each matching Pod a child.
    plugin("start", "-l", "app=web", "--files", "3", "--name", "webset", "-n", NS).orThrow();
    List<String> children =
        List.of(ChildNames.of("webset", "web-1"), ChildNames.of("webset", "web-2"));
    for (String child : children) {
      PodCapture cr = user.awaitPhase(NS, child, "Running", WAIT);
      assertEquals(3, cr.getSpec().getMaxFiles());
      assertEquals("webset", cr.getMetadata().getLabels().get(Names.LABEL_SET));
    }

    String listing = plugin("list", "-n", NS).orThrow().output();
    List<String> rows = listing.lines().toList();
    assertTrue(
        rows.stream().anyMatch(r -> r.startsWith("webset ")), "set webset not listed: " + listing);
    for (String capture : List.of(name, children.get(0), children.get(1))) {
      assertTrue(
          rows.stream()
              .anyMatch(
                  r ->
                      r.startsWith(capture + " ")
                          && r.contains("Running")
                          && r.contains(node.name())),
          capture + " not listed Running on " + node.name() + ": " + listing);
    }

    plugin("stop", "webset", "-n", NS).orThrow();
    plugin("stop", name, "-n", NS).orThrow();
    await()
        .atMost(WAIT)
        .until(
            () ->
                plane
                        .admin()
                        .resources(PodCaptureSet.class)
                        .inNamespace(NS)
                        .withName("webset")
                        .get()
                    == null);
    for (String capture : List.of(name, children.get(0), children.get(1))) {
      await().atMost(WAIT).until(() -> user.cr(NS, capture) == null);
      await().atMost(WAIT).until(() -> node.files(NS, capture).isEmpty());
    }
    assertTrue(plugin("list", "-n", NS).output().contains("No captures in"));
  }
}
