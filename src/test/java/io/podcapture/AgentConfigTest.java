package io.podcapture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.agentfiles.FilesConfig;
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
  void theFileServerDefaultsServeTheControllerOfTheAgentsNamespace() {
    FilesConfig files =
        AgentConfig.fromEnvironment(Map.of("NODE_NAME", "n1", "POD_NAMESPACE", "podcapture"))
            .files();
    assertEquals(true, files.enabled());
    assertEquals(9398, files.port());
    assertEquals(Path.of("/etc/podcapture/agent-tls"), files.tlsDir());
    assertEquals(Duration.ofHours(1), files.maxRequest());
    assertEquals("system:serviceaccount:podcapture:podcapture-controller", files.controllerUser());
  }

  @Test
  void theFileServerSettingsAreRead() {
    FilesConfig files =
        AgentConfig.fromEnvironment(
                Map.of(
                    "NODE_NAME", "n1",
                    "FILES_SERVER", "OFF",
                    "FILES_PORT", "0",
                    "FILES_TLS_DIR", "/tls",
                    "FILES_MAX_REQUEST_SECONDS", "60",
                    "CONTROLLER_NAMESPACE", "ops",
                    "CONTROLLER_SERVICE_ACCOUNT", "reader"))
            .files();
    assertEquals(false, files.enabled());
    assertEquals(0, files.port());
    assertEquals(Path.of("/tls"), files.tlsDir());
    assertEquals(Duration.ofSeconds(60), files.maxRequest());
    assertEquals("system:serviceaccount:ops:reader", files.controllerUser());
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
    "ALLOW_HOST_NETWORK,1",
    "FILES_SERVER,maybe",
    "FILES_PORT,-1",
    "FILES_PORT,65536",
    "FILES_MAX_REQUEST_SECONDS,0",
    "CONTROLLER_NAMESPACE,Kube-System",
    "CONTROLLER_SERVICE_ACCOUNT,system:serviceaccount:x:y"
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
