package io.podcapture.sets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.testing.MockApiServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checked-in PodCaptureSet CRD is the one the build generates, with the columns asked for. */
class SetCrdTest {
  static final String GENERATED =
      "target/classes/META-INF/fabric8/podcapturesets.tcpdump.antrea.io-v1.yml";

  private static Object parse(String file) throws IOException {
    Path path = MockApiServer.projectDir().resolve(file);
    try (InputStream in = Files.newInputStream(path)) {
      return Serialization.yamlMapper().readValue(in, Object.class);
    }
  }

  @Test
  void checkedInCrdEqualsTheGeneratedOne() throws IOException {
    assertTrue(
        Files.isRegularFile(MockApiServer.projectDir().resolve(GENERATED)),
        GENERATED + " is missing: it is generated when src/main compiles (mvn compile)");
    assertEquals(
        parse(GENERATED),
        parse(SetFixtures.CRD_FILE),
        SetFixtures.CRD_FILE
            + " differs from what the build generates; refresh it with:\n  cp "
            + GENERATED
            + " "
            + SetFixtures.CRD_FILE);
  }

  @Test
  void printerColumnsAnswerTheFirstQuestions() {
    CustomResourceDefinition crd = SetFixtures.crd();
    assertEquals("podcapset", crd.getSpec().getNames().getShortNames().get(0));
    CustomResourceDefinitionVersion v1 = crd.getSpec().getVersions().get(0);
    assertTrue(v1.getSubresources().getStatus() != null, "status subresource");
    List<String> columns =
        v1.getAdditionalPrinterColumns().stream()
            .filter(c -> c.getPriority() == null || c.getPriority() == 0)
            .map(CustomResourceColumnDefinition::getJsonPath)
            .sorted()
            .toList();
    assertEquals(
        List.of(
            ".status.bytes",
            ".status.capturedPods",
            ".status.children.completed",
            ".status.children.running",
            ".status.matchedPods",
            ".status.nodeCount",
            ".status.phase"),
        columns);
  }
}
