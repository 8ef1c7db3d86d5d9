package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reading PodCaptures and Pods: the few facts every pass asks of them, read one way. */
final class PodCaptures {
  private PodCaptures() {}

  static CaptureKey key(HasMetadata o) {
    return new CaptureKey(o.getMetadata().getNamespace(), o.getMetadata().getName());
  }

  static String label(HasMetadata o, String name) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return labels == null ? null : labels.get(name);
  }

  /** The PodCapture the annotation made (or adopted): it lives and goes with the annotation. */
  static boolean managedByAnnotation(PodCapture cr) {
    return Names.MANAGED_BY.equals(label(cr, Names.LABEL_MANAGED_BY));
  }

  static boolean hasFinalizer(PodCapture cr) {
    List<String> finalizers = cr.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains(Names.FINALIZER);
  }

  static boolean deleting(HasMetadata o) {
    return o.getMetadata().getDeletionTimestamp() != null;
  }

  /** The reason of the Ready condition the PodCapture's status has now, or null. */
  static String readyReason(PodCapture cr) {
    PodCaptureStatus status = cr.getStatus();
    if (status == null || status.getConditions() == null) {
      return null;
    }
    return status.getConditions().stream()
        .filter(c -> Names.CONDITION_READY.equals(c.getType()))
        .map(Condition::getReason)
        .findFirst()
        .orElse(null);
  }

  /** The Pod's {@code tcpdump.antrea.io} annotation, or null. */
  static String annotation(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(Names.ANNOTATION);
  }

  /** Being deleted, or ended: a capture of it stops. */
  static boolean terminating(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return deleting(pod) || "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  static boolean hostNetwork(Pod pod) {
    return pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork());
  }

  /** Whether the Pod is scheduled to {@code node}. */
  static boolean onNode(Pod pod, String node) {
    return pod != null && pod.getSpec() != null && node.equals(pod.getSpec().getNodeName());
  }

  /** The Pod's IPs, without blanks or repeats; the single podIP when the list is absent. */
  static List<String> podIPs(Pod pod) {
    List<String> ips = new ArrayList<>();
    if (pod.getStatus() == null) {
      return ips;
    }
    if (pod.getStatus().getPodIPs() != null) {
      for (PodIP ip : pod.getStatus().getPodIPs()) {
        if (ip.getIp() != null && !ip.getIp().isBlank() && !ips.contains(ip.getIp())) {
          ips.add(ip.getIp());
        }
      }
    }
    String single = pod.getStatus().getPodIP();
    if (ips.isEmpty() && single != null && !single.isBlank()) {
      ips.add(single);
    }
    return ips;
  }
}
