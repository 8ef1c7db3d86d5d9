package io.podcapture.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * fabric8's CRUD dispatcher, made to behave like a real API server where the agent would notice the
 * difference:
 *
 * <ul>
 *   <li>it honours the {@code spec.nodeName} field selector on Pods (7.5.2 indexes only a few
 *       fields, so such a selector matched nothing); label selectors are fabric8's own;
 *   <li>it records every request it serves, with the caller's User-Agent ({@link #requests()});
 *   <li>it removes an object being deleted once its last finalizer is gone;
 *   <li>an update (of an object or its status) that carries a resourceVersion other than the stored
 *       one is refused with {@code 409 Conflict}, a JSON patch whose {@code test} operation fails
 *       with {@code 422}, and a PodCapture is stored with its CRD's defaults filled in, as a real
 *       API server does (all three found by MockParityClusterTest against kube-apiserver);
 *   <li>after {@link #restarted()}, a watch that resumes from a resourceVersion issued before is
 *       answered {@code 410 Gone} ("too old resource version"), as a restarted kube-apiserver whose
 *       watch cache starts afresh does. fabric8's CRUD mock would otherwise replay current objects
 *       as ADDED and never tell a resumed watch about deletions, which no real API server does.
 * </ul>
 */
public class NodeAwareCrudDispatcher extends KubernetesCrudDispatcher {
  static final String NODE_NAME_FIELD = "spec.nodeName";

  /** One request as the API server saw it, with the client's User-Agent to tell callers apart. */
  public record Request(String method, String path, String body, String userAgent) {}

  private static final Pattern WATCH_FROM = Pattern.compile("[?&]resourceVersion=(\\d+)");

  private final List<Request> requests = new CopyOnWriteArrayList<>();

  /** resourceVersions below this were issued before the last restart. */
  private final AtomicLong firstAfterRestart = new AtomicLong(0);

  private final AtomicLong goneAnswers = new AtomicLong();

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    // getUtf8Body() would consume the body the CRUD handlers still need: copy the bytes instead.
    String body =
        request.getBody() == null
            ? ""
            : new String(request.getBody().getBytes(), StandardCharsets.UTF_8);
    requests.add(
        new Request(request.getMethod(), request.getPath(), body, request.getHeader("User-Agent")));
    String path = request.getPath();
    if ("GET".equals(request.getMethod()) && path.contains("watch=true")) {
      Matcher m = WATCH_FROM.matcher(path);
      if (m.find() && Long.parseLong(m.group(1)) < firstAfterRestart.get()) {
        goneAnswers.incrementAndGet();
        return gone(m.group(1));
      }
    }
    return super.dispatch(request);
  }

  private MockResponse gone(String version) {
    String status =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
            + "\"reason\":\"Expired\",\"code\":410,\"message\":\"too old resource version: "
            + version
            + " ("
            + firstAfterRestart.get()
            + ")\"}";
    // As kube-apiserver's watch cache does: the watch is accepted, then ends with an ERROR event.
    return new MockResponse()
        .withWebSocketUpgrade(
            new WebSocketListener() {
              @Override
              public void onOpen(WebSocket webSocket, Response response) {
                webSocket.send("{\"type\":\"ERROR\",\"object\":" + status + "}");
                webSocket.close(1000, "too old resource version");
              }
            });
  }

  /**
   * The watch cache starts afresh: resuming from any version issued before the restart is too old.
   * (All of them, not only those older than the latest change: fabric8's CRUD mock issues no new
   * version for a deletion, where etcd would.)
   */
  void restarted() {
    firstAfterRestart.set(requestResourceVersion());
  }

  /** How many resumed watches were answered 410 Gone since the server started. */
  public long goneAnswers() {
    return goneAnswers.get();
  }

  /**
   * Stores a Pod's node name among its attributes, so that list and watch requests with {@code
   * fieldSelector=spec.nodeName=X} match it exactly when the Pod is on node X.
   */
  @Override
  public void processEvent(
      String path,
      AttributeSet pathAttributes,
      AttributeSet oldAttributes,
      GenericKubernetesResource resource,
      String newState) {
    AttributeSet attributes = pathAttributes;
    if (resource != null && "Pod".equals(resource.getKind())) {
      Object spec = resource.getAdditionalProperties().get("spec");
      if (spec instanceof Map<?, ?> map && map.get("nodeName") instanceof String node) {
        attributes =
            AttributeSet.merge(
                pathAttributes, new AttributeSet(new Attribute(NODE_NAME_FIELD, node)));
      }
    }
    super.processEvent(path, attributes, oldAttributes, resource, newState);
  }

  @Override
  public MockResponse handlePatch(RecordedRequest request) {
    MockResponse failed = failedTest(request);
    if (failed != null) {
      return failed;
    }
    MockResponse response = super.handlePatch(request);
    completeDeletion(request.getPath());
    return response;
  }

  @Override
  public MockResponse handleUpdate(RecordedRequest request) {
    MockResponse conflict = staleResourceVersion(request);
    if (conflict != null) {
      return conflict;
    }
    MockResponse invalid = invalidSpec(request);
    if (invalid != null) {
      return invalid;
    }
    MockResponse response = super.handleUpdate(withDefaults(request));
    completeDeletion(request.getPath());
    return response;
  }

  @Override
  public MockResponse handleCreate(RecordedRequest request) {
    MockResponse invalid = invalidSpec(request);
    return invalid != null ? invalid : super.handleCreate(withDefaults(request));
  }

  /** The spec schemas of the project's CRDs, by resource (plural): each field's rules. */
  private static final Map<String, JSONSchemaProps> SPEC_SCHEMAS =
      Map.of("podcaptures", MockApiServer.crdSpecSchema(), "podcapturesets", setSpecSchema());

  /** The PodCaptureSet spec's schema in the checked-in CRD. */
  static JSONSchemaProps setSpecSchema() {
    Path file = MockApiServer.projectDir().resolve("crds/podcapturesets.tcpdump.antrea.io.yaml");
    try (InputStream in = Files.newInputStream(file)) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class)
          .getSpec()
          .getVersions()
          .get(0)
          .getSchema()
          .getOpenAPIV3Schema()
          .getProperties()
          .get("spec");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static final Map<String, String> KINDS =
      Map.of("podcaptures", "PodCapture", "podcapturesets", "PodCaptureSet");

  /** A project resource's object path: its plural is group 1, a status subresource group 2. */
  private static final Pattern PROJECT_RESOURCE =
      Pattern.compile(
          "/apis/tcpdump\\.antrea\\.io/v1alpha1/(?:namespaces/[^/]+/)?"
              + "(podcaptures|podcapturesets)(?:/[^/]+)?(/status)?");

  /**
   * The plural of the project resource a create or update writes ({@code podcaptures} or {@code
   * podcapturesets}), or null for another resource or a status write.
   */
  static String specResource(RecordedRequest request) {
    Matcher m = PROJECT_RESOURCE.matcher(request.getPath().split("\\?")[0]);
    if (!m.matches() || m.group(2) != null || request.getBody() == null) {
      return null;
    }
    return m.group(1);
  }

  /** The one CEL rule shape the CRD uses on a string: {@code self.size() <= N}. */
  private static final Pattern SIZE_RULE = Pattern.compile("self\\.size\\(\\) <= (\\d+)");

  /** The PodCaptureSet's rule on its selector: not empty. */
  private static final String NON_EMPTY_SELECTOR_RULE =
      "(has(self.matchLabels) && size(self.matchLabels) > 0)"
          + " || (has(self.matchExpressions) && size(self.matchExpressions) > 0)";

  /**
   * 422, as kube-apiserver answers, for a PodCapture or PodCaptureSet whose spec breaks its CRD's
   * schema: a required field missing, a number out of its bounds, a string not matching its pattern
   * or breaking its size rule, an empty selector. A rule of another shape fails the test that meets
   * it, so that the mock never silently accepts what the real server would refuse.
   */
  private static MockResponse invalidSpec(RecordedRequest request) {
    String resource = specResource(request);
    if (resource == null) {
      return null;
    }
    JSONSchemaProps specSchema = SPEC_SCHEMAS.get(resource);
    JsonNode object = json(request.getBody().getBytes());
    JsonNode spec = object.path("spec");
    List<String> causes = new ArrayList<>();
    for (String field : Optional.ofNullable(specSchema.getRequired()).orElse(List.of())) {
      if (!spec.hasNonNull(field)) {
        causes.add("spec." + field + ": Required value");
      }
    }
    specSchema
        .getProperties()
        .forEach(
            (field, schema) -> {
              JsonNode value = spec.get(field);
              if (value != null && !value.isNull()) {
                causes.addAll(violations("spec." + field, value, schema));
              }
            });
    if (causes.isEmpty()) {
      return null;
    }
    return status(
        422,
        "Invalid",
        KINDS.get(resource)
            + ".tcpdump.antrea.io \""
            + object.path("metadata").path("name").asText()
            + "\" is invalid: "
            + (causes.size() == 1 ? causes.get(0) : causes.toString()));
  }

  private static List<String> violations(String field, JsonNode value, JSONSchemaProps schema) {
    List<String> causes = new ArrayList<>();
    String invalid = field + ": Invalid value: " + value + ": ";
    if (schema.getMinimum() != null && value.isNumber() && value.asDouble() < schema.getMinimum()) {
      causes.add(
          invalid
              + field
              + " in body should be greater than or equal to "
              + schema.getMinimum().longValue());
    }
    if (schema.getMaximum() != null && value.isNumber() && value.asDouble() > schema.getMaximum()) {
      causes.add(
          invalid
              + field
              + " in body should be less than or equal to "
              + schema.getMaximum().longValue());
    }
    if (schema.getPattern() != null
        && value.isTextual()
        && !Pattern.compile(schema.getPattern()).matcher(value.asText()).find()) {
      causes.add(invalid + field + " in body should match '" + schema.getPattern() + "'");
    }
    for (var rule : Optional.ofNullable(schema.getXKubernetesValidations()).orElse(List.of())) {
      if (NON_EMPTY_SELECTOR_RULE.equals(rule.getRule())) {
        if (value.path("matchLabels").size() == 0 && value.path("matchExpressions").size() == 0) {
          causes.add(invalid + rule.getMessage());
        }
        continue;
      }
      Matcher size = SIZE_RULE.matcher(rule.getRule());
      if (!size.matches()) {
        throw new IllegalStateException("the mock cannot check the CRD rule " + rule.getRule());
      }
      if (value.asText().length() > Integer.parseInt(size.group(1))) {
        causes.add(invalid + rule.getMessage());
      }
    }
    return causes;
  }

  /** The spec fields each CRD gives a default, with that default, by resource. */
  private static final Map<String, Map<String, JsonNode>> SPEC_DEFAULTS =
      Map.of(
          "podcaptures", specDefaults(SPEC_SCHEMAS.get("podcaptures")),
          "podcapturesets", specDefaults(SPEC_SCHEMAS.get("podcapturesets")));

  private static Map<String, JsonNode> specDefaults(JSONSchemaProps spec) {
    Map<String, JsonNode> defaults = new LinkedHashMap<>();
    spec.getProperties()
        .forEach(
            (field, schema) -> {
              if (schema.getDefault() != null) {
                defaults.put(field, schema.getDefault());
              }
            });
    return defaults;
  }

  /**
   * A PodCapture's or PodCaptureSet's create or update with its CRD's defaults filled in, as the
   * API server does.
   */
  private static RecordedRequest withDefaults(RecordedRequest request) {
    String resource = specResource(request);
    if (resource == null) {
      return request;
    }
    JsonNode body = json(request.getBody().getBytes());
    if (!(body instanceof ObjectNode object) || !(object.get("spec") instanceof ObjectNode spec)) {
      return request;
    }
    SPEC_DEFAULTS
        .get(resource)
        .forEach(
            (field, value) -> {
              if (!spec.has(field) || spec.get(field).isNull()) {
                spec.set(field, value);
              }
            });
    return new RecordedRequest(
        request.getHttpVersion(),
        request.method(),
        request.getPath(),
        request.getHeaders(),
        new Buffer(object.toString().getBytes(StandardCharsets.UTF_8)));
  }

  /** 409 for an update whose resourceVersion is not the stored one (optimistic concurrency). */
  private MockResponse staleResourceVersion(RecordedRequest request) {
    if (request.getBody() == null) {
      return null;
    }
    String given =
        json(request.getBody().getBytes()).path("metadata").path("resourceVersion").asText("");
    JsonNode current = current(request.getPath());
    if (given.isEmpty() || current == null) {
      return null;
    }
    String stored = current.path("metadata").path("resourceVersion").asText("");
    if (given.equals(stored)) {
      return null;
    }
    return status(
        409,
        "Conflict",
        "Operation cannot be fulfilled on "
            + current.path("kind").asText()
            + " \""
            + current.path("metadata").path("name").asText()
            + "\": the object has been modified; please apply your changes to the latest version"
            + " and try again");
  }

  /** 422 for a JSON patch one of whose {@code test} operations does not hold. */
  private MockResponse failedTest(RecordedRequest request) {
    String type = request.getHeader("Content-Type");
    if (type == null
        || !type.startsWith("application/json-patch+json")
        || request.getBody() == null) {
      return null;
    }
    JsonNode current = current(request.getPath());
    if (current == null) {
      return null;
    }
    for (JsonNode op : json(request.getBody().getBytes())) {
      if ("test".equals(op.path("op").asText())
          && !current.at(op.path("path").asText()).equals(op.path("value"))) {
        return status(
            422, "Invalid", "testing value " + op.path("path").asText() + " failed: test failed");
      }
    }
    return null;
  }

  /** The stored object a request addresses (its /status subresource: the object), or null. */
  private JsonNode current(String requestPath) {
    String objectPath = requestPath.split("\\?")[0];
    if (objectPath.endsWith("/status")) {
      objectPath = objectPath.substring(0, objectPath.length() - "/status".length());
    }
    MockResponse current = handleGet(objectPath);
    if (current.code() != 200 || current.getBody() == null) {
      return null;
    }
    return json(current.getBody().getBytes());
  }

  private static JsonNode json(byte[] bytes) {
    try {
      return Serialization.jsonMapper().readTree(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static MockResponse status(int code, String reason, String message) {
    ObjectNode status = Serialization.jsonMapper().createObjectNode();
    status.put("kind", "Status").put("apiVersion", "v1").put("status", "Failure");
    status.put("reason", reason).put("message", message).put("code", code);
    status.putObject("metadata");
    return new MockResponse().setResponseCode(code).setBody(status.toString());
  }

  /**
   * Deletes the object at the path if it carries a deletionTimestamp and no finalizers any more.
   */
  private void completeDeletion(String path) {
    String objectPath = path.split("\\?")[0];
    if (objectPath.endsWith("/status")) {
      objectPath = objectPath.substring(0, objectPath.length() - "/status".length());
    }
    MockResponse current = handleGet(objectPath);
    if (current.code() != 200 || current.getBody() == null) {
      return;
    }
    GenericKubernetesResource object =
        Serialization.unmarshal(
            new String(current.getBody().getBytes(), StandardCharsets.UTF_8),
            GenericKubernetesResource.class);
    if (object.getMetadata() != null
        && object.getMetadata().getDeletionTimestamp() != null
        && (object.getMetadata().getFinalizers() == null
            || object.getMetadata().getFinalizers().isEmpty())) {
      handleDelete(objectPath);
    }
  }

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  public void clearRequests() {
    requests.clear();
  }
}
