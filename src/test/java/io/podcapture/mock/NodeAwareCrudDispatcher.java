package io.podcapture.mock;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * fabric8's CRUD dispatcher, made to honour the {@code spec.nodeName} field selector on Pods as a real API
 * server does (7.5.2 indexes only a few fields, so such a selector matched nothing), and to record every request
 * it serves. Like a real API server, it removes an object being deleted once its last finalizer is gone.
 */
public class NodeAwareCrudDispatcher extends KubernetesCrudDispatcher {
  static final String NODE_NAME_FIELD = "spec.nodeName";

  /** One request as the API server saw it, with the client's User-Agent to tell callers apart. */
  public record Request(String method, String path, String body, String userAgent) {
  }

  private final List<Request> requests = new CopyOnWriteArrayList<>();

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    // getUtf8Body() would consume the body the CRUD handlers still need: copy the bytes instead.
    String body = request.getBody() == null ? "" : new String(request.getBody().getBytes(), StandardCharsets.UTF_8);
    requests.add(new Request(request.getMethod(), request.getPath(), body, request.getHeader("User-Agent")));
    return super.dispatch(request);
  }

  /**
   * Stores a Pod's node name among its attributes, so that list and watch requests with
   * {@code fieldSelector=spec.nodeName=X} match it exactly when the Pod is on node X.
   */
  @Override
  public void processEvent(String path, AttributeSet pathAttributes, AttributeSet oldAttributes,
      GenericKubernetesResource resource, String newState) {
    AttributeSet attributes = pathAttributes;
    if (resource != null && "Pod".equals(resource.getKind())) {
      Object spec = resource.getAdditionalProperties().get("spec");
      if (spec instanceof Map<?, ?> map && map.get("nodeName") instanceof String node) {
        attributes = AttributeSet.merge(pathAttributes, new AttributeSet(new Attribute(NODE_NAME_FIELD, node)));
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

  /** Deletes the object at the path if it carries a deletionTimestamp and no finalizers any more. */
  private void completeDeletion(String path) {
    String objectPath = path.split("\\?")[0];
    if (objectPath.endsWith("/status")) {
      objectPath = objectPath.substring(0, objectPath.length() - "/status".length());
    }
    MockResponse current = handleGet(objectPath);
    if (current.code() != 200 || current.getBody() == null) {
      return;
    }
    GenericKubernetesResource object = Serialization.unmarshal(
        new String(current.getBody().getBytes(), StandardCharsets.UTF_8), GenericKubernetesResource.class);
    if (object.getMetadata() != null && object.getMetadata().getDeletionTimestamp() != null
        && (object.getMetadata().getFinalizers() == null || object.getMetadata().getFinalizers().isEmpty())) {
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
