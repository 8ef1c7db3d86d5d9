package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;

/**
 * Why this agent refuses a capture before it starts: a bad annotation or file count, a denied
 * namespace, a Pod on the node's network. Each message says what was wrong and what is accepted.
 */
final class Refusals {
  /** A refusal: a CamelCase reason and the message for the status and the Warning Event. */
  record Refusal(String reason, String message) {}

  private final AgentConfig config;

  Refusals(AgentConfig config) {
    this.config = config;
  }

  /** The first refusal that applies, or null: the capture may go ahead. */
  Refusal of(PodCapture cr, Pod pod) {
    Refusal refusal = fileCount(cr, pod);
    if (refusal == null) {
      refusal = namespace(cr);
    }
    if (refusal == null) {
      refusal = hostNetwork(pod);
    }
    return refusal;
  }

  private Refusal fileCount(PodCapture cr, Pod pod) {
    if (PodCaptures.managedByAnnotation(cr)) {
      AnnotationValue value = AnnotationValue.parse(PodCaptures.annotation(pod), config.maxFiles());
      return value.valid() ? null : new Refusal(Names.REASON_INVALID_ANNOTATION, value.error());
    }
    Integer maxFiles = cr.getSpec().getMaxFiles();
    if (maxFiles == null || maxFiles <= config.maxFiles()) {
      return null;
    }
    return new Refusal(
        Names.REASON_INVALID_SPEC,
        "spec.maxFiles "
            + maxFiles
            + " is more than this agent allows: expected 1 to "
            + config.maxFiles()
            + " (MAX_FILES)");
  }

  private Refusal namespace(PodCapture cr) {
    String namespace = cr.getMetadata().getNamespace();
    if (!config.denyNamespaces().contains(namespace)) {
      return null;
    }
    return new Refusal(
        Names.REASON_NAMESPACE_DENIED,
        "captures are refused in namespace "
            + namespace
            + " by this agent's DENY_NAMESPACES setting ("
            + String.join(",", config.denyNamespaces().stream().sorted().toList())
            + ")");
  }

  private Refusal hostNetwork(Pod pod) {
    if (!PodCaptures.hostNetwork(pod) || config.allowHostNetwork()) {
      return null;
    }
    return new Refusal(
        Names.REASON_HOST_NETWORK,
        "Pod "
            + pod.getMetadata().getName()
            + " uses the node's network (hostNetwork: true): a capture of its IP would record all"
            + " traffic of node "
            + config.nodeName()
            + ", every Pod's and tenant's, so it is refused; an admin can allow such captures by"
            + " setting ALLOW_HOST_NETWORK=true on the podcapture agent");
  }
}
