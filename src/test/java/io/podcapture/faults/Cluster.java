package io.podcapture.faults;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.Names;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/** What a user does and sees through kubectl, for the fault tests: Pods, the annotation, PodCaptures, files. */
final class Cluster {
  static final String NODE = "node-a";

  private final KubernetesClient user;

  Cluster(KubernetesClient user) {
    this.user = user;
  }

  KubernetesClient client() {
    return user;
  }

  void namespace(String name) {
    user.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  /** A running Pod on {@link #NODE} with the given IPs, annotated unless {@code annotation} is null. */
  Pod createPod(String namespace, String name, String annotation, List<String> ips) {
    PodBuilder b = new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name)
        .withUid(namespace + "-" + name + "-uid").endMetadata()
        .withNewSpec().withNodeName(NODE).addNewContainer().withName("c").withImage("busybox").endContainer()
        .endSpec().withNewStatus().withPhase("Running").withPodIP(ips.get(0)).endStatus();
    for (String ip : ips) {
      b.editStatus().addNewPodIP().withIp(ip).endPodIP().endStatus();
    }
    if (annotation != null) {
      b.editMetadata().addToAnnotations(Names.ANNOTATION, annotation).endMetadata();
    }
    return user.pods().inNamespace(namespace).resource(b.build()).create();
  }

  /** Sets the annotation, or removes it when {@code value} is null (kubectl annotate pod x tcpdump.antrea.io-). */
  void annotate(String namespace, String name, String value) {
    annotate(user, namespace, name, value);
  }

  static void annotate(KubernetesClient client, String namespace, String name, String value) {
    String json = value == null ? "null" : "\"" + value + "\"";
    client.pods().inNamespace(namespace).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"" + Names.ANNOTATION + "\":" + json + "}}}");
  }

  String annotation(String namespace, String name) {
    Pod pod = user.pods().inNamespace(namespace).withName(name).get();
    return pod.getMetadata().getAnnotations() == null ? null : pod.getMetadata().getAnnotations().get(Names.ANNOTATION);
  }

  PodCapture cr(String namespace, String name) {
    return user.resources(PodCapture.class).inNamespace(namespace).withName(name).get();
  }

  List<PodCapture> crs() {
    return user.resources(PodCapture.class).inAnyNamespace().list().getItems();
  }

  String phase(String namespace, String name) {
    PodCapture cr = cr(namespace, name);
    return cr == null || cr.getStatus() == null ? null : cr.getStatus().getPhase();
  }

  PodCapture awaitPhase(String namespace, String name, String phase, Duration atMost) {
    await().atMost(atMost).pollInterval(Duration.ofMillis(50)).until(() -> phase.equals(phase(namespace, name)));
    return cr(namespace, name);
  }

  static Condition ready(PodCapture cr) {
    return cr.getStatus().getConditions().stream().filter(c -> Names.CONDITION_READY.equals(c.getType()))
        .findFirst().orElseThrow();
  }

  /** Every regular file below {@code dir}, as paths relative to it (empty if there is no such folder). */
  static List<String> files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGKILLs every process writing below {@code dir} (test clean-up: only the tcpdumps this test started). */
  static void killProcessesWritingInto(Path dir) {
    for (long pid : io.podcapture.testing.Pcap.processesWritingInto(dir)) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }
}
