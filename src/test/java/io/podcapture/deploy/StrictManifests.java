package io.podcapture.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.NumberDeserializers;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Reads manifests as strictly as the API server would: every document is parsed into fabric8's
 * typed model (PodCapture and PodCaptureSet into the project's own classes) and any field the model
 * does not know is a problem.
 *
 * <p>Why the extra work: fabric8's model classes never fail on an unknown field. They have a
 * {@code @JsonAnySetter} that tucks it into an {@code additionalProperties} map, so
 * FAIL_ON_UNKNOWN_PROPERTIES has no effect on them; a typo such as {@code readOnlyRootFileSystem}
 * parses fine and then is silently dropped by the API server. So after parsing, {@link
 * #unknownFields} walks the object graph and reports every non-empty {@code additionalProperties}
 * map. The project's own API classes have no such map, so for them Jackson's
 * FAIL_ON_UNKNOWN_PROPERTIES does the job during parsing.
 *
 * <p>Scalars are strict too, like the API server's JSON decoding: an unquoted annotation or env
 * value ({@code tcpdump.antrea.io: 5}) and a quoted number ({@code containerPort: "9397"}) are
 * problems, where plain Jackson and fabric8 would quietly convert them. Duplicate keys are problems
 * as well.
 */
final class StrictManifests {
  private static final KubernetesSerialization SERIALIZATION = strictSerialization();

  private StrictManifests() {}

  /** One YAML document of a file. */
  record Document(String source, int index, Map<String, Object> raw) {
    String apiVersion() {
      return String.valueOf(raw.get("apiVersion"));
    }

    String kind() {
      return String.valueOf(raw.get("kind"));
    }

    String name() {
      Object metadata = raw.get("metadata");
      return metadata instanceof Map<?, ?> m ? String.valueOf(m.get("name")) : "null";
    }

    @Override
    public String toString() {
      return source + "#" + index + " " + kind() + "/" + name();
    }
  }

  /** A problem-free document, parsed into its typed class. */
  static KubernetesResource typed(Document document) {
    return SERIALIZATION.convertValue(document.raw(), KubernetesResource.class);
  }

  /** A problem-free part of a document, parsed into the given fabric8 class. */
  static <T> T typed(Object raw, Class<T> type) {
    return SERIALIZATION.convertValue(raw, type);
  }

  static List<Document> load(String source, String yaml) {
    // Duplicate keys are an error for the API server's YAML decoding too.
    Load load =
        new Load(LoadSettings.builder().setAllowDuplicateKeys(false).setLabel(source).build());
    List<Document> documents = new ArrayList<>();
    int index = 0;
    for (Object doc : load.loadAllFromString(yaml)) {
      if (doc == null) {
        continue; // an empty document, e.g. after a trailing ---
      }
      if (!(doc instanceof Map<?, ?> map)) {
        throw new IllegalArgumentException(source + "#" + index + " is not a YAML mapping");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> raw = (Map<String, Object>) map;
      documents.add(new Document(source, index++, raw));
    }
    return documents;
  }

  /**
   * What the API server would reject or silently drop in this document: a kind fabric8 has no model
   * for, a field the model does not know, or a scalar of the wrong type. Empty when the document is
   * clean.
   */
  static List<String> problems(Document document) {
    KubernetesResource typed;
    try {
      typed = typed(document);
    } catch (IllegalArgumentException e) {
      // Jackson's message names the field, and its reference chain says where the field is.
      return List.of(
          document + ": " + String.join(" ", e.getMessage().lines().map(String::strip).toList()));
    }
    List<String> problems = new ArrayList<>();
    for (String path : unknownFields(typed)) {
      problems.add(document + ": " + path);
    }
    return problems;
  }

  /**
   * Like {@link #problems(Document)} for a part of an object fabric8 has no model for as a whole,
   * such as the metadata of a PodMonitor, parsed into the given fabric8 class.
   */
  static List<String> problems(String where, Object raw, Class<?> type) {
    Object typed;
    try {
      typed = typed(raw, type);
    } catch (IllegalArgumentException e) {
      return List.of(
          where + ": " + String.join(" ", e.getMessage().lines().map(String::strip).toList()));
    }
    return unknownFields(typed).stream().map(p -> where + ": " + p).toList();
  }

  /**
   * The fields that landed in an additionalProperties map ("unknown field spec.hostNetwrok"), and
   * the objects fabric8 could only parse generically because it has no model for their apiVersion
   * and kind.
   */
  static List<String> unknownFields(Object typed) {
    List<String> found = new ArrayList<>();
    walk(typed, "", found);
    return found;
  }

  private static void walk(Object node, String path, List<String> found) {
    if (node == null) {
      return;
    }
    if (node instanceof GenericKubernetesResource generic) {
      // The fallback for an apiVersion/kind fabric8 does not model: all its fields are
      // "additional".
      found.add(
          (path.isEmpty() ? "" : path + ": ")
              + "no typed model for "
              + generic.getApiVersion()
              + " "
              + generic.getKind()
              + " (a typo in apiVersion or kind?)");
      return;
    }
    if (node instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        walk(item, path + "[" + i++ + "]", found);
      }
      return;
    }
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        walk(entry.getValue(), join(path, String.valueOf(entry.getKey())), found);
      }
      return;
    }
    if (!isModel(node.getClass())) {
      return; // String, Number, Boolean, enums, Jackson's JsonNode (e.g. a CRD schema default)
    }
    for (Class<?> type = node.getClass();
        type != null && type != Object.class;
        type = type.getSuperclass()) {
      for (Field field : type.getDeclaredFields()) {
        if (Modifier.isStatic(field.getModifiers()) || field.isSynthetic()) {
          continue;
        }
        Object value = read(field, node);
        // Note: JSONSchemaProps has a field of this name that is the OpenAPI keyword, not a Map:
        // walked normally.
        if (field.getName().equals("additionalProperties") && value instanceof Map<?, ?> unknown) {
          for (Object key : unknown.keySet()) {
            found.add("unknown field " + join(path, String.valueOf(key)));
          }
          continue;
        }
        walk(value, join(path, jsonName(field)), found);
      }
    }
  }

  private static boolean isModel(Class<?> type) {
    String name = type.getName();
    return name.startsWith("io.fabric8.kubernetes.api.model.")
        || name.startsWith("io.podcapture.")
        || io.fabric8.kubernetes.client.CustomResource.class.isAssignableFrom(type);
  }

  private static Object read(Field field, Object owner) {
    try {
      field.setAccessible(true);
      return field.get(owner);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot read " + field, e);
    }
  }

  private static String jsonName(Field field) {
    JsonProperty property = field.getAnnotation(JsonProperty.class);
    return property != null && !property.value().isEmpty() ? property.value() : field.getName();
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static KubernetesSerialization strictSerialization() {
    ObjectMapper mapper =
        JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();
    // No number or boolean where the API wants a string (annotations, labels, env values) ...
    mapper
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    // ... and no string where it wants a number or boolean.
    for (LogicalType type :
        new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      mapper.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
    }
    // fabric8 configures (in place) this mapper with its modules. One of them,
    // GoCompatibilityModule, reads "9397" as the Integer 9397. Modules registered later take
    // precedence: put Jackson's own readers back, which honour the coercion settings above.
    KubernetesSerialization serialization = new KubernetesSerialization(mapper, true);
    SimpleModule strictNumbers = new SimpleModule("strict-numbers");
    strictNumbers.addDeserializer(
        Integer.class, new NumberDeserializers.IntegerDeserializer(Integer.class, null));
    strictNumbers.addDeserializer(
        Long.class, new NumberDeserializers.LongDeserializer(Long.class, null));
    mapper.registerModule(strictNumbers);
    serialization.registerKubernetesResource(PodCapture.class);
    serialization.registerKubernetesResource(PodCaptureSet.class);
    return serialization;
  }
}
