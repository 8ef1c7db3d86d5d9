package io.podcapture.filesapi;

import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * What went wrong with an API call, in words for the log: refused (and which right), or not
 * reached.
 */
final class ApiErrors {
  private ApiErrors() {}

  /**
   * {@code rights} names the RBAC rule that a 403 means is missing (e.g. "get and create on secrets
   * in kube-system").
   */
  static String describe(Exception e, String rights) {
    if (e instanceof KubernetesClientException k) {
      String message =
          k.getStatus() != null && k.getStatus().getMessage() != null
              ? k.getStatus().getMessage()
              : k.getMessage();
      if (k.getCode() == 403) {
        return "forbidden (403: " + message + "): the controller needs " + rights;
      }
      if (k.getCode() > 0) {
        return "the API server answered " + k.getCode() + ": " + message;
      }
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      return "the API server was not reached ("
          + root.getClass().getSimpleName()
          + (root.getMessage() == null ? "" : ": " + root.getMessage())
          + ")";
    }
    return e.getMessage();
  }
}
