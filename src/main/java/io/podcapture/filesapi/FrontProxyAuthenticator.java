package io.podcapture.filesapi;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates requests as Kubernetes prescribes for an extension API server: the client
 * certificate must be the front proxy's (chaining to {@code requestheader-client-ca-file}, usable
 * for client auth, its CN in {@code requestheader-allowed-names}), and only then are the user,
 * groups and extras read from the request headers. Headers on a request without that certificate
 * are never read: anyone can send them.
 */
public final class FrontProxyAuthenticator {
  private static final Logger LOG = LoggerFactory.getLogger(FrontProxyAuthenticator.class);

  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final String ANY_USAGE = "2.5.29.37.0";

  private final KubernetesClient client;
  private volatile FrontProxyConfig config;

  /** Reads its config from the API server on each {@link #refresh()}. */
  public FrontProxyAuthenticator(KubernetesClient client) {
    this.client = client;
    this.config = FrontProxyConfig.NONE;
  }

  /** With a fixed config (tests). */
  public FrontProxyAuthenticator(FrontProxyConfig config) {
    this.client = null;
    this.config = config;
  }

  /**
   * Reads ConfigMap kube-system/extension-apiserver-authentication again; on failure keeps what it
   * had and says why.
   */
  public void refresh() {
    if (client == null) {
      return;
    }
    try {
      ConfigMap map =
          client
              .configMaps()
              .inNamespace(FilesApiNames.FRONT_PROXY_NAMESPACE)
              .withName(FilesApiNames.FRONT_PROXY_CONFIGMAP)
              .get();
      if (map == null) {
        LOG.warn(
            "ConfigMap {}/{} not found: no front proxy is trusted, every files API request gets 401",
            FilesApiNames.FRONT_PROXY_NAMESPACE,
            FilesApiNames.FRONT_PROXY_CONFIGMAP);
        config = FrontProxyConfig.NONE;
        return;
      }
      FrontProxyConfig read =
          FrontProxyConfig.fromConfigMap(map.getData() == null ? Map.of() : map.getData());
      if (!read.equals(config)) {
        LOG.info(
            "front proxy: {} CA certificate(s), allowed names {}, user headers {}",
            read.clientCa().size(),
            read.allowedNames().isEmpty() ? "any" : read.allowedNames(),
            read.usernameHeaders());
      }
      config = read;
    } catch (KubernetesClientException | GeneralSecurityException e) {
      LOG.warn(
          "cannot read ConfigMap {}/{}: {}; keeping the previous front-proxy settings",
          FilesApiNames.FRONT_PROXY_NAMESPACE,
          FilesApiNames.FRONT_PROXY_CONFIGMAP,
          e instanceof KubernetesClientException k
              ? ApiErrors.describe(
                  k, "get on it (bind Role kube-system/extension-apiserver-authentication-reader)")
              : e.getMessage());
    }
  }

  public FrontProxyConfig config() {
    return config;
  }

  /** Checks that {@code peer} (the TLS client's chain, leaf first) is the front proxy's. */
  public void verifyProxy(X509Certificate[] peer) throws StatusException {
    FrontProxyConfig current = config;
    if (peer == null || peer.length == 0) {
      throw StatusException.unauthorized(
          "Unauthorized: no client certificate; the files API answers the Kubernetes API server"
              + " only (kubectl get --raw /apis/"
              + FilesApiNames.GROUP_VERSION
              + "/...)");
    }
    if (current.clientCa().isEmpty()) {
      throw StatusException.unauthorized(
          "Unauthorized: no front-proxy CA known (ConfigMap kube-system/"
              + FilesApiNames.FRONT_PROXY_CONFIGMAP
              + " not read or without requestheader-client-ca-file)");
    }
    X509Certificate leaf = peer[0];
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      List<X509Certificate> path = new ArrayList<>(List.of(peer));
      // A trust anchor sent along by the client is not part of the path to validate.
      while (path.size() > 1 && current.clientCa().contains(path.get(path.size() - 1))) {
        path.remove(path.size() - 1);
      }
      Set<TrustAnchor> anchors =
          current.clientCa().stream()
              .map(c -> new TrustAnchor(c, null))
              .collect(Collectors.toSet());
      PKIXParameters parameters = new PKIXParameters(anchors);
      parameters.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(path), parameters);
    } catch (GeneralSecurityException e) {
      throw StatusException.unauthorized(
          "Unauthorized: the client certificate does not chain to the front-proxy CA ("
              + e.getMessage()
              + ")");
    }
    if (!clientAuth(leaf)) {
      throw StatusException.unauthorized(
          "Unauthorized: the client certificate is not for client authentication");
    }
    String cn = commonName(leaf.getSubjectX500Principal());
    if (!current.allowedNames().isEmpty() && !current.allowedNames().contains(cn)) {
      throw StatusException.unauthorized(
          "Unauthorized: client certificate CN \""
              + cn
              + "\" is not in requestheader-allowed-names "
              + current.allowedNames());
    }
  }

  /**
   * The front proxy's certificate checked first ({@link #verifyProxy}), then the user from the
   * headers; a request without a user header is unauthenticated.
   */
  public RequestUser authenticate(X509Certificate[] peer, Map<String, List<String>> headers)
      throws StatusException {
    verifyProxy(peer);
    return user(config, headers);
  }

  /** The user the headers name; only for a request whose certificate has been verified. */
  static RequestUser user(FrontProxyConfig config, Map<String, List<String>> headers)
      throws StatusException {
    Map<String, List<String>> lower = new LinkedHashMap<>();
    headers.forEach(
        (k, v) ->
            lower.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new ArrayList<>()).addAll(v));
    String name = null;
    for (String header : config.usernameHeaders()) {
      List<String> values = lower.get(header.toLowerCase(Locale.ROOT));
      if (values != null && !values.isEmpty() && !values.get(0).isEmpty()) {
        name = values.get(0);
        break;
      }
    }
    if (name == null) {
      throw StatusException.unauthorized("Unauthorized: the front proxy named no user");
    }
    List<String> groups = new ArrayList<>();
    for (String header : config.groupHeaders()) {
      groups.addAll(lower.getOrDefault(header.toLowerCase(Locale.ROOT), List.of()));
    }
    Map<String, List<String>> extra = new LinkedHashMap<>();
    for (String prefix : config.extraHeaderPrefixes()) {
      String p = prefix.toLowerCase(Locale.ROOT);
      lower.forEach(
          (header, values) -> {
            if (header.startsWith(p) && header.length() > p.length()) {
              extra
                  .computeIfAbsent(unescape(header.substring(p.length())), x -> new ArrayList<>())
                  .addAll(values);
            }
          });
    }
    return new RequestUser(name, groups, extra);
  }

  /**
   * An extra's key as Kubernetes sends it: lower-case, percent-escaped (url.PathUnescape); a key
   * that is not validly escaped is kept as it is, as Kubernetes does.
   */
  static String unescape(String key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '%') {
        if (i + 2 >= bytes.length) {
          return key;
        }
        int hi = Character.digit(bytes[i + 1], 16);
        int lo = Character.digit(bytes[i + 2], 16);
        if (hi < 0 || lo < 0) {
          return key;
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        out.write(bytes[i]);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static boolean clientAuth(X509Certificate leaf) {
    try {
      List<String> usages = leaf.getExtendedKeyUsage();
      return usages == null || usages.contains(CLIENT_AUTH) || usages.contains(ANY_USAGE);
    } catch (CertificateParsingException e) {
      return false;
    }
  }

  static String commonName(X500Principal principal) {
    try {
      String cn = "";
      for (Rdn rdn : new LdapName(principal.getName(X500Principal.RFC2253)).getRdns()) {
        if ("CN".equalsIgnoreCase(rdn.getType())) {
          cn = String.valueOf(rdn.getValue());
        }
      }
      return cn;
    } catch (InvalidNameException e) {
      return "";
    }
  }
}
