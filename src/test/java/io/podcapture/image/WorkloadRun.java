package io.podcapture.image;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code podman run} options that make a container as the kubelet would from a workload's
 * manifest ({@code deploy/daemonset.yaml}, the agent; {@code deploy/controller.yaml}, the
 * controller): the security context, the resource limits, the environment and the volumes, all read
 * from the manifest. A field this class does not know how to apply is an error, so the manifest
 * cannot grow a setting the image test silently ignores.
 */
final class WorkloadRun {
  /**
   * The security context fields applied below; anything else set in the manifest fails the test.
   */
  private static final Set<String> KNOWN_SECURITY_FIELDS =
      Set.of(
          "runAsUser",
          "runAsGroup",
          "runAsNonRoot",
          "privileged",
          "allowPrivilegeEscalation",
          "readOnlyRootFilesystem",
          "capabilities",
          "seccompProfile");

  private final PodSpec pod;
  private final Container agent;
  private final String namespace;

  private WorkloadRun(PodSpec pod, Container agent, String namespace) {
    this.pod = pod;
    this.agent = agent;
    this.namespace = namespace;
  }

  static WorkloadRun read(Path manifest) {
    try {
      return parse(Files.readString(manifest));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + manifest, e);
    }
  }

  /** The first DaemonSet or Deployment of the manifest (which may hold other objects too). */
  static WorkloadRun parse(String yaml) {
    Object parsed = Serialization.unmarshal(yaml);
    for (Object document : parsed instanceof List<?> list ? list : List.of(parsed)) {
      if (document instanceof DaemonSet daemonSet) {
        if (!Boolean.TRUE.equals(daemonSet.getSpec().getTemplate().getSpec().getHostNetwork())) {
          throw new IllegalStateException(
              "the image test runs the agent on the host network, as the DaemonSet does;"
                  + " the DaemonSet no longer says hostNetwork: true");
        }
        return of(daemonSet.getSpec().getTemplate().getSpec(), daemonSet.getMetadata());
      }
      if (document instanceof Deployment deployment) {
        return of(deployment.getSpec().getTemplate().getSpec(), deployment.getMetadata());
      }
    }
    throw new IllegalStateException("no DaemonSet or Deployment in the manifest");
  }

  private static WorkloadRun of(PodSpec pod, ObjectMeta metadata) {
    if (pod.getContainers().size() != 1) {
      throw new IllegalStateException(
          "expected one container in "
              + metadata.getName()
              + ", found "
              + pod.getContainers().size());
    }
    return new WorkloadRun(pod, pod.getContainers().get(0), metadata.getNamespace());
  }

  Container agent() {
    return agent;
  }

  /** The memory limit in bytes. */
  long memoryLimitBytes() {
    return Quantity.getAmountInBytes(agent.getResources().getLimits().get("memory"))
        .longValueExact();
  }

  int terminationGraceSeconds() {
    return pod.getTerminationGracePeriodSeconds().intValue();
  }

  /**
   * The environment as the kubelet would set it, with the Downward API fields given for this node
   * and Pod.
   */
  Map<String, String> environment(String nodeName, String podName) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar var : agent.getEnv()) {
      if (var.getValueFrom() == null) {
        env.put(var.getName(), var.getValue());
        continue;
      }
      if (var.getValueFrom().getFieldRef() == null) {
        throw new IllegalStateException(
            "env " + var.getName() + ": only fieldRef is supported by the image test");
      }
      String field = var.getValueFrom().getFieldRef().getFieldPath();
      env.put(
          var.getName(),
          switch (field) {
            case "spec.nodeName" -> nodeName;
            case "metadata.name" -> podName;
            case "metadata.namespace" -> namespace;
            case "spec.serviceAccountName" -> pod.getServiceAccountName();
            default ->
                throw new IllegalStateException(
                    "env "
                        + var.getName()
                        + ": fieldRef "
                        + field
                        + " is not supported by the image test");
          });
    }
    return env;
  }

  /**
   * The options for {@code podman run}: {@code volumeDirs} gives the host folder for each
   * disk-backed volume by name (the kubelet's emptyDir), {@code env} the environment (see {@link
   * #environment}).
   */
  List<String> options(Map<String, Path> volumeDirs, Map<String, String> env) {
    List<String> options = new ArrayList<>();
    // The agent's DaemonSet says hostNetwork (checked in parse). The controller's Pod has a network
    // of its own in a cluster; here the host's network is how it reaches the test API server on
    // localhost, and nothing it does depends on which network it has.
    options.add("--network=host");
    options.addAll(security(agent.getSecurityContext()));
    options.addAll(resources());
    // podman's default is 10 s; the kubelet waits terminationGracePeriodSeconds before SIGKILL.
    options.add("--stop-timeout=" + terminationGraceSeconds());
    options.addAll(volumes(volumeDirs));
    env.forEach((name, value) -> options.add("--env=" + name + "=" + value));
    if (!command().isEmpty()) {
      // The container's command replaces the image's ENTRYPOINT, as the kubelet does.
      options.add("--entrypoint=" + Serialization.asJson(command()));
    }
    return options;
  }

  /** The container's command (empty: the image's ENTRYPOINT runs). */
  List<String> command() {
    return agent.getCommand() == null ? List.of() : agent.getCommand();
  }

  private static List<String> security(SecurityContext sc) {
    Set<String> set =
        new TreeSet<>(Serialization.jsonMapper().convertValue(sc, Map.class).keySet());
    set.removeAll(KNOWN_SECURITY_FIELDS);
    if (!set.isEmpty()) {
      throw new IllegalStateException(
          "securityContext fields the image test does not apply: " + set);
    }
    List<String> options = new ArrayList<>();
    if (sc.getRunAsUser() != null) {
      options.add(
          "--user="
              + sc.getRunAsUser()
              + (sc.getRunAsGroup() == null ? "" : ":" + sc.getRunAsGroup()));
    } else if (sc.getRunAsGroup() != null) {
      throw new IllegalStateException(
          "runAsGroup without runAsUser is not applied by the image test");
    }
    if (Boolean.TRUE.equals(sc.getPrivileged())) {
      options.add("--privileged");
    }
    if (Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
      options.add("--security-opt=no-new-privileges");
    }
    if (Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
      // Without --read-only-tmpfs=false podman adds writable /tmp, /var/tmp and /run, which the
      // kubelet does not.
      options.addAll(List.of("--read-only", "--read-only-tmpfs=false"));
    }
    if (sc.getCapabilities() != null) {
      sc.getCapabilities().getDrop().forEach(cap -> options.add("--cap-drop=" + cap));
      sc.getCapabilities().getAdd().forEach(cap -> options.add("--cap-add=" + cap));
    }
    if (sc.getSeccompProfile() != null
        && !"RuntimeDefault".equals(sc.getSeccompProfile().getType())) {
      throw new IllegalStateException(
          "seccompProfile "
              + sc.getSeccompProfile().getType()
              + ": only RuntimeDefault (podman's default profile) is supported by the image test");
    }
    return options;
  }

  /** The limits; requests only weigh one container against others, of which the test has none. */
  private List<String> resources() {
    Map<String, Quantity> limits = agent.getResources().getLimits();
    List<String> options = new ArrayList<>();
    // No swap, as on a Kubernetes node: the limit is the memory the container may use.
    options.add("--memory=" + memoryLimitBytes() + "b");
    options.add("--memory-swap=" + memoryLimitBytes() + "b");
    BigDecimal cpus = Quantity.getAmountInBytes(limits.get("cpu"));
    options.add("--cpus=" + cpus.stripTrailingZeros().toPlainString());
    return options;
  }

  private List<String> volumes(Map<String, Path> volumeDirs) {
    List<String> options = new ArrayList<>();
    for (VolumeMount mount : agent.getVolumeMounts()) {
      Volume volume =
          pod.getVolumes().stream()
              .filter(v -> v.getName().equals(mount.getName()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "volumeMount " + mount.getName() + " has no volume"));
      if (volume.getSecret() != null) {
        // A Secret volume: the folder given for it (the Secret's keys as files), read-only as the
        // kubelet mounts it; none given and optional, no mount, as for a Secret not made yet.
        Path dir = volumeDirs.get(volume.getName());
        if (dir == null && Boolean.TRUE.equals(volume.getSecret().getOptional())) {
          continue;
        }
        if (dir == null) {
          throw new IllegalStateException("no host folder given for volume " + volume.getName());
        }
        options.add("--volume=" + dir.toAbsolutePath() + ":" + mount.getMountPath() + ":ro");
        continue;
      }
      if (volume.getEmptyDir() == null) {
        throw new IllegalStateException(
            "volume " + volume.getName() + ": only emptyDir is supported by the image test");
      }
      String readOnly = Boolean.TRUE.equals(mount.getReadOnly()) ? ",ro" : ",rw";
      if ("Memory".equals(volume.getEmptyDir().getMedium())) {
        Quantity size = volume.getEmptyDir().getSizeLimit();
        options.add(
            "--tmpfs="
                + mount.getMountPath()
                + ":mode=1777"
                + readOnly
                + (size == null ? "" : ",size=" + Quantity.getAmountInBytes(size).toBigInteger()));
      } else {
        Path dir = volumeDirs.get(volume.getName());
        if (dir == null) {
          throw new IllegalStateException("no host folder given for volume " + volume.getName());
        }
        options.add(
            "--volume="
                + dir.toAbsolutePath()
                + ":"
                + mount.getMountPath()
                + readOnly.replace(",", ":"));
      }
    }
    return options;
  }
}
