package io.podcapture.filesapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.podcapture.testing.NodeAwareCrudDispatcher;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The mock API server's dispatcher, answering what the CRUD mock cannot: SubjectAccessReviews
 * (allowed for the users in {@link #allowed}) and TokenRequests (token {@code token-N}), each
 * recorded.
 */
final class ReviewingDispatcher extends NodeAwareCrudDispatcher {
  static final String SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
  static final String TOKEN_PATH =
      "/api/v1/namespaces/kube-system/serviceaccounts/podcapture-controller/token";

  final Set<String> allowed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  final List<JsonNode> reviews = new CopyOnWriteArrayList<>();
  final List<JsonNode> tokenRequests = new CopyOnWriteArrayList<>();
  final AtomicInteger tokens = new AtomicInteger();

  /** While set, every request on Secrets is refused with 403, as without the RBAC rule. */
  volatile boolean forbidSecrets;

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String path = request.getPath().split("\\?")[0];
    if ("POST".equals(request.getMethod()) && path.equals(SAR_PATH)) {
      JsonNode review = body(request);
      reviews.add(review);
      boolean ok = allowed.contains(review.path("spec").path("user").asText());
      ObjectNode answer = review.deepCopy();
      ObjectNode status = answer.putObject("status");
      status.put("allowed", ok);
      if (!ok) {
        status.put("reason", "no RBAC policy matched");
      }
      return new MockResponse().setResponseCode(201).setBody(answer.toString());
    }
    if ("POST".equals(request.getMethod()) && path.equals(TOKEN_PATH)) {
      JsonNode token = body(request);
      tokenRequests.add(token);
      ObjectNode answer = token.deepCopy();
      ObjectNode status = answer.putObject("status");
      status.put("token", "token-" + tokens.incrementAndGet());
      status.put("expirationTimestamp", "2026-12-05T12:00:00Z");
      return new MockResponse().setResponseCode(201).setBody(answer.toString());
    }
    if (forbidSecrets && path.contains("/secrets")) {
      return new MockResponse()
          .setResponseCode(403)
          .setBody(
              "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                  + "\"reason\":\"Forbidden\",\"code\":403,\"message\":\"secrets is forbidden\"}");
    }
    return super.dispatch(request);
  }

  private static JsonNode body(RecordedRequest request) {
    try {
      return Serialization.jsonMapper()
          .readTree(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
