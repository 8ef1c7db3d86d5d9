package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.controller.Names;
import io.podcapture.testing.MockApiServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The set tests' fixtures: the checked-in set CRD, sets, and reading a set's children. */
final class SetFixtures {
  static final String CRD_FILE = "crds/podcapturesets.tcpdump.antrea.io.yaml";

  private SetFixtures() {}

  /** The checked-in PodCaptureSet CRD, as a user would apply it. */
  static CustomResourceDefinition crd() {
    Path file = MockApiServer.projectDir().resolve(CRD_FILE);
    try (InputStream in = Files.newInputStream(file)) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Registers the set CRD with the API server (the mock registers only the PodCapture one). */
  static void registerCrd(KubernetesClient admin) {
    try {
      admin.apiextensions().v1().customResourceDefinitions().resource(crd()).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  /** A set over the Pods labelled {@code app=<app>}. */
  static PodCaptureSet set(
      String namespace, String name, String app, Integer maxPods, Integer durationSeconds) {
    PodCaptureSet set = new PodCaptureSet();
    set.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    PodCaptureSetSpec spec = new PodCaptureSetSpec();
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", app)).build());
    spec.setMaxPods(maxPods);
    spec.setDurationSeconds(durationSeconds);
    set.setSpec(spec);
    return set;
  }

  static PodCaptureSet get(KubernetesClient client, String namespace, String name) {
    return client.resources(PodCaptureSet.class).inNamespace(namespace).withName(name).get();
  }

  static PodCaptureSet create(KubernetesClient client, PodCaptureSet set) {
    return client
        .resources(PodCaptureSet.class)
        .inNamespace(set.getMetadata().getNamespace())
        .resource(set)
        .create();
  }

  /** The set's children, as the API server has them now. */
  static List<PodCapture> children(KubernetesClient client, String namespace, String set) {
    return client
        .resources(PodCapture.class)
        .inNamespace(namespace)
        .withLabel(Names.LABEL_SET, set)
        .list()
        .getItems();
  }

  /** How many of the set's children are in the phase. */
  static long inPhase(List<PodCapture> children, String phase) {
    return children.stream()
        .filter(c -> c.getStatus() != null && phase.equals(c.getStatus().getPhase()))
        .count();
  }
}
