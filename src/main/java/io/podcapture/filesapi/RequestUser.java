package io.podcapture.filesapi;

import java.util.List;
import java.util.Map;

/**
 * The user a request is made for, as the front proxy (the kube-apiserver) tells us in its headers.
 *
 * @param name the user name
 * @param groups the user's groups
 * @param extra further attributes (scopes, the ServiceAccount's Pod...), keys lower-case
 */
public record RequestUser(String name, List<String> groups, Map<String, List<String>> extra) {
  public RequestUser {
    groups = List.copyOf(groups);
    extra = Map.copyOf(extra);
  }
}
