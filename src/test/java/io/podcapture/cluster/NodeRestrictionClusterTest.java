package io.podcapture.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.controller.Names;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControlPlane.AgentIdentity;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * deploy/node-restriction.yaml and deploy/user-roles.yaml as the real API server enforces them: an
 * agent's token, bound to its Pod on node {@code own}, may write what belongs to its node and is
 * refused, with the policy's message, what belongs to node {@code other}.
 */
@Tag("cluster")
class NodeRestrictionClusterTest {
  private static final String NS = "restricted";
  private static final String REMOVE_ANNOTATION =
      "[{\"op\":\"remove\",\"path\":\"/metadata/annotations/tcpdump.antrea.io\"}]";

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static KubernetesClient agent;

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    plane.namespace(NS);
    plane.namespace("shop");
    plane.node("other");
    AgentIdentity own = plane.agentIdentity("own", dir);
    agent = ControlPlane.client(own.kubeconfig());
    for (String node : new String[] {"own", "other"}) {
      plane.runningPod(
          ControlPlane.boundPod(NS, "web-" + node, node)
              .editMetadata()
              .addToAnnotations(Names.ANNOTATION, "1")
              .endMetadata()
              .build(),
          java.util.List.of("10.9.0." + (node.equals("own") ? 1 : 2)));
      PodCapture cr = new PodCapture();
      cr.setMetadata(
          new ObjectMetaBuilder()
              .withNamespace(NS)
              .withName("cap-" + node)
              .withLabels(Map.of(Names.LABEL_NODE, node))
              .build());
      cr.setSpec(new PodCaptureSpec("web-" + node, 1, 1));
      plane.admin().resources(PodCapture.class).resource(cr).create();
    }
  }

  @AfterAll
  static void stop() {
    if (agent != null) {
      agent.close();
    }
  }

  private static void allowed(Runnable write) {
    write.run();
  }

  private static void refused(String message, Supplier<?> write) {
    KubernetesClientException e = assertThrows(KubernetesClientException.class, write::get);
    System.out.println("refused (" + e.getCode() + "): " + e.getStatus().getMessage());
    assertEquals(403, e.getCode(), e.getMessage());
    assertTrue(e.getStatus().getMessage().contains(message), e.getStatus().getMessage());
  }

  private static Object removeAnnotation(KubernetesClient client, String pod) {
    return client
        .pods()
        .inNamespace(NS)
        .withName(pod)
        .patch(PatchContext.of(PatchType.JSON), REMOVE_ANNOTATION);
  }

  private static Object writeStatus(KubernetesClient client, String capture, String node) {
    PodCapture cr = client.resources(PodCapture.class).inNamespace(NS).withName(capture).get();
    PodCaptureStatus status = new PodCaptureStatus();
    status.setPhase("Running");
    status.setNode(node);
    cr.setStatus(status);
    return client.resources(PodCapture.class).resource(cr).updateStatus();
  }

  private static Event event(String pod, String node) {
    return new EventBuilder()
        .withNewMetadata()
        .withNamespace(NS)
        .withGenerateName(pod + ".")
        .endMetadata()
        .withNewInvolvedObject()
        .withApiVersion("v1")
        .withKind("Pod")
        .withNamespace(NS)
        .withName(pod)
        .endInvolvedObject()
        .withReason("CaptureStarted")
        .withMessage("forged?")
        .withType("Normal")
        .withNewSource()
        .withComponent("podcapture-agent")
        .withHost(node)
        .endSource()
        .build();
  }

  @Test
  void theAgentMayRemoveTheAnnotationOfItsOwnNodesPodButNotOfAnotherNodes() {
    refused(
        "podcapture-agent: may write only Pods of its own node (spec.nodeName)",
        () -> removeAnnotation(agent, "web-other"));
    allowed(() -> removeAnnotation(agent, "web-own"));
    Pod own = plane.admin().pods().inNamespace(NS).withName("web-own").get();
    assertEquals(null, own.getMetadata().getAnnotations().get(Names.ANNOTATION));
    assertEquals(
        "1",
        plane
            .admin()
            .pods()
            .inNamespace(NS)
            .withName("web-other")
            .get()
            .getMetadata()
            .getAnnotations()
            .get(Names.ANNOTATION));
  }

  @Test
  void theAgentMayWriteTheStatusOfItsOwnNodesPodCaptureButNotOfAnotherNodes() {
    refused(
        "podcapture-agent: may write only PodCaptures labelled tcpdump.antrea.io/node with its own"
            + " node",
        () -> writeStatus(agent, "cap-other", "other"));
    refused(
        "podcapture-agent: may write a PodCapture's status only with its own node in status.node",
        () -> writeStatus(agent, "cap-own", "other"));
    allowed(() -> writeStatus(agent, "cap-own", "own"));
  }

  @Test
  void theAgentMayRecordEventsOnlyWithItsOwnNodeAsSource() {
    refused(
        "podcapture-agent: may only record Events about Pods and PodCaptures with its own node as"
            + " source.host",
        () -> agent.v1().events().resource(event("web-other", "other")).create());
    allowed(() -> agent.v1().events().resource(event("web-own", "own")).create());
  }

  @Test
  void aTokenOfTheAgentsServiceAccountThatNamesNoNodeIsRefused() throws Exception {
    String unbound =
        plane
            .admin()
            .serviceAccounts()
            .inNamespace(ControlPlane.AGENT_NAMESPACE)
            .withName(ControlPlane.AGENT_SERVICE_ACCOUNT)
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    try (KubernetesClient nodeless =
        ControlPlane.client(plane.writeKubeconfig(dir.resolve("nodeless.kubeconfig"), unbound))) {
      refused(
          "podcapture-agent: the request carries no node name",
          () -> writeStatus(nodeless, "cap-own", "own"));
    }
  }

  /** A user bound to podcapture-editor in shop, asked with kubectl auth can-i --as. */
  @ParameterizedTest
  @CsvSource({
    "create, podcaptures.tcpdump.antrea.io, shop, yes",
    "delete, podcaptures.tcpdump.antrea.io, shop, yes",
    "list, podcaptures.tcpdump.antrea.io, shop, yes",
    "create, podcaptures.tcpdump.antrea.io, default, no",
    "create, podcaptures.tcpdump.antrea.io, kube-system, no",
    "update, podcaptures.tcpdump.antrea.io/status, shop, no",
    "patch, podcaptures.tcpdump.antrea.io, shop, no",
    "patch, pods, shop, no",
  })
  void anEditorInShopMayCreatePodCapturesThereAndNowhereElseAndMayNotPatchPods(
      String verb, String resource, String namespace, String expected) {
    plane.kubectl(
        "create",
        "rolebinding",
        "alice-podcapture",
        "--clusterrole=podcapture-editor",
        "--user=alice",
        "--namespace=shop");
    String[] parts = resource.split("/");
    String answer =
        parts.length == 2
            ? plane
                .kubectl(
                    "auth",
                    "can-i",
                    verb,
                    parts[0],
                    "--subresource=" + parts[1],
                    "-n",
                    namespace,
                    "--as",
                    "alice")
                .output()
                .strip()
            : plane
                .kubectl("auth", "can-i", verb, resource, "-n", namespace, "--as", "alice")
                .output()
                .strip();
    assertEquals(expected, answer, verb + " " + resource + " -n " + namespace);
  }
}
