package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.APIService;
import io.fabric8.kubernetes.api.model.APIServiceSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The files API's manifests against each other: deploy/files-api.yaml (the APIService), the
 * controller's Service, port and grants (deploy/controller.yaml, deploy/controller-rbac.yaml), the
 * agents' file port and certificate volume (deploy/daemonset.yaml, deploy/rbac.yaml), and who may
 * read files (deploy/user-roles.yaml). FilesApiClusterTest runs them on a real API server.
 */
class FilesApiManifestTest {
  static final String GROUP = "files.tcpdump.antrea.io";
  static final String API_SERVICE = "v1alpha1." + GROUP;
  static final String CONTROLLER_TLS = "podcapture-controller-tls";
  static final String AGENT_TLS = "podcapture-agent-tls";

  /** What a user reads files through; each needs {@code get} and nothing else. */
  static final List<String> FILE_RESOURCES =
      List.of(
          "podcapturefiles",
          "podcapturefiles/pcap",
          "podcapturefiles/merged",
          "podcapturefiles/log",
          "podcapturesetfiles",
          "podcapturesetfiles/merged");

  // ---- the APIService

  @Test
  void apiServiceNamesTheGroupAndTheControllersServiceAndLeavesTheCaToTheController() {
    APIService apiService = ManifestsTest.typed(ManifestsTest.FILES_API, APIService.class);
    assertEquals(
        API_SERVICE,
        apiService.getMetadata().getName(),
        "<version>.<group>, as the API server demands");
    APIServiceSpec spec = apiService.getSpec();
    assertEquals(GROUP, spec.getGroup());
    assertEquals("v1alpha1", spec.getVersion());
    assertEquals(1000, spec.getGroupPriorityMinimum());
    assertEquals(15, spec.getVersionPriority());
    assertNull(spec.getCaBundle(), "the controller patches it in");
    assertNull(spec.getInsecureSkipTLSVerify(), "the API server verifies the controller");

    Service controllerService = controllerService();
    assertEquals(controllerService.getMetadata().getName(), spec.getService().getName());
    assertEquals(controllerService.getMetadata().getNamespace(), spec.getService().getNamespace());
    assertEquals(
        controllerService.getSpec().getPorts().get(0).getPort(), spec.getService().getPort());
  }

  // ---- the controller

  @Test
  void controllersServiceSelectsItsPodsAndLeadsToTheFilesApiPort() {
    Service service = controllerService();
    Container controller = ControllerManifestTest.controller();
    Map<String, String> podLabels =
        ControllerManifestTest.deployment().getSpec().getTemplate().getMetadata().getLabels();

    assertEquals("podcapture-controller", service.getMetadata().getName());
    assertEquals(
        ControllerManifestTest.deployment().getMetadata().getNamespace(),
        service.getMetadata().getNamespace());
    assertNull(service.getSpec().getType(), "ClusterIP, the default: only the API server calls it");
    assertTrue(
        podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()),
        "selects the controller's Pods, every replica (the standby serves files too)");
    assertFalse(
        ManifestsTest.daemonSet()
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(service.getSpec().getSelector().entrySet()),
        "and no agent");
    assertEquals(1, service.getSpec().getPorts().size());
    ServicePort port = service.getSpec().getPorts().get(0);
    assertEquals(443, port.getPort());
    assertEquals("https", port.getTargetPort().getStrVal(), "by name, not number");
    ContainerPort https = port(controller, "https");
    assertEquals(
        Integer.valueOf(ManifestsTest.env(controller).get("FILES_API_PORT").getValue()),
        https.getContainerPort(),
        "FILES_API_PORT is the port the Service leads to");
    assertEquals(8443, https.getContainerPort(), "the documented default");
  }

  @Test
  void controllerKnowsItsServiceAccountFromTheDownwardApi() {
    EnvVar account = ManifestsTest.env(ControllerManifestTest.controller()).get("SERVICE_ACCOUNT");

    assertEquals("spec.serviceAccountName", account.getValueFrom().getFieldRef().getFieldPath());
  }

  /**
   * As the Kubernetes documentation prescribes for an extension API server: auth-delegator
   * (TokenReview, SubjectAccessReview) and extension-apiserver-authentication-reader (the front
   * proxy's CA and headers), both built in, bound to the controller's ServiceAccount.
   */
  @Test
  void controllerMayDelegateAuthenticationAndAuthorizationAndReadTheFrontProxysSettings() {
    ClusterRoleBinding delegator =
        controllerRbac(ClusterRoleBinding.class).stream()
            .filter(b -> b.getRoleRef().getName().equals("system:auth-delegator"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no binding to system:auth-delegator"));
    assertRef(delegator.getRoleRef(), "ClusterRole", "system:auth-delegator");
    assertControllerOnly(delegator.getSubjects());

    RoleBinding reader =
        controllerRbac(RoleBinding.class).stream()
            .filter(
                b -> b.getRoleRef().getName().equals("extension-apiserver-authentication-reader"))
            .findFirst()
            .orElseThrow(
                () ->
                    new AssertionError("no binding to extension-apiserver-authentication-reader"));
    assertRef(reader.getRoleRef(), "Role", "extension-apiserver-authentication-reader");
    assertEquals(
        "kube-system",
        reader.getMetadata().getNamespace(),
        "the built-in Role and its ConfigMap are in kube-system, wherever the controller runs");
    assertControllerOnly(reader.getSubjects());
  }

  /**
   * The controller's own namespace: its two Secrets by name (create cannot be limited by name),
   * never list or watch of Secrets, and tokens of its own ServiceAccount only.
   */
  @Test
  void controllerMayKeepOnlyItsTwoSecretsAndAskOnlyForItsOwnTokens() {
    Set<String> grants = new TreeSet<>();
    String namespace = ControllerManifestTest.deployment().getMetadata().getNamespace();
    for (Role role : controllerRbac(Role.class)) {
      for (PolicyRule rule : role.getRules()) {
        for (String resource : rule.getResources()) {
          if (resource.equals("secrets") || resource.startsWith("serviceaccounts")) {
            assertEquals(namespace, role.getMetadata().getNamespace(), rule.toString());
            assertEquals(List.of(""), rule.getApiGroups());
            for (String verb : rule.getVerbs()) {
              grants.add(verb + " " + resource + " " + new TreeSet<>(rule.getResourceNames()));
            }
          }
        }
      }
    }
    for (ClusterRole role : controllerRbac(ClusterRole.class)) {
      for (PolicyRule rule : role.getRules()) {
        assertFalse(rule.getResources().contains("secrets"), "cluster-wide Secrets: " + rule);
        assertFalse(
            rule.getResources().stream().anyMatch(r -> r.startsWith("serviceaccounts")),
            rule.toString());
      }
    }
    String both = new TreeSet<>(List.of(AGENT_TLS, CONTROLLER_TLS)).toString();
    assertEquals(
        new TreeSet<>(
            List.of(
                "create secrets []",
                "get secrets " + both,
                "update secrets " + both,
                "create serviceaccounts/token [podcapture-controller]")),
        grants);
    assertBoundToController(
        controllerRbac(Role.class).stream()
            .filter(r -> r.getRules().stream().anyMatch(x -> x.getResources().contains("secrets")))
            .findFirst()
            .orElseThrow()
            .getMetadata()
            .getName());
  }

  @Test
  void controllerMayOnlyReadAndPatchTheFilesApisApiService() {
    List<PolicyRule> rules = new ArrayList<>();
    for (ClusterRole role : controllerRbac(ClusterRole.class)) {
      for (PolicyRule rule : role.getRules()) {
        if (rule.getApiGroups().contains("apiregistration.k8s.io")) {
          rules.add(rule);
        }
      }
    }
    assertEquals(1, rules.size(), rules.toString());
    PolicyRule rule = rules.get(0);
    assertEquals(List.of("apiregistration.k8s.io"), rule.getApiGroups());
    assertEquals(List.of("apiservices"), rule.getResources());
    assertEquals(List.of(API_SERVICE), rule.getResourceNames());
    assertEquals(Set.of("get", "patch"), Set.copyOf(rule.getVerbs()));
  }

  // ---- the agents

  @Test
  void agentServesFilesOnANamedNodePortWithTheMountedCertificate() {
    Container agent = ManifestsTest.agent();
    PodSpec pod = ManifestsTest.daemonSet().getSpec().getTemplate().getSpec();
    Map<String, EnvVar> env = ManifestsTest.env(agent);

    ContainerPort files = port(agent, "files");
    assertEquals(
        Integer.valueOf(env.get("FILES_PORT").getValue()),
        files.getContainerPort(),
        "the controller finds the file port by the name files; FILES_PORT must be it");
    assertEquals(9398, files.getContainerPort(), "the documented default");
    assertTrue(
        files.getHostPort() == null || files.getHostPort().equals(files.getContainerPort()),
        "hostNetwork: the container port is the node's port");

    String tlsDir = env.get("FILES_TLS_DIR").getValue();
    VolumeMount mount =
        agent.getVolumeMounts().stream()
            .filter(m -> m.getMountPath().equals(tlsDir))
            .findFirst()
            .orElseThrow(() -> new AssertionError("nothing mounted at FILES_TLS_DIR " + tlsDir));
    assertEquals(Boolean.TRUE, mount.getReadOnly());
    Volume volume =
        pod.getVolumes().stream()
            .filter(v -> v.getName().equals(mount.getName()))
            .findFirst()
            .orElseThrow();
    assertEquals(AGENT_TLS, volume.getSecret().getSecretName());
    assertEquals(
        Boolean.TRUE,
        volume.getSecret().getOptional(),
        "an agent must start (and capture) before any controller has made the Secret");
    assertEquals(0400, volume.getSecret().getDefaultMode(), "the key readable by root only");
    assertTrue(
        volume.getSecret().getItems() == null || volume.getSecret().getItems().isEmpty(),
        "tls.crt and tls.key, as the Secret has them");
  }

  @Test
  void agentMayReviewTokensButNotAuthorizeUsers() {
    Set<String> authentication = new TreeSet<>();
    for (PolicyRule rule : ManifestsTest.clusterRole().getRules()) {
      for (String group : rule.getApiGroups()) {
        if (group.startsWith("authentication.") || group.startsWith("authorization.")) {
          for (String resource : rule.getResources()) {
            rule.getVerbs()
                .forEach(verb -> authentication.add(verb + " " + group + "/" + resource));
          }
        }
      }
    }
    assertEquals(
        Set.of("create authentication.k8s.io/tokenreviews"),
        authentication,
        "the agent checks that the caller is the controller; the controller authorizes users");
  }

  // ---- people

  @Test
  void viewerAndEditorMayReadFilesAndTheRoleSaysWhy() {
    String roles = ProjectFiles.read(ManifestsTest.USER_ROLES);
    assertTrue(roles.contains("pods/log"), "the comment compares files to a Pod's log");
    assertTrue(
        roles.contains("only to people who may see that traffic"),
        "the comment warns what a viewer sees");
    for (StrictManifests.Document document :
        StrictManifests.load(ManifestsTest.USER_ROLES, roles)) {
      ClusterRole role = (ClusterRole) StrictManifests.typed(document);
      List<PolicyRule> fileRules =
          role.getRules().stream().filter(r -> r.getApiGroups().contains(GROUP)).toList();
      assertEquals(1, fileRules.size(), role.getMetadata().getName());
      PolicyRule rule = fileRules.get(0);
      assertEquals(List.of(GROUP), rule.getApiGroups());
      assertEquals(FILE_RESOURCES, rule.getResources(), role.getMetadata().getName());
      assertEquals(List.of("get"), rule.getVerbs(), "the files API serves get only");
      assertTrue(rule.getResourceNames().isEmpty());
    }
  }

  // ---- helpers

  static Service controllerService() {
    return ControllerManifestTest.only(Service.class);
  }

  private static <T> List<T> controllerRbac(Class<T> type) {
    return StrictManifests.load(
            ControllerManifestTest.CONTROLLER_RBAC,
            ProjectFiles.read(ControllerManifestTest.CONTROLLER_RBAC))
        .stream()
        .map(StrictManifests::typed)
        .filter(type::isInstance)
        .map(type::cast)
        .toList();
  }

  private static void assertBoundToController(String roleName) {
    RoleBinding binding =
        controllerRbac(RoleBinding.class).stream()
            .filter(b -> b.getRoleRef().getName().equals(roleName))
            .findFirst()
            .orElseThrow(() -> new AssertionError("Role " + roleName + " is bound to nobody"));
    assertRef(binding.getRoleRef(), "Role", roleName);
    assertControllerOnly(binding.getSubjects());
  }

  private static void assertRef(RoleRef ref, String kind, String name) {
    assertEquals("rbac.authorization.k8s.io", ref.getApiGroup());
    assertEquals(kind, ref.getKind());
    assertEquals(name, ref.getName());
  }

  private static void assertControllerOnly(List<Subject> subjects) {
    assertEquals(1, subjects.size());
    Subject subject = subjects.get(0);
    assertEquals("ServiceAccount", subject.getKind());
    assertEquals(
        ControllerManifestTest.deployment()
            .getSpec()
            .getTemplate()
            .getSpec()
            .getServiceAccountName(),
        subject.getName());
    assertEquals(
        ControllerManifestTest.deployment().getMetadata().getNamespace(), subject.getNamespace());
  }

  private static ContainerPort port(Container container, String name) {
    return container.getPorts().stream()
        .filter(p -> name.equals(p.getName()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no container port named " + name));
  }
}
