package io.podcapture.clusterwide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ControllerConfigTest {

  @Test
  void defaultsApplyWhenOnlyPodNameIsSet() {
    ControllerConfig c = ControllerConfig.fromEnvironment(Map.of("POD_NAME", "ctl-1"));
    assertEquals("ctl-1", c.podName());
    assertEquals("kube-system", c.podNamespace());
    assertEquals(9397, c.httpPort());
    assertEquals("kube-system", c.agentNamespace());
    assertEquals(Map.of("app.kubernetes.io/name", "podcapture-agent"), c.agentSelector());
    assertEquals("app.kubernetes.io/name=podcapture-agent", c.agentSelectorText());
    assertEquals(100, c.setMaxPodsCap());
    assertEquals("info", c.logLevel());
    assertEquals(8443, c.filesApiPort());
    assertEquals(16, c.filesApiMaxConcurrent());
    assertEquals(3600, c.filesApiMaxRequestSeconds());
    assertEquals("podcapture-controller", c.serviceAccount());
  }

  @Test
  void theFilesApiSettingsAreRead() {
    ControllerConfig c =
        ControllerConfig.fromEnvironment(
            Map.of(
                "POD_NAME", "c",
                "FILES_API_PORT", "0",
                "FILES_API_MAX_CONCURRENT", "4",
                "FILES_API_MAX_REQUEST_SECONDS", "60",
                "SERVICE_ACCOUNT", "ctl"));
    assertEquals(0, c.filesApiPort());
    assertEquals(4, c.filesApiMaxConcurrent());
    assertEquals(60, c.filesApiMaxRequestSeconds());
    assertEquals("ctl", c.serviceAccount());
  }

  @Test
  void theAgentNamespaceFollowsTheControllersOwnUnlessSet() {
    assertEquals(
        "podcapture",
        ControllerConfig.fromEnvironment(Map.of("POD_NAME", "c", "POD_NAMESPACE", "podcapture"))
            .agentNamespace());
    assertEquals(
        "agents",
        ControllerConfig.fromEnvironment(
                Map.of("POD_NAME", "c", "POD_NAMESPACE", "podcapture", "AGENT_NAMESPACE", "agents"))
            .agentNamespace());
  }

  @Test
  void aSelectorOfSeveralLabelsIsReadInFull() {
    ControllerConfig c =
        ControllerConfig.fromEnvironment(
            Map.of("POD_NAME", "c", "AGENT_SELECTOR", " app=agent , tier=node,empty= "));
    assertEquals(Map.of("app", "agent", "tier", "node", "empty", ""), c.agentSelector());
    assertEquals("app=agent,empty=,tier=node", c.agentSelectorText());
  }

  @Test
  void withoutPodNameItSaysWhatIsMissing() {
    ControllerConfig.ConfigException e =
        assertThrows(
            ControllerConfig.ConfigException.class,
            () -> ControllerConfig.fromEnvironment(Map.of("POD_NAMESPACE", "kube-system")));
    assertEquals(
        "POD_NAME is not set: set it to this controller replica's Pod name, its identity in the"
            + " Lease (in the Deployment it comes from the downward API, metadata.name)",
        e.getMessage());
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "SET_MAX_PODS_CAP|0|SET_MAX_PODS_CAP=0 is out of range: expected 1 to 1000",
        "SET_MAX_PODS_CAP|1001|SET_MAX_PODS_CAP=1001 is out of range: expected 1 to 1000",
        "SET_MAX_PODS_CAP|ten|SET_MAX_PODS_CAP=ten is not a whole number: expected 1 to 1000",
        "HTTP_PORT|65536|HTTP_PORT=65536 is out of range: expected 0 to 65535",
        "HTTP_PORT|-1|HTTP_PORT=-1 is out of range: expected 0 to 65535",
        "FILES_API_PORT|70000|FILES_API_PORT=70000 is out of range: expected 0 to 65535",
        "FILES_API_MAX_CONCURRENT|0|FILES_API_MAX_CONCURRENT=0 is out of range: expected 1 to 1024",
        "FILES_API_MAX_REQUEST_SECONDS|0|FILES_API_MAX_REQUEST_SECONDS=0 is out of range: expected"
            + " 1 to 86400",
        "SERVICE_ACCOUNT|Ctl_1|SERVICE_ACCOUNT=Ctl_1 is not a ServiceAccount name: expected"
            + " lower-case letters, digits, '-' and '.'",
        "LOG_LEVEL|loud|LOG_LEVEL=loud is not a level: expected trace, debug, info, warn or error",
        "AGENT_SELECTOR|app|AGENT_SELECTOR=app is not a label selector: expected key=value pairs"
            + " separated by commas, e.g. app.kubernetes.io/name=podcapture-agent",
        "AGENT_SELECTOR|app!=agent|AGENT_SELECTOR=app!=agent is not a label selector: expected"
            + " key=value pairs separated by commas, e.g. app.kubernetes.io/name=podcapture-agent",
        "AGENT_SELECTOR|app==agent|AGENT_SELECTOR=app==agent is not a label selector: expected"
            + " key=value pairs separated by commas, e.g. app.kubernetes.io/name=podcapture-agent",
        "AGENT_SELECTOR|a=b,,c=d|AGENT_SELECTOR=a=b,,c=d is not a label selector: expected"
            + " key=value pairs separated by commas, e.g. app.kubernetes.io/name=podcapture-agent",
        "AGENT_SELECTOR|a=b,a=c|AGENT_SELECTOR=a=b,a=c is not a label selector: expected"
            + " key=value pairs separated by commas, e.g. app.kubernetes.io/name=podcapture-agent",
        "AGENT_SELECTOR|a=b c|AGENT_SELECTOR=a=b c is not a label selector: expected"
            + " key=value pairs separated by commas, e.g. app.kubernetes.io/name=podcapture-agent",
        "POD_NAMESPACE|Kube_System|POD_NAMESPACE=Kube_System is not a namespace name: expected at"
            + " most 63 lower-case letters, digits and '-', starting and ending with a letter or"
            + " digit",
        "AGENT_NAMESPACE|-agents|AGENT_NAMESPACE=-agents is not a namespace name: expected at"
            + " most 63 lower-case letters, digits and '-', starting and ending with a letter or"
            + " digit",
      })
  void aMalformedSettingIsNamedWithWhatIsAccepted(String name, String value, String message) {
    ControllerConfig.ConfigException e =
        assertThrows(
            ControllerConfig.ConfigException.class,
            () -> ControllerConfig.fromEnvironment(Map.of("POD_NAME", "c", name, value)));
    assertEquals(message, e.getMessage());
  }
}
