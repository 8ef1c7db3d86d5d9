package io.podcapture.testing;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.Names;
import java.time.Duration;
import java.util.List;

/**
 * What a user does and sees through kubectl: Pods, the annotation, PodCaptures, Events. The tests'
 * one place for these actions (so the annotation's value is JSON-escaped everywhere, whatever a
 * test puts in it).
 */
public class User {
  private final KubernetesClient client;

  public User(KubernetesClient client) {
    this.client = client;
  }

  public KubernetesClient client() {
    return client;
  }

  public void namespace(String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  public Pod create(Pod pod) {
    return client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
  }

  /**
   * A running Pod on {@link Pods#NODE} with the given IPs, annotated unless {@code annotation} is
   * null.
   */
  public Pod createPod(String namespace, String name, String annotation, List<String> ips) {
    return create(Pods.running(namespace, name, annotation, ips));
  }

  /** {@code kubectl annotate pod --overwrite}; a null value removes the annotation. */
  public void annotate(String namespace, String name, String value) {
    annotate(client, namespace, name, value);
  }

  /** {@code kubectl annotate pod x tcpdump.antrea.io-}. */
  public void removeAnnotation(String namespace, String name) {
    annotate(client, namespace, name, null);
  }

  /**
   * The annotation through any client (e.g. one that reaches the API server where the agent
   * cannot).
   */
  public static void annotate(
      KubernetesClient client, String namespace, String name, String value) {
    String json =
        value == null
            ? "null"
            : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    client
        .pods()
        .inNamespace(namespace)
        .withName(name)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"" + Names.ANNOTATION + "\":" + json + "}}}");
  }

  public String annotation(String namespace, String name) {
    Pod pod = getPod(namespace, name);
    return pod.getMetadata().getAnnotations() == null
        ? null
        : pod.getMetadata().getAnnotations().get(Names.ANNOTATION);
  }

  public Pod getPod(String namespace, String name) {
    return client.pods().inNamespace(namespace).withName(name).get();
  }

  public void deletePod(String namespace, String name) {
    client.pods().inNamespace(namespace).withName(name).delete();
  }

  public PodCapture createPodCapture(PodCapture capture) {
    return client
        .resources(PodCapture.class)
        .inNamespace(capture.getMetadata().getNamespace())
        .resource(capture)
        .create();
  }

  public void deletePodCapture(String namespace, String name) {
    client.resources(PodCapture.class).inNamespace(namespace).withName(name).delete();
  }

  public PodCapture cr(String namespace, String name) {
    return client.resources(PodCapture.class).inNamespace(namespace).withName(name).get();
  }

  public List<PodCapture> crs() {
    return client.resources(PodCapture.class).inAnyNamespace().list().getItems();
  }

  public String phase(String namespace, String name) {
    PodCapture cr = cr(namespace, name);
    return cr == null || cr.getStatus() == null ? null : cr.getStatus().getPhase();
  }

  public PodCapture awaitPhase(String namespace, String name, String phase, Duration atMost) {
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> phase.equals(phase(namespace, name)));
    return cr(namespace, name);
  }

  /** The PodCapture's Ready condition. */
  public static Condition ready(PodCapture cr) {
    return cr.getStatus().getConditions().stream()
        .filter(c -> Names.CONDITION_READY.equals(c.getType()))
        .findFirst()
        .orElseThrow();
  }

  public List<Event> events(String namespace) {
    return client.v1().events().inNamespace(namespace).list().getItems();
  }

  public boolean hasEvent(String namespace, String involvedName, String reason) {
    return events(namespace).stream()
        .anyMatch(
            e ->
                reason.equals(e.getReason())
                    && involvedName.equals(e.getInvolvedObject().getName()));
  }

  public boolean hasEvent(
      String namespace, String involvedKind, String involvedName, String reason) {
    return events(namespace).stream()
        .anyMatch(
            e ->
                reason.equals(e.getReason())
                    && involvedKind.equals(e.getInvolvedObject().getKind())
                    && involvedName.equals(e.getInvolvedObject().getName()));
  }
}
