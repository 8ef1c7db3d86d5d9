package io.podcapture.filesapi;

import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Authorizes each request with a SubjectAccessReview: may this user {@code get} this resource (and
 * subresource) of group {@value FilesApiNames#GROUP} in this namespace? No cache: a revoked
 * RoleBinding takes effect at the next request.
 */
public final class AccessReviewer {
  private final KubernetesClient client;

  public AccessReviewer(KubernetesClient client) {
    this.client = client;
  }

  /** Returns if allowed; 403 with the authorizer's reason if not, 503 if no answer came. */
  public void check(RequestUser user, FilesRequest request) throws StatusException {
    SubjectAccessReview review =
        new SubjectAccessReviewBuilder()
            .withNewSpec()
            .withUser(user.name())
            .withGroups(user.groups())
            .withExtra(user.extra())
            .withNewResourceAttributes()
            .withNamespace(request.namespace())
            .withVerb("get")
            .withGroup(FilesApiNames.GROUP)
            .withVersion(FilesApiNames.VERSION)
            .withResource(request.resource())
            .withSubresource(request.subresource())
            .withName(request.name())
            .endResourceAttributes()
            .endSpec()
            .build();
    SubjectAccessReview answer;
    try {
      answer = client.authorization().v1().subjectAccessReview().create(review);
    } catch (KubernetesClientException e) {
      throw StatusException.unavailable(
          "cannot authorize the request: SubjectAccessReview failed (" + e.getMessage() + ")", e);
    }
    SubjectAccessReviewStatus status = answer == null ? null : answer.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAllowed())) {
      String reason =
          status == null || status.getReason() == null || status.getReason().isBlank()
              ? ""
              : ": " + status.getReason();
      throw StatusException.forbidden(
          request.resource()
              + (request.subresource().isEmpty() ? "" : "/" + request.subresource())
              + "."
              + FilesApiNames.GROUP
              + " \""
              + request.name()
              + "\" is forbidden: User \""
              + user.name()
              + "\" cannot get resource \""
              + request.resource()
              + (request.subresource().isEmpty() ? "" : "/" + request.subresource())
              + "\" in API group \""
              + FilesApiNames.GROUP
              + "\" in the namespace \""
              + request.namespace()
              + "\""
              + reason);
    }
  }
}
