package io.podcapture.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.MockApiServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The podman options the image test derives from deploy/daemonset.yaml and deploy/controller.yaml,
 * without podman.
 */
class WorkloadRunTest {
  private static final Path CAPTURE = Path.of("/tmp/capture-volume");

  private static String manifest() throws IOException {
    return Files.readString(MockApiServer.projectDir().resolve("deploy/daemonset.yaml"));
  }

  private static List<String> options(String yaml) {
    WorkloadRun run = WorkloadRun.parse(yaml);
    return run.options(Map.of("capture", CAPTURE), run.environment("node-a", "agent-x"));
  }

  @Test
  void theDaemonSetsContainerBecomesTheMeasuredPodmanRun() throws IOException {
    List<String> options = options(manifest());

    // The options the issue measured by hand, now read from the manifest.
    for (String option :
        List.of(
            "--network=host",
            "--user=0",
            "--cap-drop=ALL",
            "--cap-add=NET_RAW",
            "--cap-add=SETGID",
            "--security-opt=no-new-privileges",
            "--read-only",
            "--read-only-tmpfs=false",
            "--memory=201326592b",
            "--memory-swap=201326592b",
            "--cpus=1",
            "--stop-timeout=30",
            "--volume=" + CAPTURE + ":/capture:rw",
            "--tmpfs=/tmp:mode=1777,rw,size=16777216")) {
      assertTrue(options.contains(option), option + " in " + options);
    }
    assertTrue(options.stream().noneMatch(o -> o.equals("--privileged")), options.toString());
  }

  @Test
  void downwardApiFieldsAreFilledInAndLiteralsKept() throws IOException {
    WorkloadRun run = WorkloadRun.parse(manifest());
    Map<String, String> env = run.environment("node-a", "agent-x");

    assertEquals("node-a", env.get("NODE_NAME"));
    assertEquals("agent-x", env.get("POD_NAME"));
    assertEquals("kube-system", env.get("POD_NAMESPACE"));
    assertEquals("/capture", env.get("CAPTURE_DIR"));
    assertEquals("9397", env.get("HTTP_PORT"));
    assertTrue(options(manifest()).contains("--env=NODE_NAME=node-a"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "procMount: Default",
        "seLinuxOptions: {level: \"s0\"}",
        "windowsOptions: {runAsUserName: x}"
      })
  void aSecuritySettingTheImageTestCannotApplyFailsInsteadOfBeingIgnored(String setting)
      throws IOException {
    String yaml =
        manifest()
            .replace(
                "            runAsUser: 0\n",
                "            runAsUser: 0\n            " + setting + "\n");

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> options(yaml));
    assertTrue(e.getMessage().contains(setting.substring(0, setting.indexOf(':'))), e.getMessage());
  }

  @Test
  void aVolumeOtherThanEmptyDirFails() throws IOException {
    String yaml =
        manifest()
            .replace(
                "          emptyDir:\n            sizeLimit: 2Gi",
                "          hostPath:\n            path: /var/capture");

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> options(yaml));
    assertTrue(e.getMessage().contains("capture"), e.getMessage());
  }

  @Test
  void theControllersDeploymentBecomesANonRootContainerWithoutCapabilities() throws IOException {
    WorkloadRun run =
        WorkloadRun.read(MockApiServer.projectDir().resolve("deploy/controller.yaml"));
    Map<String, String> env = run.environment("unused", "podcapture-controller-x1");
    List<String> options = run.options(Map.of(), env);

    for (String option :
        List.of(
            "--user=65534:65534",
            "--cap-drop=ALL",
            "--security-opt=no-new-privileges",
            "--read-only",
            "--tmpfs=/tmp:mode=1777,rw,size=16777216",
            "--env=PODCAPTURE_MODE=controller",
            "--env=POD_NAME=podcapture-controller-x1",
            "--env=POD_NAMESPACE=kube-system",
            "--stop-timeout=" + run.terminationGraceSeconds())) {
      assertTrue(options.contains(option), option + " in " + options);
    }
    assertTrue(options.stream().noneMatch(o -> o.startsWith("--cap-add")), options.toString());
    assertTrue(options.stream().noneMatch(o -> o.startsWith("--volume")), options.toString());
  }

  @Test
  void aDaemonSetOffTheHostNetworkFails() throws IOException {
    String yaml = manifest().replace("      hostNetwork: true\n", "");

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> WorkloadRun.parse(yaml));
    assertTrue(e.getMessage().contains("hostNetwork"), e.getMessage());
  }
}
