package io.podcapture.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
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
    MockResponse response = super.handlePatch(request);
    completeDeletion(request.getPath());
    return response;
  }

  @Override
  public MockResponse handleUpdate(RecordedRequest request) {
    MockResponse response = super.handleUpdate(request);
    completeDeletion(request.getPath());
    return response;
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
