package io.podcapture.filesapi;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.podcapture.tls.Pem;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What ConfigMap {@code kube-system/extension-apiserver-authentication} says about the front proxy:
 * the CA its client certificate chains to, the names (CNs) it may have, and the headers that carry
 * the user.
 *
 * @param clientCa {@code requestheader-client-ca-file}: the CA certificates; empty = none trusted
 * @param allowedNames {@code requestheader-allowed-names}; empty = any CN signed by the CA
 * @param usernameHeaders {@code requestheader-username-headers}, the first one present wins
 * @param groupHeaders {@code requestheader-group-headers}
 * @param extraHeaderPrefixes {@code requestheader-extra-headers-prefix}
 */
public record FrontProxyConfig(
    List<X509Certificate> clientCa,
    Set<String> allowedNames,
    List<String> usernameHeaders,
    List<String> groupHeaders,
    List<String> extraHeaderPrefixes) {

  /** Before the ConfigMap has been read: nobody is trusted. */
  public static final FrontProxyConfig NONE =
      new FrontProxyConfig(List.of(), Set.of(), List.of(), List.of(), List.of());

  private static final ObjectMapper JSON = new ObjectMapper();

  public FrontProxyConfig {
    clientCa = List.copyOf(clientCa);
    allowedNames = Set.copyOf(allowedNames);
    usernameHeaders = List.copyOf(usernameHeaders);
    groupHeaders = List.copyOf(groupHeaders);
    extraHeaderPrefixes = List.copyOf(extraHeaderPrefixes);
  }

  /**
   * Reads the ConfigMap's data. A missing CA gives a config that trusts nobody (the API server has
   * no front proxy configured); a malformed entry is an error naming it.
   */
  public static FrontProxyConfig fromConfigMap(Map<String, String> data)
      throws GeneralSecurityException {
    String ca = data.get("requestheader-client-ca-file");
    List<X509Certificate> clientCa = List.of();
    if (ca != null && !ca.isBlank()) {
      try {
        clientCa = Pem.certificates(ca);
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        throw new GeneralSecurityException("requestheader-client-ca-file: " + e.getMessage(), e);
      }
    }
    return new FrontProxyConfig(
        clientCa,
        Set.copyOf(list(data, "requestheader-allowed-names")),
        list(data, "requestheader-username-headers"),
        list(data, "requestheader-group-headers"),
        list(data, "requestheader-extra-headers-prefix"));
  }

  private static List<String> list(Map<String, String> data, String key)
      throws GeneralSecurityException {
    String raw = data.get(key);
    if (raw == null || raw.isBlank()) {
      return List.of();
    }
    try {
      List<String> values = JSON.readValue(raw, new TypeReference<List<String>>() {});
      return values.stream().filter(v -> v != null && !v.isBlank()).map(String::strip).toList();
    } catch (java.io.IOException e) {
      throw new GeneralSecurityException(key + " is not a JSON array of strings: " + raw, e);
    }
  }
}
