package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.podcapture.api.v1alpha1.CaptureFile;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The manifests in deploy/, examples/ and crds/: each parses strictly into its typed model, and the
 * agent's DaemonSet, RBAC and the examples say what the design decided.
 */
class ManifestsTest {
  static final String DAEMONSET = "deploy/daemonset.yaml";
  static final String RBAC = "deploy/rbac.yaml";
  static final String TEST_POD = "deploy/test-pod.yaml";
  static final String KUSTOMIZATION = "deploy/kustomization.yaml";
  static final String USER_ROLES = "deploy/user-roles.yaml";
  static final String FILES_API = "deploy/files-api.yaml";
  static final String ANNOTATED_POD = "examples/annotated-pod.yaml";
  static final String SAMPLE_OUTPUT = "examples/podcapture-sample-output.yaml";
  static final String POD_MONITOR = "examples/podmonitor.yaml";
  static final String FILTERED_CAPTURE = "examples/podcapture-filtered.yaml";
  static final String PACKET_COUNT_CAPTURE = "examples/podcapture-packet-count.yaml";
  static final String TTL_CAPTURE = "examples/podcapture-ttl.yaml";
  static final String CAPTURE_SET = "examples/podcaptureset.yaml";

  private static final List<String> FOLDERS = List.of("deploy", "examples", "crds");

  /**
   * Kinds fabric8 7.5.2 has no model for: they would parse as GenericKubernetesResource, where
   * every field is "unknown". Each has a test of its own that checks its structure instead.
   */
  private static final Set<String> UNTYPED_KINDS =
      Set.of(
          "monitoring.coreos.com/v1 PodMonitor", "kustomize.config.k8s.io/v1beta1 Kustomization");

  /**
   * What the agent may do, by "apiGroup resource" (core group as "core"). The one place to adjust
   * when the agent's requests change; the comments in deploy/rbac.yaml say which request needs
   * which grant.
   */
  private static final Map<String, Set<String>> AGENT_GRANTS =
      Map.of(
          "core pods", Set.of("get", "list", "watch", "patch"),
          "tcpdump.antrea.io podcaptures",
              Set.of("get", "list", "watch", "create", "update", "patch", "delete"),
          "tcpdump.antrea.io podcaptures/status", Set.of("update"),
          "core events", Set.of("create", "patch"),
          "authentication.k8s.io tokenreviews", Set.of("create"));

  static Stream<StrictManifests.Document> allDocuments() {
    return FOLDERS.stream()
        .flatMap(folder -> ProjectFiles.yamlFiles(folder).stream())
        .flatMap(file -> StrictManifests.load(ProjectFiles.relative(file), read(file)).stream());
  }

  static Stream<StrictManifests.Document> typedDocuments() {
    return allDocuments().filter(d -> !UNTYPED_KINDS.contains(d.apiVersion() + " " + d.kind()));
  }

  // ---- every manifest

  @ParameterizedTest(name = "{0}")
  @MethodSource("typedDocuments")
  void parsesIntoItsTypedModelWithNoUnknownField(StrictManifests.Document document) {
    assertEquals(List.of(), StrictManifests.problems(document));
  }

  @Test
  void everyManifestFileIsFoundAndChecked() {
    Set<String> files =
        allDocuments().map(StrictManifests.Document::source).collect(Collectors.toSet());

    assertTrue(
        files.containsAll(
            Set.of(
                DAEMONSET,
                RBAC,
                ControllerManifestTest.CONTROLLER,
                USER_ROLES,
                FILES_API,
                TEST_POD,
                KUSTOMIZATION,
                ANNOTATED_POD,
                SAMPLE_OUTPUT,
                POD_MONITOR,
                FILTERED_CAPTURE,
                PACKET_COUNT_CAPTURE,
                TTL_CAPTURE,
                CAPTURE_SET,
                CrdTest.CHECKED_IN_CRD)),
        "found " + files);
  }

  @Test
  void namespacedObjectsNameTheirNamespaceAndClusterWideOnesDoNot() {
    List<String> wrong = new ArrayList<>();
    typedDocuments()
        .forEach(
            document -> {
              for (HasMetadata object : objects(StrictManifests.typed(document))) {
                String namespace = object.getMetadata().getNamespace();
                if (object instanceof Namespaced && (namespace == null || namespace.isBlank())) {
                  wrong.add(
                      document
                          + ": "
                          + object.getKind()
                          + " without a namespace lands in the current one");
                } else if (!(object instanceof Namespaced) && namespace != null) {
                  wrong.add(
                      document
                          + ": "
                          + object.getKind()
                          + " is cluster-wide but names namespace "
                          + namespace);
                }
              }
            });
    assertEquals(List.of(), wrong);
  }

  // ---- the agent's DaemonSet

  @Test
  void daemonSetIsTheAgentInKubeSystemSelectingItsOwnPods() {
    DaemonSet ds = daemonSet();
    Map<String, String> labels =
        Map.of("app", "podcapture-agent", "app.kubernetes.io/name", "podcapture-agent");

    assertEquals("podcapture-agent", ds.getMetadata().getName());
    assertEquals("kube-system", ds.getMetadata().getNamespace());
    assertEquals(labels, ds.getMetadata().getLabels());
    assertEquals(labels, ds.getSpec().getSelector().getMatchLabels());
    assertTrue(
        ds.getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(labels.entrySet()),
        "the Pod template must carry the selector's labels");
    assertEquals("RollingUpdate", ds.getSpec().getUpdateStrategy().getType());
    assertEquals(
        1, ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable().getIntVal());
  }

  @Test
  void agentRunsOnEveryNodeInTheNodesNetwork() {
    PodSpec pod = daemonSet().getSpec().getTemplate().getSpec();

    assertEquals(
        Boolean.TRUE, pod.getHostNetwork(), "tcpdump -i any must see the node's Pod interfaces");
    assertEquals(
        "ClusterFirstWithHostNet",
        pod.getDnsPolicy(),
        "with hostNetwork, to still resolve Services");
    assertEquals("system-node-critical", pod.getPriorityClassName());
    assertEquals(
        Set.of("NoSchedule", "NoExecute"),
        pod.getTolerations().stream()
            .filter(t -> "Exists".equals(t.getOperator()) && t.getKey() == null)
            .map(Toleration::getEffect)
            .collect(Collectors.toSet()),
        "tolerates every taint of both effects");
  }

  @Test
  void agentSharesNothingElseWithTheNode() {
    PodSpec pod = daemonSet().getSpec().getTemplate().getSpec();

    assertNotEquals(Boolean.TRUE, pod.getHostPID(), "hostPID");
    assertNotEquals(Boolean.TRUE, pod.getHostIPC(), "hostIPC");
    for (Volume volume : pod.getVolumes()) {
      assertNull(volume.getHostPath(), volume.getName() + " is a hostPath volume");
      if (volume.getSecret() != null) {
        // the file port's certificate (FilesApiManifestTest), from the cluster, not the node
        assertEquals("podcapture-agent-tls", volume.getSecret().getSecretName());
        continue;
      }
      assertNotNull(volume.getEmptyDir(), volume.getName() + " should be an emptyDir");
    }
  }

  @Test
  void agentLearnsWhoAndWhereItIsFromTheDownwardApi() {
    Map<String, EnvVar> env = env(agent());

    assertEquals("spec.nodeName", fieldPath(env.get("NODE_NAME")));
    assertEquals("metadata.name", fieldPath(env.get("POD_NAME")));
    assertEquals("metadata.namespace", fieldPath(env.get("POD_NAMESPACE")));
  }

  @Test
  void agentSettingsAreTheDecidedDefaults() {
    Map<String, String> values =
        env(agent()).values().stream()
            .filter(e -> e.getValueFrom() == null)
            .collect(
                Collectors.toMap(EnvVar::getName, EnvVar::getValue, (a, b) -> a, TreeMap::new));

    assertEquals(
        new TreeMap<>(
            Map.ofEntries(
                Map.entry("CAPTURE_DIR", "/capture"),
                Map.entry("MAX_FILES", "64"),
                Map.entry("MAX_CAPTURES", "16"),
                Map.entry("DISK_BUDGET_MB", "1024"),
                Map.entry("DENY_NAMESPACES", "kube-system"),
                Map.entry("STATUS_REFRESH_SECONDS", "10"),
                Map.entry("STOP_GRACE_SECONDS", "5"),
                Map.entry("HTTP_PORT", "9397"),
                Map.entry("FILES_PORT", "9398"),
                Map.entry("FILES_TLS_DIR", "/etc/podcapture/agent-tls"),
                Map.entry("LOG_LEVEL", "info"),
                Map.entry("ALLOW_HOST_NETWORK", "false"))),
        values);
  }

  @Test
  void capturesGoToAnEmptyDirLargerThanTheAgentsDiskBudget() {
    PodSpec pod = daemonSet().getSpec().getTemplate().getSpec();
    Container agent = agent();

    VolumeMount captureMount = mountAt(agent, env(agent).get("CAPTURE_DIR").getValue());
    Volume capture = volume(pod, captureMount.getName());
    assertNotEquals(Boolean.TRUE, captureMount.getReadOnly());
    assertEquals(new Quantity("2Gi"), capture.getEmptyDir().getSizeLimit());

    BigDecimal budget =
        BigDecimal.valueOf(Long.parseLong(env(agent).get("DISK_BUDGET_MB").getValue()))
            .multiply(BigDecimal.valueOf(1024L * 1024));
    BigDecimal sizeLimit = Quantity.getAmountInBytes(capture.getEmptyDir().getSizeLimit());
    assertTrue(
        budget.multiply(BigDecimal.valueOf(2)).compareTo(sizeLimit) <= 0,
        "the kubelet evicts the Pod past sizeLimit: keep it at least twice DISK_BUDGET_MB (tcpdump overshoots -C,"
            + " and one generation of files may be kept)");
  }

  @Test
  void jvmGetsAWritableTmpInMemoryOnTheReadOnlyRoot() {
    PodSpec pod = daemonSet().getSpec().getTemplate().getSpec();
    Volume tmp = volume(pod, mountAt(agent(), "/tmp").getName());

    assertEquals("Memory", tmp.getEmptyDir().getMedium());
    BigDecimal sizeLimit = Quantity.getAmountInBytes(tmp.getEmptyDir().getSizeLimit());
    assertTrue(
        sizeLimit.compareTo(Quantity.getAmountInBytes(new Quantity("32Mi"))) <= 0,
        "a memory-backed tmp counts against the memory limit: keep it small");
  }

  @Test
  void agentHasExactlyTheCapabilitiesTcpdumpNeeds() {
    Capabilities capabilities = agent().getSecurityContext().getCapabilities();

    assertEquals(List.of("ALL"), capabilities.getDrop());
    assertEquals(
        Set.of("NET_RAW", "SETGID"),
        new TreeSet<>(capabilities.getAdd()),
        "NET_RAW for the packet socket; SETGID for -Z root; no SETUID, no NET_ADMIN (see CapabilitiesTest)");
    assertEquals(2, capabilities.getAdd().size(), "no capability listed twice");
  }

  @Test
  void agentContainerIsOtherwiseLockedDown() {
    SecurityContext security = agent().getSecurityContext();

    assertEquals(Boolean.FALSE, security.getPrivileged());
    assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation());
    assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
    assertEquals("RuntimeDefault", security.getSeccompProfile().getType());
    // Root on purpose (tcpdump -Z root; no ambient capabilities for non-root): said, not left to
    // the image.
    assertEquals(0L, security.getRunAsUser());
    assertEquals(Boolean.FALSE, security.getRunAsNonRoot());
    assertNull(
        daemonSet().getSpec().getTemplate().getSpec().getSecurityContext(),
        "all of it on the container, in one place");
  }

  @Test
  void agentRequestsAndLimitsCpuAndMemory() {
    Map<String, Quantity> requests = agent().getResources().getRequests();
    Map<String, Quantity> limits = agent().getResources().getLimits();

    // as bench/run.sh measured them (BENCHMARKS.md)
    assertEquals(Map.of("cpu", new Quantity("50m"), "memory", new Quantity("128Mi")), requests);
    assertEquals(Map.of("cpu", new Quantity("1"), "memory", new Quantity("192Mi")), limits);
  }

  @Test
  void probesAskTheAgentsHttpPort() {
    Container agent = agent();
    assertEquals(
        List.of("http", "files"),
        agent.getPorts().stream().map(ContainerPort::getName).toList(),
        "the HTTP port first (probes, metrics), then the file port (FilesApiManifestTest)");
    assertEquals(
        Integer.valueOf(env(agent).get("HTTP_PORT").getValue()),
        agent.getPorts().get(0).getContainerPort(),
        "HTTP_PORT must be the port the probes and Prometheus use");

    assertHttpProbe(agent.getLivenessProbe(), "/healthz");
    assertHttpProbe(agent.getReadinessProbe(), "/readyz");
    if (agent.getStartupProbe() != null) {
      assertHttpProbe(agent.getStartupProbe(), "/healthz");
    }
    Map<String, String> scrape = daemonSet().getSpec().getTemplate().getMetadata().getAnnotations();
    assertEquals("true", scrape.get("prometheus.io/scrape"));
    assertEquals(
        String.valueOf(agent.getPorts().get(0).getContainerPort()),
        scrape.get("prometheus.io/port"));
    assertEquals("/metrics", scrape.get("prometheus.io/path"));
  }

  @Test
  void shutdownLeavesTheAgentTimeToStopItsCaptures() {
    long podGrace =
        daemonSet().getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
    long stopGrace = Long.parseLong(env(agent()).get("STOP_GRACE_SECONDS").getValue());

    assertEquals(30, podGrace);
    assertTrue(
        stopGrace * 2 < podGrace,
        "SIGTERM, STOP_GRACE_SECONDS, SIGKILL and cleanup must fit in the Pod's grace");
  }

  @Test
  void imageIsTheLocallyBuiltOne() {
    assertEquals("podcapture-agent:dev", agent().getImage());
    assertEquals(
        "IfNotPresent",
        agent().getImagePullPolicy(),
        "kind load puts the image on the nodes; never pull it");
  }

  @Test
  void agentRunsAsTheServiceAccountTheRbacBinds() {
    ServiceAccount account = rbac(ServiceAccount.class).get(0);

    assertEquals(
        account.getMetadata().getName(),
        daemonSet().getSpec().getTemplate().getSpec().getServiceAccountName());
    assertEquals(account.getMetadata().getNamespace(), daemonSet().getMetadata().getNamespace());
  }

  // ---- RBAC

  @Test
  void clusterRoleGrantsExactlyWhatTheAgentNeeds() {
    Map<String, Set<String>> granted = new TreeMap<>();
    for (PolicyRule rule : clusterRole().getRules()) {
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          granted
              .computeIfAbsent(
                  (group.isEmpty() ? "core" : group) + " " + resource, k -> new TreeSet<>())
              .addAll(rule.getVerbs());
        }
      }
    }
    Map<String, Set<String>> expected = new TreeMap<>();
    AGENT_GRANTS.forEach((resource, verbs) -> expected.put(resource, new TreeSet<>(verbs)));

    assertEquals(expected, granted);
  }

  @Test
  void clusterRoleHasNoWildcardSecretOrExec() {
    for (PolicyRule rule : clusterRole().getRules()) {
      Stream.of(rule.getApiGroups(), rule.getResources(), rule.getVerbs())
          .flatMap(List::stream)
          .forEach(value -> assertFalse(value.contains("*"), "wildcard in " + rule));
      assertFalse(rule.getResources().contains("secrets"), "secrets in " + rule);
      assertFalse(
          rule.getResources().stream().anyMatch(r -> r.startsWith("pods/")),
          "pods subresource in " + rule);
      assertTrue(
          rule.getResourceNames().isEmpty() && rule.getNonResourceURLs().isEmpty(),
          rule.toString());
      assertFalse(
          rule.getVerbs().stream().anyMatch(Set.of("escalate", "bind", "impersonate")::contains),
          rule.toString());
    }
  }

  @Test
  void eventsCanOnlyBeCreatedAndPatched() {
    for (PolicyRule rule : clusterRole().getRules()) {
      if (rule.getResources().contains("events")) {
        assertEquals(List.of(""), rule.getApiGroups(), "core v1 Events only, not events.k8s.io");
        assertEquals(Set.of("create", "patch"), Set.copyOf(rule.getVerbs()));
      }
    }
  }

  @Test
  void bindingGivesTheRoleToTheAgentsServiceAccount() {
    ClusterRoleBinding binding = rbac(ClusterRoleBinding.class).get(0);
    ServiceAccount account = rbac(ServiceAccount.class).get(0);

    assertEquals("ClusterRole", binding.getRoleRef().getKind());
    assertEquals("rbac.authorization.k8s.io", binding.getRoleRef().getApiGroup());
    assertEquals(clusterRole().getMetadata().getName(), binding.getRoleRef().getName());
    assertEquals(1, binding.getSubjects().size());
    Subject subject = binding.getSubjects().get(0);
    assertEquals("ServiceAccount", subject.getKind());
    assertEquals(account.getMetadata().getName(), subject.getName());
    assertEquals(account.getMetadata().getNamespace(), subject.getNamespace());
  }

  @Test
  void rbacFileHoldsOneAccountOneRoleAndOneBinding() {
    List<String> kinds =
        StrictManifests.load(RBAC, ProjectFiles.read(RBAC)).stream()
            .map(StrictManifests.Document::kind)
            .collect(Collectors.toList());

    assertEquals(List.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding"), kinds);
  }

  @Test
  void theAgentMayNotTouchALease() {
    // The election left the agents for the controller (issue 21): no Role, no Lease grant.
    assertTrue(
        StrictManifests.load(RBAC, ProjectFiles.read(RBAC)).stream()
            .noneMatch(d -> d.kind().equals("Role") || d.kind().equals("RoleBinding")),
        RBAC + " holds a Role");
    for (PolicyRule rule : clusterRole().getRules()) {
      assertFalse(rule.getApiGroups().contains("coordination.k8s.io"), rule.toString());
      assertFalse(rule.getResources().contains("leases"), rule.toString());
    }
  }

  @Test
  void userRolesLetPeopleCaptureOrWatchAndAreNotAggregated() {
    Map<String, Set<String>> verbs = new TreeMap<>();
    for (StrictManifests.Document document :
        StrictManifests.load(USER_ROLES, ProjectFiles.read(USER_ROLES))) {
      ClusterRole role = (ClusterRole) StrictManifests.typed(document);
      assertNull(role.getAggregationRule(), role.getMetadata().getName() + " is not aggregated");
      assertFalse(
          role.getMetadata().getLabels().keySet().stream()
              .anyMatch(l -> l.contains("aggregate-to")),
          role.getMetadata().getName() + " is not aggregated into admin/edit/view");
      for (PolicyRule rule : role.getRules()) {
        assertEquals(1, rule.getApiGroups().size(), rule.toString());
        assertTrue(
            Set.of("tcpdump.antrea.io", "files.tcpdump.antrea.io")
                .contains(rule.getApiGroups().get(0)),
            "only podcapture's own groups: " + rule);
        for (String resource : rule.getResources()) {
          verbs
              .computeIfAbsent(role.getMetadata().getName() + " " + resource, k -> new TreeSet<>())
              .addAll(rule.getVerbs());
        }
      }
    }
    Map<String, Set<String>> expected =
        new TreeMap<>(
            Map.of(
                "podcapture-editor podcaptures",
                Set.of("create", "delete", "get", "list", "watch"),
                "podcapture-editor podcapturesets",
                Set.of("create", "delete", "get", "list", "watch", "patch"),
                "podcapture-viewer podcaptures",
                Set.of("get", "list", "watch"),
                "podcapture-viewer podcapturesets",
                Set.of("get", "list", "watch")));
    // Both read files (FilesApiManifestTest says why): get, and only get, on each.
    for (String role : List.of("podcapture-editor", "podcapture-viewer")) {
      for (String resource : FilesApiManifestTest.FILE_RESOURCES) {
        expected.put(role + " " + resource, Set.of("get"));
      }
    }
    assertEquals(expected, verbs);
  }

  // ---- test Pod and examples

  @Test
  void testPodPingsWithNetRawAlone() {
    Pod pod = typed(TEST_POD, Pod.class);
    Container ping = pod.getSpec().getContainers().get(0);

    assertEquals("test-ping", pod.getMetadata().getName());
    assertEquals("default", pod.getMetadata().getNamespace());
    assertEquals("ping", ping.getCommand().get(0));
    assertFalse(ping.getResources().getRequests().isEmpty());
    assertFalse(ping.getResources().getLimits().isEmpty());
    assertEquals(List.of("ALL"), ping.getSecurityContext().getCapabilities().getDrop());
    assertEquals(List.of("NET_RAW"), ping.getSecurityContext().getCapabilities().getAdd());
    assertEquals(Boolean.FALSE, ping.getSecurityContext().getAllowPrivilegeEscalation());
    assertEquals(Boolean.TRUE, ping.getSecurityContext().getReadOnlyRootFilesystem());
  }

  @Test
  void annotatedPodAsksForACaptureOfFiveFiles() {
    Pod pod = typed(ANNOTATED_POD, Pod.class);

    assertEquals("5", pod.getMetadata().getAnnotations().get("tcpdump.antrea.io"));
    Container web = pod.getSpec().getContainers().get(0);
    assertEquals(Boolean.TRUE, web.getSecurityContext().getRunAsNonRoot());
    assertEquals(List.of("ALL"), web.getSecurityContext().getCapabilities().getDrop());
  }

  @Test
  void sampleOutputIsWhatTheAgentWritesForTheAnnotatedPod() {
    StrictManifests.Document document = only(SAMPLE_OUTPUT);
    KubernetesList list = (KubernetesList) StrictManifests.typed(document);
    assertEquals(1, list.getItems().size());
    PodCapture capture = (PodCapture) list.getItems().get(0);
    Pod pod = typed(ANNOTATED_POD, Pod.class);
    ObjectMeta meta = capture.getMetadata();
    PodCaptureStatus status = capture.getStatus();

    // Same name and namespace as the Pod, owned by it, with the agent's finalizer and labels.
    assertEquals(pod.getMetadata().getName(), meta.getName());
    assertEquals(pod.getMetadata().getNamespace(), meta.getNamespace());
    assertEquals(meta.getName(), capture.getSpec().getPodName());
    assertEquals(1, meta.getOwnerReferences().size());
    OwnerReference owner = meta.getOwnerReferences().get(0);
    assertEquals(
        List.of("v1", "Pod", pod.getMetadata().getName()),
        List.of(owner.getApiVersion(), owner.getKind(), owner.getName()));
    assertEquals(List.of("tcpdump.antrea.io/cleanup"), meta.getFinalizers());
    assertEquals(
        Map.of(
            "app.kubernetes.io/managed-by",
            "podcapture-agent",
            "tcpdump.antrea.io/node",
            status.getNode()),
        meta.getLabels());

    // The spec mirrors the annotation.
    assertEquals(
        Integer.valueOf(pod.getMetadata().getAnnotations().get("tcpdump.antrea.io")),
        capture.getSpec().getMaxFiles());
    assertEquals(1, capture.getSpec().getFileSizeMB());

    // A running capture, as found by kubectl cp.
    assertEquals("Running", status.getPhase());
    DaemonSet ds = daemonSet();
    assertTrue(
        status
            .getAgentPod()
            .matches(
                ds.getMetadata().getNamespace()
                    + "/"
                    + ds.getMetadata().getName()
                    + "-[a-z0-9]{5}"),
        "agentPod is namespace/name of an agent Pod: " + status.getAgentPod());
    assertTrue(
        status
            .getFilter()
            .contains(
                "(inbound and ("
                    + status.getPodIPs().stream()
                        .map(ip -> "src host " + ip)
                        .collect(Collectors.joining(" or "))
                    + "))"),
        status.getFilter());
    String captureDir = env(agent()).get("CAPTURE_DIR").getValue();
    for (CaptureFile file : status.getFiles()) {
      assertTrue(
          file.getName()
              .matches(
                  "capture-"
                      + meta.getName()
                      + "\\.pcap[0-"
                      + (capture.getSpec().getMaxFiles() - 1)
                      + "]"),
          file.getName());
      assertEquals(captureDir + "/" + meta.getNamespace() + "/" + file.getName(), file.getPath());
    }
    assertEquals(status.getFiles().size(), status.getFileCount());
    assertEquals(
        status.getFiles().stream().mapToLong(CaptureFile::getSizeBytes).sum(),
        status.getTotalBytes());
    assertEquals(meta.getGeneration(), status.getObservedGeneration());
    assertEquals(0, status.getRestartCount());
    assertEquals(1, status.getConditions().size());
    Condition ready = status.getConditions().get(0);
    assertEquals(
        List.of("Ready", "True", "CaptureRunning"),
        List.of(ready.getType(), ready.getStatus(), ready.getReason()));
  }

  @Test
  void directPodCapturesCaptureTheTestPodAndEndByThemselves() {
    PodCapture filtered = typed(FILTERED_CAPTURE, PodCapture.class);
    PodCapture counted = typed(PACKET_COUNT_CAPTURE, PodCapture.class);
    PodCapture ttl = typed(TTL_CAPTURE, PodCapture.class);
    Pod testPod = typed(TEST_POD, Pod.class);

    for (PodCapture capture : List.of(filtered, counted, ttl)) {
      assertEquals(testPod.getMetadata().getName(), capture.getSpec().getPodName());
      assertEquals(testPod.getMetadata().getNamespace(), capture.getMetadata().getNamespace());
      Map<String, String> labels = capture.getMetadata().getLabels();
      assertTrue(
          labels == null || labels.isEmpty(),
          "a user's PodCapture carries none of the agent's labels");
      assertNull(capture.getStatus());
    }
    assertEquals("icmp", filtered.getSpec().getFilter());
    assertEquals(60, filtered.getSpec().getDurationSeconds());
    assertEquals(100, counted.getSpec().getPacketCount());
    assertEquals(128, counted.getSpec().getSnapLength());
    assertEquals(600, ttl.getSpec().getTtlSecondsAfterFinished());
    assertNotNull(
        ttl.getSpec().getDurationSeconds(), "a TTL counts from the end, so the capture must end");
  }

  @Test
  void theExampleSetCapturesTheTestPodForAWindow() {
    PodCaptureSet set = typed(CAPTURE_SET, PodCaptureSet.class);
    Pod testPod = typed(TEST_POD, Pod.class);

    assertEquals(testPod.getMetadata().getNamespace(), set.getMetadata().getNamespace());
    assertTrue(
        testPod
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(set.getSpec().getSelector().getMatchLabels().entrySet()),
        "the set selects the test Pod");
    assertNotNull(set.getSpec().getDurationSeconds(), "one window, so the set ends by itself");
    assertTrue(set.getSpec().getMaxPods() <= 100, "within the default cap SET_MAX_PODS_CAP");
    assertNull(set.getStatus());
  }

  @Test
  void sampleOutputSaysItIsASample() {
    assertTrue(ProjectFiles.read(SAMPLE_OUTPUT).startsWith("# SAMPLE OUTPUT"));
  }

  /**
   * fabric8 7.5.2 has no model for the Prometheus Operator's PodMonitor (it parses as a
   * GenericKubernetesResource, where every field counts as unknown). So: its metadata and label
   * selector go through fabric8's typed ObjectMeta and LabelSelector, strictly like everything
   * else, and the rest is held to the keys of monitoring.coreos.com/v1 PodMonitor that this project
   * may use (extend from that CRD).
   */
  @Test
  void podMonitorScrapesTheAgentsHttpPort() {
    Map<String, Object> raw = only(POD_MONITOR).raw();
    assertKeys(raw, "", Set.of("apiVersion", "kind", "metadata", "spec"));
    assertEquals(
        List.of(), StrictManifests.problems("metadata", raw.get("metadata"), ObjectMeta.class));
    Map<String, Object> spec = map(raw.get("spec"));
    assertKeys(
        spec,
        "spec",
        Set.of(
            "selector",
            "namespaceSelector",
            "podMetricsEndpoints",
            "jobLabel",
            "podTargetLabels",
            "sampleLimit"));
    assertEquals(
        List.of(),
        StrictManifests.problems("spec.selector", spec.get("selector"), LabelSelector.class));
    Map<String, Object> namespaces = map(spec.get("namespaceSelector"));
    assertKeys(namespaces, "spec.namespaceSelector", Set.of("any", "matchNames"));
    List<?> endpoints = (List<?>) spec.get("podMetricsEndpoints");
    assertEquals(1, endpoints.size());
    Map<String, Object> endpoint = map(endpoints.get(0));
    assertKeys(
        endpoint,
        "spec.podMetricsEndpoints[0]",
        Set.of(
            "port",
            "path",
            "interval",
            "scrapeTimeout",
            "scheme",
            "honorLabels",
            "relabelings",
            "metricRelabelings"));

    DaemonSet ds = daemonSet();
    LabelSelector selector = StrictManifests.typed(spec.get("selector"), LabelSelector.class);
    assertTrue(
        ds.getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(selector.getMatchLabels().entrySet()),
        "selects the agent's Pods");
    assertEquals(List.of(ds.getMetadata().getNamespace()), namespaces.get("matchNames"));
    assertEquals(agent().getPorts().get(0).getName(), endpoint.get("port"));
    assertEquals("/metrics", endpoint.get("path"));
  }

  // ---- helpers

  static DaemonSet daemonSet() {
    return typed(DAEMONSET, DaemonSet.class);
  }

  static Container agent() {
    List<Container> containers = daemonSet().getSpec().getTemplate().getSpec().getContainers();
    assertEquals(1, containers.size());
    assertTrue(daemonSet().getSpec().getTemplate().getSpec().getInitContainers().isEmpty());
    return containers.get(0);
  }

  static ClusterRole clusterRole() {
    return rbac(ClusterRole.class).get(0);
  }

  static <T> List<T> rbac(Class<T> type) {
    List<T> found =
        StrictManifests.load(RBAC, ProjectFiles.read(RBAC)).stream()
            .map(StrictManifests::typed)
            .filter(type::isInstance)
            .map(type::cast)
            .collect(Collectors.toList());
    assertEquals(1, found.size(), "one " + type.getSimpleName() + " in " + RBAC);
    return found;
  }

  static <T> T typed(String file, Class<T> type) {
    KubernetesResource typed = StrictManifests.typed(only(file));
    assertTrue(type.isInstance(typed), file + " holds a " + typed.getClass().getSimpleName());
    return type.cast(typed);
  }

  static StrictManifests.Document only(String file) {
    List<StrictManifests.Document> documents = StrictManifests.load(file, ProjectFiles.read(file));
    assertEquals(1, documents.size(), file + " should hold one document");
    return documents.get(0);
  }

  static Map<String, EnvVar> env(Container container) {
    return container.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  private static String fieldPath(EnvVar var) {
    assertNotNull(var);
    return var.getValueFrom().getFieldRef().getFieldPath();
  }

  private static VolumeMount mountAt(Container container, String path) {
    return container.getVolumeMounts().stream()
        .filter(m -> m.getMountPath().equals(path))
        .findFirst()
        .orElseThrow(() -> new AssertionError("nothing mounted at " + path));
  }

  private static Volume volume(PodSpec pod, String name) {
    return pod.getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static void assertHttpProbe(Probe probe, String path) {
    assertNotNull(probe, "probe on " + path);
    assertEquals(path, probe.getHttpGet().getPath());
    assertEquals("http", probe.getHttpGet().getPort().getStrVal());
    assertNotNull(probe.getPeriodSeconds(), "an explicit period for " + path);
  }

  private static List<HasMetadata> objects(KubernetesResource typed) {
    if (typed instanceof KubernetesList list) {
      return list.getItems();
    }
    return typed instanceof HasMetadata object ? List.of(object) : List.of();
  }

  private static void assertKeys(Map<String, Object> map, String where, Set<String> allowed) {
    Set<String> unknown = new TreeSet<>(map.keySet());
    unknown.removeAll(allowed);
    assertEquals(
        Set.of(), unknown, "unknown keys in " + (where.isEmpty() ? "the document" : where));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    assertTrue(value instanceof Map, "a mapping expected, got " + value);
    return (Map<String, Object>) value;
  }

  private static String read(Path file) {
    return ProjectFiles.read(ProjectFiles.relative(file));
  }
}
