package io.podcapture.testing;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.podcapture.controller.Names;
import java.util.List;

/**
 * The tests' one Pod builder: a running Pod, as the kubelet reports it, on a given node with given
 * IPs.
 */
public final class Pods {
  /** The node the tests' agent runs on unless a test says otherwise. */
  public static final String NODE = "node-a";

  private Pods() {}

  /**
   * A running Pod {@code namespace/name} on {@code node}, with a uid and one container, annotated
   * with {@code annotation} unless it is null. The first IP, if any, is also {@code status.podIP}.
   */
  public static Pod running(
      String namespace, String name, String node, String annotation, String... ips) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(name)
            .withUid(namespace + "-" + name + "-uid")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName("c")
            .withImage("busybox")
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .endStatus();
    if (annotation != null) {
      b.editMetadata().addToAnnotations(Names.ANNOTATION, annotation).endMetadata();
    }
    if (ips.length > 0) {
      b.editStatus().withPodIP(ips[0]).endStatus();
      for (String ip : ips) {
        b.editStatus().addNewPodIP().withIp(ip).endPodIP().endStatus();
      }
    }
    return b.build();
  }

  /** {@link #running(String, String, String, String, String...)} on {@link #NODE}. */
  public static Pod running(String namespace, String name, String annotation, List<String> ips) {
    return running(namespace, name, NODE, annotation, ips.toArray(String[]::new));
  }
}
