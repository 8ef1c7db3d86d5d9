package io.podcapture.bench;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The Pods of a busy node, sized like real ones: two containers with env, probes, resources and
 * mounts, the service-account volume, four conditions, container statuses and managedFields, as an
 * API server sends them (about 6 KB of JSON each), so the agent's informer holds what it would hold
 * on a real node.
 */
final class Workload {
  /** When the Pods were made, started and last written: one fixed time. */
  private static final String TIME = "2025-06-01T10:00:00Z";

  static final String NAMESPACE = "bench";
  static final String NODE = "bench-node";

  private Workload() {}

  static String podName(int i) {
    return String.format("pod-%03d", i);
  }

  /** Pod {@code i} as the agent needs it and no more (for measuring what the Pod cache costs). */
  static Pod slimPod(int i, List<String> ips) {
    Pod full = pod(i, ips);
    Pod slim =
        new PodBuilder()
            .withNewMetadata()
            .withName(full.getMetadata().getName())
            .withNamespace(NAMESPACE)
            .withUid(full.getMetadata().getUid())
            .endMetadata()
            .withNewSpec()
            .withNodeName(NODE)
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .withPodIP(ips.get(0))
            .endStatus()
            .build();
    for (String ip : ips) {
      slim.getStatus().getPodIPs().add(new io.fabric8.kubernetes.api.model.PodIP(ip));
    }
    return slim;
  }

  /** Pod {@code i} on the benchmark's node with the given IPs (IPv4 first). */
  static Pod pod(int i, List<String> ips) {
    String app = "shop-" + (i % 12);
    String hash = Integer.toHexString(0x5d8f7c9b + i % 12);
    PodBuilder b =
        new PodBuilder()
            .withMetadata(metadata(podName(i), app, hash))
            .withSpec(spec(app, hash))
            .withStatus(status(ips));
    for (String ip : ips) {
      b.editStatus().addNewPodIP().withIp(ip).endPodIP().endStatus();
    }
    for (String type : List.of("Initialized", "Ready", "ContainersReady", "PodScheduled")) {
      b.editStatus()
          .addNewCondition()
          .withType(type)
          .withStatus("True")
          .withLastTransitionTime(TIME)
          .endCondition()
          .endStatus();
    }
    for (String c : List.of("app", "proxy")) {
      b.editStatus()
          .addNewContainerStatus()
          .withName(c)
          .withReady(true)
          .withStarted(true)
          .withRestartCount(0)
          .withImage("registry.example.com/" + c + ":1.14.2")
          .withImageID("registry.example.com/" + c + "@sha256:" + "0123456789abcdef".repeat(4))
          .withContainerID("containerd://" + "fedcba9876543210".repeat(4))
          .withNewState()
          .withNewRunning()
          .withStartedAt(TIME)
          .endRunning()
          .endState()
          .endContainerStatus()
          .endStatus();
    }
    return b.build();
  }

  private static ObjectMeta metadata(String name, String app, String hash) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/name", app);
    labels.put("app.kubernetes.io/part-of", "shop");
    labels.put("pod-template-hash", hash);
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(NAMESPACE)
        .withUid(UUID.randomUUID().toString())
        .withGenerateName(app + "-" + hash + "-")
        .withLabels(labels)
        .withAnnotations(
            Map.of(
                "kubectl.kubernetes.io/restartedAt",
                TIME,
                "prometheus.io/scrape",
                "true",
                "prometheus.io/port",
                "8080"))
        .addNewOwnerReference()
        .withApiVersion("apps/v1")
        .withKind("ReplicaSet")
        .withName(app + "-" + hash)
        .withUid(UUID.randomUUID().toString())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .endOwnerReference()
        .withManagedFields(managedFields())
        .withCreationTimestamp(TIME)
        .withResourceVersion(null)
        .build();
  }

  /** What a real API server lists as written by the controller manager and by the kubelet. */
  private static List<ManagedFieldsEntry> managedFields() {
    return List.of(
        new ManagedFieldsEntryBuilder()
            .withManager("kube-controller-manager")
            .withOperation("Update")
            .withApiVersion("v1")
            .withTime(TIME)
            .withFieldsType("FieldsV1")
            .withFieldsV1(
                fields(
                    "f:metadata",
                    "f:generateName",
                    "f:labels",
                    "f:ownerReferences",
                    "f:spec",
                    "f:containers",
                    "f:dnsPolicy",
                    "f:enableServiceLinks",
                    "f:restartPolicy",
                    "f:schedulerName",
                    "f:securityContext",
                    "f:terminationGracePeriodSeconds"))
            .build(),
        new ManagedFieldsEntryBuilder()
            .withManager("kubelet")
            .withOperation("Update")
            .withApiVersion("v1")
            .withTime(TIME)
            .withFieldsType("FieldsV1")
            .withSubresource("status")
            .withFieldsV1(
                fields(
                    "f:status",
                    "f:conditions",
                    "f:containerStatuses",
                    "f:hostIP",
                    "f:hostIPs",
                    "f:phase",
                    "f:podIP",
                    "f:podIPs",
                    "f:startTime"))
            .build());
  }

  private static PodSpec spec(String app, String hash) {
    // the service-account volume, which both containers mount (a real API server checks the name)
    String volume = "kube-api-access-" + hash.substring(0, 5);
    return new PodSpecBuilder()
        .withNodeName(NODE)
        .withServiceAccountName("default")
        .withRestartPolicy("Always")
        .withDnsPolicy("ClusterFirst")
        .withSchedulerName("default-scheduler")
        .withTerminationGracePeriodSeconds(30L)
        .withEnableServiceLinks(true)
        .withPriority(0)
        .withPreemptionPolicy("PreemptLowerPriority")
        .addToContainers(
            container("app", "registry.example.com/shop/" + app + ":1.14.2", 8080, volume),
            container("proxy", "registry.example.com/mesh/proxy:1.22.0", 15090, volume))
        .addNewVolume()
        .withName(volume)
        .withNewProjected()
        .withDefaultMode(420)
        .addNewSource()
        .withNewServiceAccountToken()
        .withExpirationSeconds(3607L)
        .withPath("token")
        .endServiceAccountToken()
        .endSource()
        .addNewSource()
        .withNewConfigMap()
        .withName("kube-root-ca.crt")
        .addNewItem()
        .withKey("ca.crt")
        .withPath("ca.crt")
        .endItem()
        .endConfigMap()
        .endSource()
        .endProjected()
        .endVolume()
        .addNewToleration()
        .withKey("node.kubernetes.io/not-ready")
        .withOperator("Exists")
        .withEffect("NoExecute")
        .withTolerationSeconds(300L)
        .endToleration()
        .addNewToleration()
        .withKey("node.kubernetes.io/unreachable")
        .withOperator("Exists")
        .withEffect("NoExecute")
        .withTolerationSeconds(300L)
        .endToleration()
        .build();
  }

  private static PodStatus status(List<String> ips) {
    return new PodStatusBuilder()
        .withPhase("Running")
        .withQosClass("Burstable")
        .withHostIP("10.0.0.17")
        .addNewHostIP()
        .withIp("10.0.0.17")
        .endHostIP()
        .withStartTime(TIME)
        .withPodIP(ips.get(0))
        .build();
  }

  private static io.fabric8.kubernetes.api.model.Container container(
      String name, String image, int port, String volume) {
    ContainerBuilder c =
        new ContainerBuilder()
            .withName(name)
            .withImage(image)
            .withImagePullPolicy("IfNotPresent")
            .withArgs("--port=" + port, "--log-format=json", "--metrics")
            .addNewPort()
            .withName("http")
            .withContainerPort(port)
            .withProtocol("TCP")
            .endPort()
            .withNewResources()
            .addToRequests("cpu", new Quantity("100m"))
            .addToRequests("memory", new Quantity("128Mi"))
            .addToLimits("memory", new Quantity("256Mi"))
            .endResources()
            .withTerminationMessagePath("/dev/termination-log")
            .withTerminationMessagePolicy("File")
            .addNewVolumeMount()
            .withName(volume)
            .withMountPath("/var/run/secrets/kubernetes.io/serviceaccount")
            .withReadOnly(true)
            .endVolumeMount()
            .withReadinessProbe(probe("/ready", port))
            .withLivenessProbe(probe("/healthz", port));
    for (String env :
        List.of(
            "LOG_LEVEL",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "DB_HOST",
            "DB_NAME",
            "CACHE_URL",
            "FEATURE_FLAGS")) {
      c.addNewEnv()
          .withName(env)
          .withValue(env.toLowerCase(java.util.Locale.ROOT) + "-value-for-" + name)
          .endEnv();
    }
    c.addNewEnv()
        .withName("POD_NAME")
        .withNewValueFrom()
        .withNewFieldRef()
        .withFieldPath("metadata.name")
        .endFieldRef()
        .endValueFrom()
        .endEnv();
    return c.build();
  }

  /** An HTTP probe every 10 s, as a Deployment's defaults fill it in. */
  private static Probe probe(String path, int port) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(path)
        .withNewPort(port)
        .withScheme("HTTP")
        .endHttpGet()
        .withPeriodSeconds(10)
        .withTimeoutSeconds(1)
        .withSuccessThreshold(1)
        .withFailureThreshold(3)
        .build();
  }

  /** A FieldsV1 blob with the keys a real managedFields entry lists. */
  private static FieldsV1 fields(String... keys) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (String key : keys) {
      map.put(key, Map.of(".", Map.of(), "f:" + key.substring(2) + "-detail", Map.of()));
    }
    FieldsV1 f = new FieldsV1();
    f.setAdditionalProperties(map);
    return f;
  }

  /** The JSON size of a Pod, as the API server sends it. */
  static int jsonBytes(Pod pod) {
    return Serialization.asJson(pod).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /** Documentation addresses (TEST-NET-2, 2001:db8::/32) for Pods without a network namespace. */
  static List<String> fakeIps(int i) {
    return List.of("198.51.100." + (i % 250 + 1), "2001:db8:bc::" + Integer.toHexString(i + 1));
  }
}
