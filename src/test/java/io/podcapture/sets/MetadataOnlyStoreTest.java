package io.podcapture.sets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.testing.Pods;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetadataOnlyStoreTest {
  @Test
  void aWholePodIsStoredAsItsNameLabelsAndTimesOnly() {
    Pod pod = Pods.running("default", "web-1", "node-a", null, "10.1.0.1");
    pod.getMetadata().setLabels(Map.of("app", "web"));
    pod.getMetadata()
        .setAnnotations(Map.of("kubectl.kubernetes.io/last-applied", "x".repeat(4000)));
    pod.getMetadata().setManagedFields(List.of(new ManagedFieldsEntry()));
    pod.getMetadata().setOwnerReferences(List.of(new OwnerReference()));
    pod.getMetadata().setCreationTimestamp("2026-12-05T07:00:00Z");
    pod.getMetadata().setResourceVersion("42");
    GenericKubernetesResource whole =
        Serialization.unmarshal(Serialization.asJson(pod), GenericKubernetesResource.class);
    assertTrue(whole.getAdditionalProperties().containsKey("spec"), "the input is whole");

    MetadataOnlyStore store = new MetadataOnlyStore();
    store.put(store.getKey(whole), whole);
    GenericKubernetesResource kept = store.get("default/web-1");

    assertNull(kept.getAdditionalProperties().get("spec"));
    assertNull(kept.getAdditionalProperties().get("status"));
    assertEquals(Map.of("app", "web"), kept.getMetadata().getLabels());
    assertEquals("default-web-1-uid", kept.getMetadata().getUid());
    assertEquals("42", kept.getMetadata().getResourceVersion());
    assertEquals("2026-12-05T07:00:00Z", kept.getMetadata().getCreationTimestamp());
    assertTrue(kept.getMetadata().getAnnotations().isEmpty());
    assertTrue(kept.getMetadata().getManagedFields().isEmpty());
    assertTrue(kept.getMetadata().getOwnerReferences().isEmpty());
    assertTrue(whole.getAdditionalProperties().containsKey("spec"), "the input is not changed");
    assertEquals(
        new MatchedPod("web-1", java.time.Instant.parse("2026-12-05T07:00:00Z"), false),
        PodWatches.matched(kept));
  }
}
