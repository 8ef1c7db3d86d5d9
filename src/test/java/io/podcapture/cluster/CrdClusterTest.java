package io.podcapture.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionCondition;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.testing.Command;
import io.podcapture.testing.ControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CRD in crds/ as the real API server takes it: served, validated, printed by kubectl. */
@Tag("cluster")
class CrdClusterTest {
  private static final String NS = "crd";
  private static ControlPlane plane;

  @TempDir Path dir;

  @BeforeAll
  static void start() {
    plane = ControlPlane.shared();
    plane.namespace(NS);
  }

  @Test
  void theCrdIsAcceptedAndEstablished() {
    CustomResourceDefinition crd =
        plane
            .admin()
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .withName("podcaptures.tcpdump.antrea.io")
            .get();
    Map<String, String> conditions =
        crd.getStatus().getConditions().stream()
            .collect(
                Collectors.toMap(
                    CustomResourceDefinitionCondition::getType,
                    CustomResourceDefinitionCondition::getStatus));
    assertEquals("True", conditions.get("Established"), conditions.toString());
    assertEquals("True", conditions.get("NamesAccepted"), conditions.toString());
    assertEquals(List.of("podcap"), crd.getStatus().getAcceptedNames().getShortNames());
  }

  /** Each bad spec is refused by the API server itself, with a message that says what is wrong. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "filter: \"LONG\" | spec.filter: Invalid value | filter must be at most 1024 characters",
        "durationSeconds: -5 | spec.durationSeconds: Invalid value: -5 | should be greater than or equal to 1",
        "maxFiles: 0 | spec.maxFiles: Invalid value: 0 | should be greater than or equal to 1",
      })
  void theApiServerRefusesAnInvalidSpecWithAReadableMessage(String field, String where, String why)
      throws Exception {
    String value = field.replace("LONG", "port 1 or ".repeat(103) + "port 2");
    Path manifest =
        Files.writeString(
            dir.resolve("bad.yaml"),
            """
            apiVersion: tcpdump.antrea.io/v1alpha1
            kind: PodCapture
            metadata: {name: bad, namespace: %s}
            spec:
              podName: web
              %s
            """
                .formatted(NS, value));
    Command.Result result = plane.kubectl("create", "-f", manifest.toString());
    System.out.println("kubectl create (" + field + "): " + result.output().strip());
    assertFalse(result.ok(), result.output());
    assertTrue(result.output().contains("is invalid"), result.output());
    assertTrue(result.output().contains(where), result.output());
    assertTrue(result.output().contains(why), result.output());
    assertEquals(
        null, plane.admin().resources(PodCapture.class).inNamespace(NS).withName("bad").get());
  }

  @Test
  void kubectlGetShowsThePrinterColumns() {
    PodCapture cr = new PodCapture();
    cr.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName("printed").build());
    cr.setSpec(new PodCaptureSpec("web", 2, 1));
    cr.getSpec().setFilter("tcp port 80");
    cr = plane.admin().resources(PodCapture.class).resource(cr).create();
    PodCaptureStatus status = new PodCaptureStatus();
    status.setPhase("Running");
    status.setNode("node-p");
    status.setFileCount(2);
    status.setTotalBytes(4096L);
    cr.setStatus(status);
    plane.admin().resources(PodCapture.class).resource(cr).updateStatus();

    List<String> lines =
        plane.kubectl("get", "podcaptures", "-n", NS).orThrow().output().lines().toList();
    // no AGE: a CRD with columns of its own gets none by default (docs/design-notes.md)
    assertEquals(List.of("NAME", "POD", "FILES", "NODE", "PHASE", "BYTES"), columns(lines.get(0)));
    assertEquals(
        List.of("printed", "web", "2", "node-p", "Running", "4096"),
        columns(lines.get(1)).subList(0, 6));

    List<String> wide =
        plane.kubectl("get", "podcap", "-n", NS, "-o", "wide").orThrow().output().lines().toList();
    assertTrue(columns(wide.get(0)).contains("FILTER"), wide.get(0));
    assertTrue(wide.get(1).contains("tcp port 80"), wide.get(1));
    plane.admin().resources(PodCapture.class).resource(cr).delete();
  }

  private static List<String> columns(String line) {
    return List.of(line.strip().split("\\s+"));
  }
}
