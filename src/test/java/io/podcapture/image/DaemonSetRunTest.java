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

/** The podman options the image test derives from deploy/daemonset.yaml, without podman. */
class DaemonSetRunTest {
  private static final Path CAPTURE = Path.of("/tmp/capture-volume");

  private static String manifest() throws IOException {
    return Files.readString(MockApiServer.projectDir().resolve("deploy/daemonset.yaml"));
  }

  private static List<String> options(String yaml) {
    DaemonSetRun run = DaemonSetRun.parse(yaml);
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
    DaemonSetRun run = DaemonSetRun.parse(manifest());
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
      strings = {"procMount: Default", "runAsGroup: 1000", "seLinuxOptions: {level: \"s0\"}"})
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
}
