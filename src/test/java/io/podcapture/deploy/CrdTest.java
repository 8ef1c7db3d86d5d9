package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.podcapture.api.v1alpha1.PodCapture;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The checked-in CRD is the one the build generates from the API classes, and it says what the
 * design says.
 */
class CrdTest {
  static final String CHECKED_IN_CRD = "crds/podcaptures.tcpdump.antrea.io.yaml";
  static final String GENERATED_CRD =
      "target/classes/META-INF/fabric8/podcaptures.tcpdump.antrea.io-v1.yml";

  /**
   * ObjectMeta fields a printer column may point at; the CRD's schema does not spell out metadata.
   */
  private static final Set<String> METADATA_FIELDS =
      Set.of(
          "name", "namespace", "creationTimestamp", "generation", "labels", "annotations", "uid");

  @Test
  void checkedInCrdEqualsTheGeneratedOne() {
    assertTrue(
        Files.isRegularFile(ProjectFiles.path(GENERATED_CRD)),
        GENERATED_CRD + " is missing: it is generated when src/main compiles (mvn compile)");

    Object checkedIn = parse(CHECKED_IN_CRD);
    Object generated = parse(GENERATED_CRD);

    String difference = firstDifference(generated, checkedIn, "");
    assertEquals(
        null,
        difference,
        CHECKED_IN_CRD
            + " differs from what the build generates from the API classes"
            + " (at "
            + difference
            + "). Refresh it with:\n  cp "
            + GENERATED_CRD
            + " "
            + CHECKED_IN_CRD);
  }

  /**
   * The build generates a CRD for every class annotated as a Kubernetes resource: exactly the ones
   * checked into crds/, none for a built-in type the agent reads in a shape of its own (SlimPod).
   */
  @Test
  void theBuildGeneratesExactlyTheCheckedInCrds() throws java.io.IOException {
    Set<String> generated;
    try (var files = Files.list(ProjectFiles.path("target/classes/META-INF/fabric8"))) {
      generated =
          files
              .map(f -> f.getFileName().toString())
              .filter(name -> name.endsWith("-v1.yml"))
              .map(name -> name.substring(0, name.length() - "-v1.yml".length()))
              .collect(Collectors.toCollection(TreeSet::new));
    }
    Set<String> checkedIn;
    try (var files = Files.list(ProjectFiles.path("crds"))) {
      checkedIn =
          files
              .map(f -> f.getFileName().toString())
              .filter(name -> name.endsWith(".yaml"))
              .map(name -> name.substring(0, name.length() - ".yaml".length()))
              .collect(Collectors.toCollection(TreeSet::new));
    }

    assertEquals(checkedIn, generated, "CRDs generated in target/classes/META-INF/fabric8");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aStaleCrdIsReportedWithWhereItDiffers() {
    Map<String, Object> stale = (Map<String, Object>) parse(CHECKED_IN_CRD);
    Map<String, Object> names =
        (Map<String, Object>) ((Map<String, Object>) stale.get("spec")).get("names");
    names.put("shortNames", List.of("pc"));

    assertEquals(
        ".spec.names.shortNames[0]: generated podcap, checked in pc",
        firstDifference(parse(CHECKED_IN_CRD), stale, ""));
    assertEquals(null, firstDifference(parse(CHECKED_IN_CRD), parse(CHECKED_IN_CRD), ""));
  }

  @Test
  void crdDeclaresTheNamespacedPodCaptureApiWithAStatusSubresource() {
    CustomResourceDefinition crd = crd();

    assertEquals(PodCapture.CRD_NAME, crd.getMetadata().getName());
    assertEquals("tcpdump.antrea.io", crd.getSpec().getGroup());
    assertEquals("PodCapture", crd.getSpec().getNames().getKind());
    assertEquals("podcaptures", crd.getSpec().getNames().getPlural());
    assertEquals("podcapture", crd.getSpec().getNames().getSingular());
    assertEquals(List.of("podcap"), crd.getSpec().getNames().getShortNames());
    assertEquals("Namespaced", crd.getSpec().getScope());
    assertEquals(1, crd.getSpec().getVersions().size());
    CustomResourceDefinitionVersion version = version();
    assertEquals("v1alpha1", version.getName());
    assertEquals(Boolean.TRUE, version.getServed());
    assertEquals(Boolean.TRUE, version.getStorage());
    assertNotNull(version.getSubresources().getStatus(), "status subresource");
  }

  @Test
  void printerColumnsShowPodNodePhaseFilesAndBytes() {
    Set<String> names =
        version().getAdditionalPrinterColumns().stream()
            .map(CustomResourceColumnDefinition::getName)
            .collect(Collectors.toSet());

    assertTrue(
        names.containsAll(Set.of("Pod", "Node", "Phase", "Files", "Bytes")), "columns: " + names);
  }

  @Test
  void everyPrinterColumnPointsAtAPropertyOfTheSchema() {
    Map<String, Object> schema = openApiSchema();
    List<String> wrong = new ArrayList<>();
    for (CustomResourceColumnDefinition column : version().getAdditionalPrinterColumns()) {
      String path = column.getJsonPath();
      if (!path.matches("(\\.[A-Za-z][A-Za-z0-9]*)+")) {
        wrong.add(column.getName() + ": " + path + " is not a simple .field.field path");
        continue;
      }
      List<String> steps = List.of(path.substring(1).split("\\."));
      if (steps.get(0).equals("metadata")) {
        if (steps.size() != 2 || !METADATA_FIELDS.contains(steps.get(1))) {
          wrong.add(column.getName() + ": " + path + " is not an ObjectMeta field");
        }
        continue;
      }
      Map<String, Object> property = schema;
      for (String step : steps) {
        property = property == null ? null : child(property, step);
      }
      if (property == null) {
        wrong.add(column.getName() + ": " + path + " is not in the schema");
      } else if (!compatible(column.getType(), String.valueOf(property.get("type")))) {
        wrong.add(
            column.getName()
                + ": column type "
                + column.getType()
                + " but "
                + path
                + " is "
                + property.get("type"));
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void sampleOutputIsValidAgainstTheCrdSchema() {
    Map<String, Object> schema = openApiSchema();
    StrictManifests.Document sample = ManifestsTest.only(ManifestsTest.SAMPLE_OUTPUT);
    List<String> problems = new ArrayList<>();
    int i = 0;
    for (Object item : (List<?>) sample.raw().get("items")) {
      Map<?, ?> object = (Map<?, ?>) item;
      for (String part : List.of("spec", "status")) {
        validate(child(schema, part), object.get(part), "items[" + i + "]." + part, problems);
      }
      i++;
    }
    assertEquals(List.of(), problems);
  }

  // ---- helpers

  private static CustomResourceDefinition crd() {
    return ManifestsTest.typed(CHECKED_IN_CRD, CustomResourceDefinition.class);
  }

  private static CustomResourceDefinitionVersion version() {
    return crd().getSpec().getVersions().get(0);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> openApiSchema() {
    Map<String, Object> crd = (Map<String, Object>) parse(CHECKED_IN_CRD);
    Map<String, Object> spec = (Map<String, Object>) crd.get("spec");
    Map<String, Object> version = (Map<String, Object>) ((List<?>) spec.get("versions")).get(0);
    return (Map<String, Object>)
        ((Map<String, Object>) version.get("schema")).get("openAPIV3Schema");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> child(Map<String, Object> schema, String name) {
    Map<String, Object> properties = (Map<String, Object>) schema.get("properties");
    return properties == null ? null : (Map<String, Object>) properties.get(name);
  }

  private static boolean compatible(String columnType, String schemaType) {
    return columnType.equals(schemaType)
        || (columnType.equals("date") && schemaType.equals("string"));
  }

  /**
   * The parts of OpenAPI v3 validation this CRD uses: type, properties (the schema keeps no unknown
   * field), required, items, minimum, maximum and pattern.
   */
  @SuppressWarnings("unchecked")
  private static void validate(
      Map<String, Object> schema, Object value, String path, List<String> problems) {
    if (value == null) {
      return;
    }
    String type = String.valueOf(schema.get("type"));
    switch (type) {
      case "object" -> {
        if (!(value instanceof Map<?, ?> object)) {
          problems.add(path + ": an object expected, got " + value);
          return;
        }
        Map<String, Object> properties =
            (Map<String, Object>) schema.getOrDefault("properties", Map.of());
        for (Map.Entry<?, ?> entry : object.entrySet()) {
          Map<String, Object> property =
              (Map<String, Object>) properties.get(String.valueOf(entry.getKey()));
          if (property == null) {
            problems.add(
                path
                    + "."
                    + entry.getKey()
                    + ": not in the schema (the API server would prune it)");
          } else {
            validate(property, entry.getValue(), path + "." + entry.getKey(), problems);
          }
        }
        for (Object required : (List<?>) schema.getOrDefault("required", List.of())) {
          if (!object.containsKey(required)) {
            problems.add(path + "." + required + ": required");
          }
        }
      }
      case "array" -> {
        if (!(value instanceof List<?> list)) {
          problems.add(path + ": an array expected, got " + value);
          return;
        }
        for (int i = 0; i < list.size(); i++) {
          validate(
              (Map<String, Object>) schema.get("items"),
              list.get(i),
              path + "[" + i + "]",
              problems);
        }
      }
      case "string" -> {
        if (!(value instanceof String text)) {
          problems.add(path + ": a string expected, got " + value);
        } else if (schema.containsKey("pattern")
            && !Pattern.compile((String) schema.get("pattern")).matcher(text).find()) {
          problems.add(path + ": " + text + " does not match " + schema.get("pattern"));
        }
      }
      case "integer" -> {
        if (!(value instanceof Integer
            || value instanceof Long
            || value instanceof java.math.BigInteger)) {
          problems.add(path + ": an integer expected, got " + value);
          return;
        }
        double number = ((Number) value).doubleValue();
        if (schema.get("minimum") instanceof Number min && number < min.doubleValue()) {
          problems.add(path + ": " + value + " is below the minimum " + min);
        }
        if (schema.get("maximum") instanceof Number max && number > max.doubleValue()) {
          problems.add(path + ": " + value + " is above the maximum " + max);
        }
      }
      default -> problems.add(path + ": schema type " + type + " not handled by this test");
    }
  }

  private static Object parse(String file) {
    Load load =
        new Load(LoadSettings.builder().setAllowDuplicateKeys(false).setLabel(file).build());
    Iterator<Object> documents = load.loadAllFromString(ProjectFiles.read(file)).iterator();
    Object first = documents.next();
    assertTrue(!documents.hasNext(), file + " should hold one document");
    return first;
  }

  /**
   * The path of the first place where two parsed YAML trees differ, or null when they are equal.
   */
  static String firstDifference(Object expected, Object actual, String path) {
    if (expected instanceof Map<?, ?> e && actual instanceof Map<?, ?> a) {
      Set<String> keys = new TreeSet<>();
      e.keySet().forEach(k -> keys.add(String.valueOf(k)));
      a.keySet().forEach(k -> keys.add(String.valueOf(k)));
      for (String key : keys) {
        String difference = firstDifference(e.get(key), a.get(key), path + "." + key);
        if (difference != null) {
          return difference;
        }
      }
      return null;
    }
    if (expected instanceof List<?> e && actual instanceof List<?> a) {
      for (int i = 0; i < Math.max(e.size(), a.size()); i++) {
        String difference =
            firstDifference(
                i < e.size() ? e.get(i) : null,
                i < a.size() ? a.get(i) : null,
                path + "[" + i + "]");
        if (difference != null) {
          return difference;
        }
      }
      return null;
    }
    return Objects.equals(expected, actual)
        ? null
        : (path.isEmpty() ? "the top" : path)
            + ": generated "
            + expected
            + ", checked in "
            + actual;
  }
}
