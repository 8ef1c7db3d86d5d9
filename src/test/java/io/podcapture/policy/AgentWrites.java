package io.podcapture.policy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.zjsonpatch.JsonPatch;
import io.podcapture.controller.RecordedReconcileRun;
import io.podcapture.testing.NodeAwareCrudDispatcher;
import io.podcapture.testing.NodeAwareCrudDispatcher.Request;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a recorded request log into the admission requests an API server would have evaluated for
 * the agent's writes. The log is replayed, in order, on a fresh store of the project's mock API
 * server, so that each of the agent's writes meets the object as it was then: its {@code oldObject}
 * is the stored object before the write, its {@code object} the one the write produced (the patch
 * applied, as the API server applies it). The agent's identity is its ServiceAccount with the
 * claims of a token bound to its Pod on the node it ran for.
 */
final class AgentWrites {
  private static final Pattern PATH =
      Pattern.compile(
          "^/(?:api/(?<coreVersion>v1)|apis/(?<group>[^/]+)/(?<version>[^/]+))(?:/namespaces/(?<ns>[^/]+))?"
              + "/(?<resource>[^/?]+)(?:/(?<name>[^/?]+))?(?:/(?<sub>[^/?]+))?(?:\\?.*)?$");

  /**
   * Resources whose status is a subresource: a write of the object itself leaves status as it was.
   */
  private static final Set<String> WITH_STATUS_SUBRESOURCE = Set.of("pods", "podcaptures");

  private AgentWrites() {}

  /**
   * The admission request of every write the agents made that the store accepted (a real API server
   * checks conflicts and existence before validating admission, so a refused write never reaches
   * the policy).
   */
  static List<AdmissionRequest> of(RecordedReconcileRun run, String saNamespace, String saName) {
    NodeAwareCrudDispatcher store = new NodeAwareCrudDispatcher();
    List<AdmissionRequest> writes = new ArrayList<>();
    for (Request r : run.requests()) {
      if (r.method().equals("GET")) {
        continue;
      }
      Matcher m = PATH.matcher(r.path());
      if (!m.matches()) {
        throw new AssertionError("unexpected request path " + r.path());
      }
      String name = m.group("name");
      String sub = m.group("sub") == null ? "" : m.group("sub");
      String objectPath = r.path().split("\\?")[0];
      if (!sub.isEmpty()) {
        objectPath = objectPath.substring(0, objectPath.length() - sub.length() - 1);
      }
      Map<String, Object> before = name == null ? null : stored(store, objectPath);
      MockResponse response = store.dispatch(replayed(r));
      String node = run.nodeByUserAgent().get(r.userAgent());
      if (node == null || response.code() / 100 != 2) {
        continue;
      }
      // A patch is applied here to the object as it was, as the API server applies it before
      // admission; the store's answer may be empty (a finalizer released completes the deletion).
      Map<String, Object> after =
          r.method().equals("PATCH")
              ? patched(before, r.body())
              : body(response).isEmpty() ? json(r.body()) : json(body(response));
      String resource = m.group("resource");
      String operation =
          switch (r.method()) {
            case "POST" -> "CREATE";
            case "PUT", "PATCH" -> "UPDATE";
            case "DELETE" -> "DELETE";
            default -> throw new AssertionError("unexpected method " + r.method());
          };
      Map<String, Object> object =
          switch (operation) {
            case "DELETE" -> null;
            case "UPDATE" -> asAdmitted(resource, sub, before, after);
            default -> after;
          };
      if (name == null) {
        name = String.valueOf(metadata(after).get("name"));
      }
      String group = m.group("group") == null ? "" : m.group("group");
      String version = m.group("coreVersion") != null ? m.group("coreVersion") : m.group("version");
      writes.add(
          new AdmissionRequest(
              operation,
              group,
              version,
              resource,
              sub,
              m.group("ns"),
              name,
              AdmissionRequest.User.serviceAccount(
                  saNamespace, saName, "podcapture-agent-" + node, node),
              object,
              operation.equals("CREATE") ? null : before));
    }
    return writes;
  }

  /**
   * The object admission sees after an update: through /status only the status changes (the API
   * server copies the rest from the stored object); through the object itself everything but the
   * status does.
   */
  private static Map<String, Object> asAdmitted(
      String resource, String sub, Map<String, Object> before, Map<String, Object> after) {
    if (!WITH_STATUS_SUBRESOURCE.contains(resource)) {
      return after;
    }
    Map<String, Object> object = new LinkedHashMap<>(sub.equals("status") ? before : after);
    Map<String, Object> statusFrom = sub.equals("status") ? after : before;
    if (statusFrom.containsKey("status")) {
      object.put("status", statusFrom.get("status"));
    } else {
      object.remove("status");
    }
    return object;
  }

  /**
   * A JSON patch (a list of operations) or a JSON merge patch (an object), applied to a copy of the
   * object.
   */
  static Map<String, Object> patched(Map<String, Object> object, String patch) {
    ObjectMapper mapper = Serialization.jsonMapper();
    try {
      JsonNode result =
          patch.stripLeading().startsWith("[")
              ? JsonPatch.apply(mapper.readTree(patch), mapper.valueToTree(object))
              : merged(mapper.valueToTree(object), mapper.readTree(patch));
      return mapper.convertValue(result, new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("not a JSON patch: " + patch, e);
    }
  }

  /** RFC 7386: an object merges key by key, null removes the key, anything else replaces. */
  private static JsonNode merged(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch;
    }
    ObjectNode result =
        target != null && target.isObject()
            ? ((ObjectNode) target).deepCopy()
            : Serialization.jsonMapper().createObjectNode();
    patch
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isNull()) {
                result.remove(e.getKey());
              } else {
                result.set(e.getKey(), merged(result.get(e.getKey()), e.getValue()));
              }
            });
    return result;
  }

  private static RecordedRequest replayed(Request r) {
    String type =
        !r.method().equals("PATCH")
            ? "application/json"
            : r.body().stripLeading().startsWith("[")
                ? "application/json-patch+json"
                : "application/merge-patch+json";
    Headers headers =
        Headers.builder().add("Content-Type", type).add("User-Agent", r.userAgent()).build();
    return new RecordedRequest(
        "HTTP/1.1",
        HttpMethod.valueOf(r.method()),
        r.path(),
        headers,
        new Buffer(r.body().getBytes(StandardCharsets.UTF_8)));
  }

  private static Map<String, Object> stored(NodeAwareCrudDispatcher store, String objectPath) {
    MockResponse current = store.handleGet(objectPath);
    return current.code() == 200 ? json(body(current)) : null;
  }

  private static String body(MockResponse response) {
    return response.getBody() == null
        ? ""
        : new String(response.getBody().getBytes(), StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> metadata(Map<String, Object> object) {
    return (Map<String, Object>) object.getOrDefault("metadata", Map.of());
  }

  static Map<String, Object> json(String text) {
    try {
      return Serialization.jsonMapper()
          .readValue(text, new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("not a JSON object: " + text, e);
    }
  }
}
