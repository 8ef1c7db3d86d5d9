package io.podcapture.agentfiles;

import io.podcapture.testing.Command;
import io.podcapture.testing.Requirements;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Test certificates made with openssl, and a client context that trusts exactly one of them. */
final class TestTls {
  private TestTls() {}

  /**
   * A self-signed certificate and its key ({@code tls.crt}, {@code tls.key}, PKCS#8) in {@code
   * dir}, for localhost and 127.0.0.1; {@code keyType} is openssl's {@code -newkey} ("ec" gives
   * P-256, "rsa:2048").
   */
  static Path generate(Path dir, String keyType) throws Exception {
    Requirements.commands("openssl");
    Files.createDirectories(dir);
    List<String> argv =
        new java.util.ArrayList<>(List.of("openssl", "req", "-x509", "-newkey", keyType));
    if (keyType.equals("ec")) {
      argv.addAll(List.of("-pkeyopt", "ec_paramgen_curve:prime256v1"));
    }
    argv.addAll(
        List.of(
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=podcapture-agent",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            dir.resolve("tls.key").toString(),
            "-out",
            dir.resolve("tls.crt").toString()));
    Command.run(argv).orThrow();
    return dir;
  }

  /** {@link #generate} with an EC P-256 key. */
  static Path generate(Path dir) throws Exception {
    return generate(dir, "ec");
  }

  /** Rewrites {@code dir}'s EC key as SEC1 ({@code EC PRIVATE KEY}), as some tools write it. */
  static void toSec1(Path dir) {
    Path key = dir.resolve("tls.key");
    Path sec1 = dir.resolve("tls.key.sec1");
    Command.run("openssl", "ec", "-in", key.toString(), "-out", sec1.toString(), "-outform", "PEM")
        .orThrow();
    try {
      Files.move(sec1, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static X509Certificate certificate(Path dir) throws Exception {
    try (InputStream in = Files.newInputStream(dir.resolve("tls.crt"))) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** A client TLS context that trusts {@code dir}'s certificate and nothing else. */
  static SSLContext trusting(Path dir) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("agent", certificate(dir));
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }
}
