package io.podcapture.agentfiles;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/** TokenReviews through the agent's own API client ({@code authentication.k8s.io/v1}). */
public final class ApiTokenReviewer implements TokenReviewer {
  private final KubernetesClient client;

  public ApiTokenReviewer(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Review review(String token, String audience) {
    TokenReview review =
        new TokenReviewBuilder()
            .withNewSpec()
            .withToken(token)
            .withAudiences(audience)
            .endSpec()
            .build();
    TokenReviewStatus status =
        client.authentication().v1().tokenReviews().create(review).getStatus();
    if (status == null) {
      return new Review(false, null, List.of());
    }
    return new Review(
        Boolean.TRUE.equals(status.getAuthenticated()),
        status.getUser() == null ? null : status.getUser().getUsername(),
        status.getAudiences() == null ? List.of() : List.copyOf(status.getAudiences()));
  }
}
