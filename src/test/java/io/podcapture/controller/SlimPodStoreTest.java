package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SlimPodStoreTest {

  private static Pod fullPod() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("web")
        .withNamespace("shop")
        .withUid("uid-1")
        .withResourceVersion("42")
        .withDeletionTimestamp("2025-06-01T10:00:00Z")
        .withLabels(Map.of("app", "web"))
        .withAnnotations(Map.of("tcpdump.antrea.io", "5"))
        .addNewManagedField()
        .withManager("kubelet")
        .withOperation("Update")
        .endManagedField()
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-a")
        .withHostNetwork(true)
        .addNewContainer()
        .withName("app")
        .withImage("web:1")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .withPodIP("10.0.0.5")
        .addNewPodIP()
        .withIp("10.0.0.5")
        .endPodIP()
        .addNewPodIP()
        .withIp("fd00::5")
        .endPodIP()
        .addNewContainerStatus()
        .withName("app")
        .withReady(true)
        .endContainerStatus()
        .endStatus()
        .build();
  }

  /** The Pod as the API server sends it, parsed as the agent parses it. */
  private static SlimPod parsed(Pod pod) {
    KubernetesSerialization agents = new KubernetesSerialization();
    agents.registerKubernetesResource(SlimPod.class);
    return agents.unmarshal(Serialization.asJson(pod), SlimPod.class);
  }

  /** Parsed, stored and read back as the passes read it. */
  private static Pod cached(Pod pod) {
    return SlimPodStore.slim(parsed(pod)).toPod();
  }

  @Test
  void keepsWhatTheAgentReads() {
    Pod slim = cached(fullPod());

    assertEquals("web", slim.getMetadata().getName());
    assertEquals("shop", slim.getMetadata().getNamespace());
    assertEquals("uid-1", slim.getMetadata().getUid());
    assertEquals("42", slim.getMetadata().getResourceVersion());
    assertEquals("2025-06-01T10:00:00Z", slim.getMetadata().getDeletionTimestamp());
    assertEquals(Map.of("tcpdump.antrea.io", "5"), slim.getMetadata().getAnnotations());
    assertEquals(Map.of("app", "web"), slim.getMetadata().getLabels());
    assertEquals("node-a", slim.getSpec().getNodeName());
    assertEquals(
        Boolean.TRUE,
        slim.getSpec().getHostNetwork(),
        "a hostNetwork Pod is refused: the agent reads it");
    assertEquals("Running", slim.getStatus().getPhase());
    assertEquals("10.0.0.5", slim.getStatus().getPodIP());
    assertEquals(
        List.of("10.0.0.5", "fd00::5"),
        slim.getStatus().getPodIPs().stream().map(ip -> ip.getIp()).toList());
    assertEquals("Pod", slim.getKind());
    assertEquals("v1", slim.getApiVersion());
  }

  @Test
  void dropsContainersStatusesAndManagedFields() {
    Pod slim = cached(fullPod());

    assertTrue(
        slim.getMetadata().getManagedFields() == null
            || slim.getMetadata().getManagedFields().isEmpty());
    assertTrue(slim.getSpec().getContainers().isEmpty());
    assertTrue(slim.getStatus().getContainerStatuses().isEmpty());
    String json = Serialization.asJson(slim);
    assertFalse(json.contains("web:1") || json.contains("kubelet"), json);
  }

  @Test
  void leavesTheDeliveredPodAsItWas() {
    SlimPod pod = parsed(fullPod());
    String before = Serialization.asJson(pod);

    SlimPodStore store = new SlimPodStore();
    store.put(store.getKey(pod), pod);

    assertEquals(before, Serialization.asJson(pod));
    assertNotNull(store.get("shop/web"));
    assertEquals("node-a", store.get("shop/web").getSpec().getNodeName());
    assertNull(store.get("shop/web").getMetadata().getManagedFields());
  }

  @Test
  void podWithoutSpecOrStatusIsKept() {
    Pod bare =
        new PodBuilder().withNewMetadata().withName("x").withNamespace("y").endMetadata().build();

    Pod slim = cached(bare);

    assertEquals("x", slim.getMetadata().getName());
    assertNull(slim.getSpec());
    assertNull(slim.getStatus());
  }
}
