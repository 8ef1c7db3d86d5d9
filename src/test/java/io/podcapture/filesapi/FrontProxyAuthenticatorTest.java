package io.podcapture.filesapi;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FrontProxyAuthenticatorTest {
  private static TlsMaterial ca;
  private static TlsMaterial proxy;
  private static FrontProxyAuthenticator authenticator;

  @BeforeAll
  static void certificates() throws Exception {
    ca = TestCertificates.ca("front-proxy-ca");
    proxy = TestCertificates.client(ca, "front-proxy-client");
    authenticator = new FrontProxyAuthenticator(config(ca, "[\"front-proxy-client\"]"));
  }

  static FrontProxyConfig config(TlsMaterial ca, String allowedNames) throws Exception {
    return FrontProxyConfig.fromConfigMap(
        Map.of(
            "requestheader-client-ca-file", ca.certificatePem(),
            "requestheader-allowed-names", allowedNames,
            "requestheader-username-headers", "[\"X-Remote-User\"]",
            "requestheader-group-headers", "[\"X-Remote-Group\"]",
            "requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]"));
  }

  private static X509Certificate[] chain(TlsMaterial m) {
    return m.chain().toArray(new X509Certificate[0]);
  }

  private static Map<String, List<String>> headers() {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("X-remote-user", List.of("alice"));
    headers.put("X-remote-group", List.of("devs", "system:authenticated"));
    headers.put("X-remote-extra-scopes", List.of("a", "b"));
    headers.put("X-remote-extra-example.com%2fteam", List.of("blue"));
    headers.put("Accept", List.of("*/*"));
    return headers;
  }

  @Test
  void theFrontProxysCertificateLetsTheHeadersNameTheUser() throws Exception {
    RequestUser user = authenticator.authenticate(chain(proxy), headers());
    assertEquals("alice", user.name());
    assertEquals(List.of("devs", "system:authenticated"), user.groups());
    assertEquals(
        Map.of("scopes", List.of("a", "b"), "example.com/team", List.of("blue")), user.extra());
  }

  @Test
  void theChainMayCarryTheCaItself() {
    X509Certificate[] withCa = {proxy.certificate(), ca.certificate()};
    assertDoesNotThrow(() -> authenticator.verifyProxy(withCa));
  }

  @Test
  void noCertificateIs401AndForgedHeadersAreNeverRead() {
    StatusException e =
        assertThrows(StatusException.class, () -> authenticator.authenticate(null, headers()));
    assertEquals(401, e.code());
    assertEquals("Unauthorized", e.reason());
    assertTrue(e.getMessage().contains("no client certificate"), e.getMessage());
    assertEquals(
        401,
        assertThrows(
                StatusException.class,
                () -> authenticator.authenticate(new X509Certificate[0], headers()))
            .code());
  }

  @Test
  void aCertificateFromAnotherCaIs401() throws Exception {
    TlsMaterial otherCa = TestCertificates.ca("front-proxy-ca");
    TlsMaterial forged = TestCertificates.client(otherCa, "front-proxy-client");
    StatusException e =
        assertThrows(
            StatusException.class, () -> authenticator.authenticate(chain(forged), headers()));
    assertEquals(401, e.code());
    assertTrue(e.getMessage().contains("does not chain"), e.getMessage());
  }

  @Test
  void aCertificateWithAnotherNameIs401() throws Exception {
    TlsMaterial other = TestCertificates.client(ca, "system:kube-controller-manager");
    StatusException e =
        assertThrows(
            StatusException.class, () -> authenticator.authenticate(chain(other), headers()));
    assertEquals(401, e.code());
    assertTrue(e.getMessage().contains("system:kube-controller-manager"), e.getMessage());
  }

  @Test
  void anyNameSignedByTheCaPassesWhenNoNamesAreListed() throws Exception {
    FrontProxyAuthenticator anyName = new FrontProxyAuthenticator(config(ca, "[]"));
    TlsMaterial other = TestCertificates.client(ca, "aggregator");
    assertEquals("alice", anyName.authenticate(chain(other), headers()).name());
  }

  @Test
  void aServerOnlyCertificateIs401() throws Exception {
    TlsMaterial server =
        TestCertificates.client(ca, "front-proxy-client", KeyPurposeId.id_kp_serverAuth);
    assertEquals(
        401,
        assertThrows(
                StatusException.class, () -> authenticator.authenticate(chain(server), headers()))
            .code());
  }

  @Test
  void withoutAUserHeaderTheRequestIsUnauthenticated() {
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> authenticator.authenticate(chain(proxy), Map.of("X-Remote-Group", List.of("x"))));
    assertEquals(401, e.code());
  }

  @Test
  void withoutTheConfigMapNobodyIsTrusted() {
    FrontProxyAuthenticator none = new FrontProxyAuthenticator(FrontProxyConfig.NONE);
    assertEquals(
        401,
        assertThrows(StatusException.class, () -> none.authenticate(chain(proxy), headers()))
            .code());
  }

  @Test
  void extraKeysAreUnescapedAsKubernetesDoes() {
    assertEquals("example.com/team", FrontProxyAuthenticator.unescape("example.com%2fteam"));
    assertEquals("a%zz", FrontProxyAuthenticator.unescape("a%zz"));
    assertEquals("a+b", FrontProxyAuthenticator.unescape("a+b"));
  }

  @Test
  void aMalformedConfigMapEntryIsNamed() {
    Exception e =
        assertThrows(
            Exception.class,
            () ->
                FrontProxyConfig.fromConfigMap(
                    Map.of("requestheader-allowed-names", "front-proxy-client")));
    assertTrue(e.getMessage().contains("requestheader-allowed-names"), e.getMessage());
  }
}
