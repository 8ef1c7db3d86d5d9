package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.mock.MockApiServer;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** An agent (real controller, given capturer) against a mock API server, plus a user's client. */
final class AgentHarness implements AutoCloseable {
  static final String AGENT_USER_AGENT = "podcapture-agent-under-test";
  final MockApiServer api;
  final KubernetesClient user;
  final KubernetesClient agentClient;
  final PacketCapturer capturer;
  final AgentConfig config;
  PodCaptureController controller;

  AgentHarness(MockApiServer api, PacketCapturer capturer, Map<String, String> env) throws Exception {
    this.api = api;
    this.user = api.client();
    this.agentClient = api.client(AGENT_USER_AGENT);
    this.capturer = capturer;
    Map<String, String> all = new HashMap<>(Map.of("NODE_NAME", "node-a", "POD_NAME", "agent-a",
        "POD_NAMESPACE", "kube-system", "STATUS_REFRESH_SECONDS", "1", "DENY_NAMESPACES", "kube-system"));
    all.putAll(env);
    this.config = AgentConfig.fromEnvironment(all);
  }

  AgentHarness start() throws Exception {
    controller = new PodCaptureController(agentClient, config, capturer, Clock.systemUTC());
    controller.start(Duration.ofSeconds(10));
    return this;
  }

  static Pod pod(String namespace, String name, String node, String annotation, String... ips) {
    PodBuilder b = new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name)
        .withUid(namespace + "-" + name + "-uid").endMetadata()
        .withNewSpec().withNodeName(node).addNewContainer().withName("c").withImage("busybox").endContainer()
        .endSpec().withNewStatus().withPhase("Running").endStatus();
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

  Pod create(Pod pod) {
    return user.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
  }

  void annotate(String namespace, String name, String value) {
    String json = value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"")
        .replace("\n", "\\n") + "\"";
    user.pods().inNamespace(namespace).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"" + Names.ANNOTATION + "\":" + json + "}}}");
  }

  void setIps(String namespace, String name, String... ips) {
    StringBuilder list = new StringBuilder();
    for (String ip : ips) {
      list.append(list.length() == 0 ? "" : ",").append("{\"ip\":\"").append(ip).append("\"}");
    }
    user.pods().inNamespace(namespace).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"status\":{\"podIP\":\"" + ips[0] + "\",\"podIPs\":[" + list + "]}}");
  }

  PodCapture cr(String namespace, String name) {
    return user.resources(PodCapture.class).inNamespace(namespace).withName(name).get();
  }

  Pod getPod(String namespace, String name) {
    return user.pods().inNamespace(namespace).withName(name).get();
  }

  List<Event> events(String namespace) {
    return user.v1().events().inNamespace(namespace).list().getItems();
  }

  boolean hasEvent(String namespace, String involvedName, String reason) {
    return events(namespace).stream().anyMatch(e -> reason.equals(e.getReason())
        && involvedName.equals(e.getInvolvedObject().getName()));
  }

  boolean hasEvent(String namespace, String involvedKind, String involvedName, String reason) {
    return events(namespace).stream().anyMatch(e -> reason.equals(e.getReason())
        && involvedKind.equals(e.getInvolvedObject().getKind()) && involvedName.equals(e.getInvolvedObject().getName()));
  }

  /** Stops the agent without closing the capturer (as a crash would leave it). */
  void stopAgent() {
    if (controller != null) {
      controller.close();
      controller = null;
    }
  }

  @Override
  public void close() {
    stopAgent();
    user.close();
    agentClient.close();
  }
}
