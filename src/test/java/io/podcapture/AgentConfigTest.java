package io.podcapture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentConfigTest {

  @Test
  void defaultsApplyWhenOnlyNodeNameIsSet() {
    AgentConfig c = AgentConfig.fromEnvironment(Map.of("NODE_NAME", "n1"));
    assertEquals("n1", c.nodeName());
    assertEquals(Path.of("/capture"), c.captureDir());
    assertEquals(64, c.maxFiles());
    assertEquals(16, c.maxCaptures());
    assertEquals(1024, c.diskBudgetMB());
    assertEquals(Set.of("kube-system"), c.denyNamespaces());
    assertEquals(Duration.ofSeconds(10), c.statusRefresh());
    assertEquals(Duration.ofSeconds(5), c.stopGrace());
    assertEquals(9397, c.httpPort());
    assertEquals("info", c.logLevel());
    assertEquals("", c.agentPod());
    assertEquals(false, c.allowHostNetwork());
  }

  @Test
  void hostNetworkPodsAreAllowedOnlyWhenSaidSo() {
    assertEquals(
        true,
        AgentConfig.fromEnvironment(Map.of("NODE_NAME", "n1", "ALLOW_HOST_NETWORK", "true"))
            .allowHostNetwork());
    assertEquals(
        true,
        AgentConfig.fromEnvironment(Map.of("NODE_NAME", "n1", "ALLOW_HOST_NETWORK", " TRUE "))
            .allowHostNetwork());
    assertEquals(
        false,
        AgentConfig.fromEnvironment(Map.of("NODE_NAME", "n1", "ALLOW_HOST_NETWORK", "false"))
            .allowHostNetwork());
  }

  @Test
  void agentPodIsNamespaceSlashName() {
    AgentConfig c =
        AgentConfig.fromEnvironment(
            Map.of(
                "NODE_NAME",
                "n1",
                "POD_NAME",
                "podcapture-agent-x",
                "POD_NAMESPACE",
                "kube-system"));
    assertEquals("kube-system/podcapture-agent-x", c.agentPod());
  }

  @Test
  void missingNodeNameIsExplained() {
    AgentConfig.ConfigException e =
        assertThrows(
            AgentConfig.ConfigException.class, () -> AgentConfig.fromEnvironment(Map.of()));
    assertTrue(e.getMessage().startsWith("NODE_NAME is not set"), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({
    "MAX_FILES,abc",
    "MAX_FILES,0",
    "MAX_CAPTURES,-1",
    "HTTP_PORT,70000",
    "LOG_LEVEL,loud",
    "STATUS_REFRESH_SECONDS,0",
    "ALLOW_HOST_NETWORK,yes",
    "ALLOW_HOST_NETWORK,1"
  })
  void malformedSettingsNameTheSettingAndWhatIsAccepted(String name, String value) {
    AgentConfig.ConfigException e =
        assertThrows(
            AgentConfig.ConfigException.class,
            () -> AgentConfig.fromEnvironment(Map.of("NODE_NAME", "n1", name, value)));
    assertTrue(e.getMessage().startsWith(name + "="), e.getMessage());
    assertTrue(e.getMessage().contains("expected"), e.getMessage());
  }

  @Test
  void denyNamespacesIsACommaSeparatedList() {
    AgentConfig c =
        AgentConfig.fromEnvironment(
            Map.of("NODE_NAME", "n1", "DENY_NAMESPACES", " kube-system, secure ,"));
    assertEquals(Set.of("kube-system", "secure"), c.denyNamespaces());
    assertEquals(
        Set.of(),
        AgentConfig.fromEnvironment(Map.of("NODE_NAME", "n1", "DENY_NAMESPACES", ""))
            .denyNamespaces());
  }
}
