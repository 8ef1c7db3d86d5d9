package io.podcapture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.AgentJvm;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The agent's entry point as a real process, the way the container starts it. */
@Tag("integration")
class MainTest {

  private static Process start(String... env) throws Exception {
    // the kit's agent JVM, with an environment that holds nothing else: the settings are the test
    ProcessBuilder pb = new ProcessBuilder(AgentJvm.argv(List.of(), AgentJvm.classpathLaunch()));
    pb.environment().clear();
    for (int i = 0; i < env.length; i += 2) {
      pb.environment().put(env[i], env[i + 1]);
    }
    return pb.start();
  }

  private static String read(java.io.InputStream in) throws Exception {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  void withoutNodeNameItExitsNonZeroWithOneLineSayingWhatIsMissing() throws Exception {
    Process p = start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    List<String> lines = read(p.getErrorStream()).lines().toList();
    assertEquals(2, p.exitValue());
    assertEquals(1, lines.size(), "one line: " + lines);
    assertTrue(lines.get(0).startsWith("podcapture-agent: NODE_NAME is not set"), lines.get(0));
    assertEquals("", read(p.getInputStream()));
  }

  @Test
  void aMalformedSettingIsNamedInOneLine() throws Exception {
    Process p = start("NODE_NAME", "n1", "MAX_FILES", "lots");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    List<String> lines = read(p.getErrorStream()).lines().toList();
    assertEquals(2, p.exitValue());
    assertEquals(
        List.of("podcapture-agent: MAX_FILES=lots is not a whole number: expected 1 to 1000"),
        lines);
  }

  @Test
  void anUnknownModeExitsTwoWithOneLineSayingWhatIsAccepted() throws Exception {
    Process p = start("PODCAPTURE_MODE", "operator", "NODE_NAME", "n1");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    assertEquals(
        List.of(
            "podcapture: PODCAPTURE_MODE=operator is not a mode: expected agent (the default) or"
                + " controller"),
        read(p.getErrorStream()).lines().toList());
    assertEquals("", read(p.getInputStream()));
  }

  @Test
  void theAgentModeNamedExplicitlyIsTheAgent() throws Exception {
    Process p = start("PODCAPTURE_MODE", "agent");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    List<String> lines = read(p.getErrorStream()).lines().toList();
    assertEquals(1, lines.size(), "one line: " + lines);
    assertTrue(lines.get(0).startsWith("podcapture-agent: NODE_NAME is not set"), lines.get(0));
  }

  @Test
  void theControllerWithoutPodNameExitsTwoSayingWhatIsMissing() throws Exception {
    Process p = start("PODCAPTURE_MODE", "controller");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    List<String> lines = read(p.getErrorStream()).lines().toList();
    assertEquals(1, lines.size(), "one line: " + lines);
    assertTrue(lines.get(0).startsWith("podcapture-controller: POD_NAME is not set"), lines.get(0));
    assertEquals("", read(p.getInputStream()));
  }

  @Test
  void theControllersMalformedSettingIsNamedInOneLine() throws Exception {
    Process p =
        start("PODCAPTURE_MODE", "controller", "POD_NAME", "c-1", "SET_MAX_PODS_CAP", "5000");
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    assertEquals(
        List.of("podcapture-controller: SET_MAX_PODS_CAP=5000 is out of range: expected 1 to 1000"),
        read(p.getErrorStream()).lines().toList());
  }
}
