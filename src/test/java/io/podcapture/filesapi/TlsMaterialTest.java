package io.podcapture.filesapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TlsMaterialTest {

  @Test
  void aSelfSignedCertificateSurvivesItsPem() throws Exception {
    TlsMaterial made =
        TlsMaterial.selfSigned(
            "podcapture-controller",
            List.of("podcapture-controller", "podcapture-controller.kube-system.svc", "localhost"),
            List.of("127.0.0.1"),
            Instant.now());
    assertTrue(made.keyPem().startsWith("-----BEGIN PRIVATE KEY-----\n"), made.keyPem());
    assertTrue(made.certificatePem().startsWith("-----BEGIN CERTIFICATE-----\n"));
    TlsMaterial read = TlsMaterial.parse(made.certificatePem(), made.keyPem());
    assertArrayEquals(made.certificate().getEncoded(), read.certificate().getEncoded());
    assertArrayEquals(made.key().getEncoded(), read.key().getEncoded());
    assertEquals("EC", read.key().getAlgorithm());
    X509Certificate c = read.certificate();
    assertEquals("SHA256withECDSA", c.getSigAlgName());
    c.verify(c.getPublicKey());
    Set<String> sans =
        c.getSubjectAlternativeNames().stream()
            .map(san -> String.valueOf(san.get(1)))
            .collect(Collectors.toSet());
    assertEquals(
        Set.of(
            "podcapture-controller",
            "podcapture-controller.kube-system.svc",
            "localhost",
            "127.0.0.1"),
        sans);
  }
}
