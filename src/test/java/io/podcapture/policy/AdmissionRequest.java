package io.podcapture.policy;

import dev.cel.common.values.NullValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One write as admission sees it: what {@code request}, {@code object} and {@code oldObject} hold
 * in a ValidatingAdmissionPolicy's expressions.
 *
 * @param operation CREATE, UPDATE, DELETE or CONNECT
 * @param group the API group, "" for core
 * @param subResource "" for the object itself
 * @param object the object after the write; null for DELETE
 * @param oldObject the object before the write; null for CREATE
 */
record AdmissionRequest(
    String operation,
    String group,
    String version,
    String resource,
    String subResource,
    String namespace,
    String name,
    User user,
    Map<String, Object> object,
    Map<String, Object> oldObject) {

  /**
   * The extra key the API server fills from a Pod-bound ServiceAccount token (Kubernetes 1.30+).
   */
  static final String NODE_NAME = "authentication.kubernetes.io/node-name";

  static final String POD_NAME = "authentication.kubernetes.io/pod-name";

  /** The requester, as authentication left it. */
  record User(String username, List<String> groups, Map<String, List<String>> extra) {
    /** A ServiceAccount's token bound to a Pod on {@code node}: the claims the API server adds. */
    static User serviceAccount(String namespace, String name, String pod, String node) {
      return new User(
          "system:serviceaccount:" + namespace + ":" + name,
          List.of(
              "system:serviceaccounts",
              "system:serviceaccounts:" + namespace,
              "system:authenticated"),
          Map.of(
              POD_NAME,
              List.of(pod),
              "authentication.kubernetes.io/pod-uid",
              List.of(pod + "-uid"),
              NODE_NAME,
              List.of(node),
              "authentication.kubernetes.io/node-uid",
              List.of(node + "-uid")));
    }

    /**
     * The same identity with a token that carries no node (older cluster, or a token not bound to a
     * Pod).
     */
    User withoutNode() {
      Map<String, List<String>> rest = new LinkedHashMap<>(extra);
      rest.remove(NODE_NAME);
      return new User(username, groups, rest);
    }
  }

  AdmissionRequest withUser(User other) {
    return new AdmissionRequest(
        operation,
        group,
        version,
        resource,
        subResource,
        namespace,
        name,
        other,
        object,
        oldObject);
  }

  AdmissionRequest withObject(Map<String, Object> other) {
    return new AdmissionRequest(
        operation, group, version, resource, subResource, namespace, name, user, other, oldObject);
  }

  /**
   * The {@code request} variable as the API server builds it: the AdmissionRequest converted to
   * unstructured JSON, where empty fields are left out ({@code omitempty}). So {@code
   * request.subResource} is absent for the object itself and {@code request.userInfo.extra} is
   * absent without extras: expressions must use has().
   */
  Map<String, Object> celRequest() {
    Map<String, Object> request = new LinkedHashMap<>();
    Map<String, Object> gvr = new LinkedHashMap<>();
    putIfNotEmpty(gvr, "group", group);
    putIfNotEmpty(gvr, "version", version);
    putIfNotEmpty(gvr, "resource", resource);
    request.put("resource", gvr);
    putIfNotEmpty(request, "subResource", subResource);
    putIfNotEmpty(request, "name", name);
    putIfNotEmpty(request, "namespace", namespace);
    request.put("operation", operation);
    Map<String, Object> userInfo = new LinkedHashMap<>();
    putIfNotEmpty(userInfo, "username", user.username());
    if (!user.groups().isEmpty()) {
      userInfo.put("groups", List.copyOf(user.groups()));
    }
    if (!user.extra().isEmpty()) {
      userInfo.put("extra", Map.copyOf(user.extra()));
    }
    request.put("userInfo", userInfo);
    return request;
  }

  private static void putIfNotEmpty(Map<String, Object> map, String key, String value) {
    if (value != null && !value.isEmpty()) {
      map.put(key, value);
    }
  }

  /**
   * A JSON value as CEL sees it on the API server: integers are int64, null is CEL's null (as for
   * the object of a DELETE), maps and lists keep their order.
   */
  static Object cel(Object json) {
    if (json == null) {
      return NullValue.NULL_VALUE;
    }
    if (json instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), cel(v)));
      return out;
    }
    if (json instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      list.forEach(v -> out.add(cel(v)));
      return out;
    }
    if (json instanceof Integer || json instanceof Short || json instanceof Byte) {
      return ((Number) json).longValue();
    }
    if (json instanceof Float f) {
      return f.doubleValue();
    }
    return json;
  }

  @Override
  public String toString() {
    return operation
        + " "
        + (group.isEmpty() ? "" : group + "/")
        + resource
        + (subResource.isEmpty() ? "" : "/" + subResource)
        + " "
        + namespace
        + "/"
        + name
        + " by "
        + user.username()
        + " on node "
        + user.extra().getOrDefault(NODE_NAME, List.of("(none)"));
  }
}
