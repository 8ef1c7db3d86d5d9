package io.podcapture.controller;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.processing.Generated;

/**
 * A Pod as the agent reads it from the API server: its metadata, {@code spec.nodeName}, {@code
 * spec.hostNetwork}, {@code status.phase}, {@code podIP} and {@code podIPs}; every other field of
 * the JSON is skipped while it is parsed. Why not fabric8's {@code Pod}: to parse one, Jackson
 * builds deserializers for the Pod's whole type graph (containers, volumes, probes, affinity and
 * the rest, about 150 model classes) and, introspecting each, loads its builder and fluent classes
 * too (about 300 more): measured here, that was most of the agent's class metadata and much of its
 * heap (see BENCHMARKS.md). The passes still work with {@code Pod}: {@link #toPod} makes one.
 *
 * <p>Core group (as fabric8 annotates its own Pod: group "", version v1), so the informer and the
 * reads go to {@code /api/v1/pods} like the client's own Pod operations.
 */
// Marked as fabric8 marks its own model classes, which its CRD generator then passes over: the
// annotations below name a built-in type for the client, not a custom resource to generate a CRD
// for (without this the build wrote a CRD "pods." beside ours). Hand-written, not generated.
@Generated("not generated: a built-in type, for fabric8's CRD generator to pass over")
@Group("")
@Version("v1")
@Kind("Pod")
@Plural("pods")
@JsonIgnoreProperties(ignoreUnknown = true)
// As on fabric8's own model classes: parsed as a bean, not again through the client's
// apiVersion/kind lookup (which would pick this class again, without end).
@JsonDeserialize(using = JsonDeserializer.None.class)
public final class SlimPod implements HasMetadata, Namespaced {
  private String apiVersion = "v1";
  private String kind = "Pod";
  private ObjectMeta metadata;
  private Spec spec;
  private Status status;

  /** The Pod's spec, as far as the agent reads it. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class Spec {
    private String nodeName;
    private Boolean hostNetwork;

    public String getNodeName() {
      return nodeName;
    }

    public void setNodeName(String nodeName) {
      this.nodeName = nodeName;
    }

    public Boolean getHostNetwork() {
      return hostNetwork;
    }

    public void setHostNetwork(Boolean hostNetwork) {
      this.hostNetwork = hostNetwork;
    }
  }

  /** The Pod's status, as far as the agent reads it. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class Status {
    private String phase;
    private String podIP;
    private List<PodIP> podIPs;

    public String getPhase() {
      return phase;
    }

    public void setPhase(String phase) {
      this.phase = phase;
    }

    public String getPodIP() {
      return podIP;
    }

    public void setPodIP(String podIP) {
      this.podIP = podIP;
    }

    public List<PodIP> getPodIPs() {
      return podIPs;
    }

    public void setPodIPs(List<PodIP> podIPs) {
      this.podIPs = podIPs;
    }
  }

  /**
   * Makes this client parse every Pod as a SlimPod. The client's parser picks the class by the
   * JSON's apiVersion and kind before it looks at the type asked for (a watch event's object, a
   * list's items), so without this it would parse a whole {@code Pod} first and convert it. A Pod
   * this client reads as {@code Pod} is then converted from the SlimPod: only the agent's client,
   * which reads no Pod otherwise, may be registered.
   */
  static void register(KubernetesClient client) {
    client.getKubernetesSerialization().registerKubernetesResource(SlimPod.class);
  }

  /** A reference to {@code pod} for an API call about it (name, namespace, uid). */
  static SlimPod of(Pod pod) {
    SlimPod slim = new SlimPod();
    slim.setMetadata(pod.getMetadata());
    return slim;
  }

  /** The Pod the passes read: a new object each time, so no pass can change the cache. */
  Pod toPod() {
    Pod pod = new Pod();
    pod.setApiVersion(apiVersion);
    pod.setKind(kind);
    pod.setMetadata(metadata == null ? null : SlimPodStore.withoutManagedFields(metadata));
    if (spec != null) {
      PodSpec podSpec = new PodSpec();
      podSpec.setNodeName(spec.getNodeName());
      podSpec.setHostNetwork(spec.getHostNetwork());
      pod.setSpec(podSpec);
    }
    if (status != null) {
      PodStatus podStatus = new PodStatus();
      podStatus.setPhase(status.getPhase());
      podStatus.setPodIP(status.getPodIP());
      List<PodIP> ips = new ArrayList<>();
      if (status.getPodIPs() != null) {
        status.getPodIPs().forEach(ip -> ips.add(new PodIP(ip.getIp())));
      }
      podStatus.setPodIPs(ips);
      pod.setStatus(podStatus);
    }
    return pod;
  }

  @Override
  public String getApiVersion() {
    return apiVersion;
  }

  @Override
  public void setApiVersion(String apiVersion) {
    this.apiVersion = apiVersion;
  }

  @Override
  public String getKind() {
    return kind;
  }

  public void setKind(String kind) {
    this.kind = kind;
  }

  @Override
  public ObjectMeta getMetadata() {
    return metadata;
  }

  @Override
  public void setMetadata(ObjectMeta metadata) {
    this.metadata = metadata;
  }

  public Spec getSpec() {
    return spec;
  }

  public void setSpec(Spec spec) {
    this.spec = spec;
  }

  public Status getStatus() {
    return status;
  }

  public void setStatus(Status status) {
    this.status = status;
  }
}
