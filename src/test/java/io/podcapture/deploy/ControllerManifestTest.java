package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * deploy/controller.yaml: the controller's Deployment (two replicas of the agent's image in
 * controller mode, no capability, not root) and its PodDisruptionBudget; and
 * deploy/kustomization.yaml, which installs both modes.
 */
class ControllerManifestTest {
  static final String CONTROLLER = "deploy/controller.yaml";
  static final String CONTROLLER_RBAC = "deploy/controller-rbac.yaml";

  @Test
  void controllerIsTwoReplicasInKubeSystemSelectingTheirOwnPods() {
    Deployment deployment = deployment();
    Map<String, String> labels =
        Map.of("app", "podcapture-controller", "app.kubernetes.io/name", "podcapture-controller");

    assertEquals("podcapture-controller", deployment.getMetadata().getName());
    assertEquals("kube-system", deployment.getMetadata().getNamespace());
    assertEquals(2, deployment.getSpec().getReplicas());
    assertEquals(labels, deployment.getSpec().getSelector().getMatchLabels());
    assertTrue(
        deployment
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(labels.entrySet()));
    assertEquals(
        0,
        deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal(),
        "a rollout starts the new replica before it stops an old one");
  }

  @Test
  void controllerRunsTheAgentsImageInControllerMode() {
    Container controller = controller();
    Map<String, EnvVar> env = ManifestsTest.env(controller);

    assertEquals(ManifestsTest.agent().getImage(), controller.getImage(), "one image, two modes");
    assertEquals(ManifestsTest.agent().getImagePullPolicy(), controller.getImagePullPolicy());
    assertEquals("controller", env.get("PODCAPTURE_MODE").getValue());
    assertEquals("metadata.name", env.get("POD_NAME").getValueFrom().getFieldRef().getFieldPath());
    assertEquals(
        "metadata.namespace", env.get("POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath());
    assertNull(env.get("NODE_NAME"), "the controller belongs to no node");
    assertEquals("100", env.get("SET_MAX_PODS_CAP").getValue());
  }

  @Test
  void agentSelectorSelectsTheDaemonSetsPods() {
    String selector = ManifestsTest.env(controller()).get("AGENT_SELECTOR").getValue();
    Map<String, String> wanted =
        Arrays.stream(selector.split(","))
            .map(term -> term.split("=", 2))
            .collect(Collectors.toMap(kv -> kv[0], kv -> kv[1]));
    Map<String, String> agentLabels =
        ManifestsTest.daemonSet().getSpec().getTemplate().getMetadata().getLabels();

    assertEquals("app.kubernetes.io/name=podcapture-agent", selector, "the documented default");
    assertTrue(agentLabels.entrySet().containsAll(wanted.entrySet()), selector);
    assertFalse(
        deployment()
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(wanted.entrySet()),
        "the controller's own Pods must not count as agents");
  }

  @Test
  void probesAndMetricsUseTheControllersHttpPort() {
    Container controller = controller();
    assertEquals(
        List.of("http", "https"),
        controller.getPorts().stream().map(p -> p.getName()).toList(),
        "the HTTP port first (probes, metrics), then the files API's (FilesApiManifestTest)");
    assertEquals(
        Integer.valueOf(ManifestsTest.env(controller).get("HTTP_PORT").getValue()),
        controller.getPorts().get(0).getContainerPort());
    assertHttpProbe(controller.getLivenessProbe(), "/healthz");
    assertHttpProbe(controller.getReadinessProbe(), "/readyz");
    assertHttpProbe(controller.getStartupProbe(), "/healthz");
    Map<String, String> scrape =
        deployment().getSpec().getTemplate().getMetadata().getAnnotations();
    assertEquals(
        String.valueOf(controller.getPorts().get(0).getContainerPort()),
        scrape.get("prometheus.io/port"));
    assertEquals("/metrics", scrape.get("prometheus.io/path"));
  }

  @Test
  void controllerHasNoCapabilityAndIsNotRoot() {
    SecurityContext security = controller().getSecurityContext();

    assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
    assertTrue(
        security.getCapabilities().getAdd() == null
            || security.getCapabilities().getAdd().isEmpty(),
        "it never runs tcpdump");
    assertEquals(Boolean.TRUE, security.getRunAsNonRoot());
    // The image has no USER: runAsNonRoot alone would make the kubelet refuse to start it.
    assertNotNull(security.getRunAsUser());
    assertNotEquals(0L, security.getRunAsUser());
    assertEquals(Boolean.FALSE, security.getPrivileged());
    assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation());
    assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
    assertEquals("RuntimeDefault", security.getSeccompProfile().getType());
  }

  @Test
  void controllerSharesNothingWithItsNode() {
    PodSpec pod = deployment().getSpec().getTemplate().getSpec();

    assertNotEquals(Boolean.TRUE, pod.getHostNetwork());
    assertNotEquals(Boolean.TRUE, pod.getHostPID());
    assertNotEquals(Boolean.TRUE, pod.getHostIPC());
    pod.getVolumes().forEach(v -> assertNull(v.getHostPath(), v.getName()));
    assertEquals(
        "/tmp",
        controller().getVolumeMounts().stream()
            .map(m -> m.getMountPath())
            .collect(Collectors.joining(",")),
        "a writable /tmp for the JVM and nothing else");
  }

  @Test
  void controllerRequestsAndLimitsMemory() {
    Map<String, Quantity> requests = controller().getResources().getRequests();
    Map<String, Quantity> limits = controller().getResources().getLimits();

    assertNotNull(requests.get("memory"));
    assertNotNull(limits.get("memory"));
    assertNotNull(requests.get("cpu"));
    assertTrue(
        Quantity.getAmountInBytes(requests.get("memory"))
                .compareTo(Quantity.getAmountInBytes(limits.get("memory")))
            <= 0);
  }

  @Test
  void replicasPreferDifferentNodes() {
    List<WeightedPodAffinityTerm> terms =
        deployment()
            .getSpec()
            .getTemplate()
            .getSpec()
            .getAffinity()
            .getPodAntiAffinity()
            .getPreferredDuringSchedulingIgnoredDuringExecution();

    assertEquals(1, terms.size());
    assertEquals("kubernetes.io/hostname", terms.get(0).getPodAffinityTerm().getTopologyKey());
    Map<String, String> selected =
        terms.get(0).getPodAffinityTerm().getLabelSelector().getMatchLabels();
    assertTrue(
        deployment()
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(selected.entrySet()),
        "spreads the controller's own Pods");
  }

  @Test
  void aDisruptionLeavesOneReplica() {
    PodDisruptionBudget pdb = only(PodDisruptionBudget.class);

    assertEquals(deployment().getMetadata().getNamespace(), pdb.getMetadata().getNamespace());
    assertEquals(1, pdb.getSpec().getMinAvailable().getIntVal());
    assertEquals(
        deployment().getSpec().getSelector().getMatchLabels(),
        pdb.getSpec().getSelector().getMatchLabels());
  }

  @Test
  void controllerRunsAsItsOwnServiceAccountNotTheAgents() {
    String account = deployment().getSpec().getTemplate().getSpec().getServiceAccountName();
    assertEquals("podcapture-controller", account);
    assertNotEquals(
        ManifestsTest.daemonSet().getSpec().getTemplate().getSpec().getServiceAccountName(),
        account);
    List<ServiceAccount> accounts =
        StrictManifests.load(CONTROLLER_RBAC, ProjectFiles.read(CONTROLLER_RBAC)).stream()
            .map(StrictManifests::typed)
            .filter(ServiceAccount.class::isInstance)
            .map(ServiceAccount.class::cast)
            .toList();
    assertEquals(
        List.of(account + " in " + deployment().getMetadata().getNamespace()),
        accounts.stream()
            .map(a -> a.getMetadata().getName() + " in " + a.getMetadata().getNamespace())
            .toList());
  }

  /**
   * kustomize has no fabric8 model: its few keys are checked by hand, and its files must exist. The
   * CRDs come in through crds/Kustomization (kustomize loads no file outside deploy/, but may load
   * another kustomization's folder).
   */
  @Test
  void kustomizationInstallsBothModesTheCrdsTheFilesApiAndThePolicies() {
    Map<String, Object> raw = ManifestsTest.only(ManifestsTest.KUSTOMIZATION).raw();
    assertEquals(
        Set.of("apiVersion", "kind", "resources"), raw.keySet(), "no namespace or label rewrite");
    List<?> resources = (List<?>) raw.get("resources");

    assertEquals(
        List.of(
            "../crds",
            "rbac.yaml",
            "controller-rbac.yaml",
            "controller.yaml",
            "files-api.yaml",
            "daemonset.yaml",
            "node-restriction.yaml",
            "user-roles.yaml"),
        resources);
    for (Object resource : resources) {
      assertTrue(
          Files.exists(ProjectFiles.path("deploy").resolve(resource.toString())),
          resource + " exists");
    }
  }

  @Test
  void crdsKustomizationListsEveryCrdAndIsNoYamlFile() {
    // Without an extension, so that kubectl apply -f crds/ does not take it for an object.
    StrictManifests.Document crds =
        StrictManifests.load("crds/Kustomization", ProjectFiles.read("crds/Kustomization")).get(0);
    Set<String> listed = new TreeSet<>();
    ((List<?>) crds.raw().get("resources")).forEach(r -> listed.add(r.toString()));

    assertEquals("Kustomization", crds.kind());
    assertEquals(
        ProjectFiles.yamlFiles("crds").stream()
            .map(f -> f.getFileName().toString())
            .collect(Collectors.toCollection(TreeSet::new)),
        listed);
    assertEquals(2, listed.size(), "PodCapture and PodCaptureSet");
  }

  // ---- helpers

  static Deployment deployment() {
    return only(Deployment.class);
  }

  static Container controller() {
    List<Container> containers = deployment().getSpec().getTemplate().getSpec().getContainers();
    assertEquals(1, containers.size());
    return containers.get(0);
  }

  static <T> T only(Class<T> type) {
    List<T> found =
        StrictManifests.load(CONTROLLER, ProjectFiles.read(CONTROLLER)).stream()
            .map(StrictManifests::typed)
            .filter(type::isInstance)
            .map(type::cast)
            .toList();
    assertEquals(1, found.size(), "one " + type.getSimpleName() + " in " + CONTROLLER);
    return found.get(0);
  }

  private static void assertHttpProbe(Probe probe, String path) {
    assertNotNull(probe, "probe on " + path);
    assertEquals(path, probe.getHttpGet().getPath());
    assertEquals("http", probe.getHttpGet().getPort().getStrVal());
  }
}
