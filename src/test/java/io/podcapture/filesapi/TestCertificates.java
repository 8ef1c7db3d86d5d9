package io.podcapture.filesapi;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates made in the tests: a front-proxy CA and the client certificates it signs. */
final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(1000);

  private TestCertificates() {}

  static KeyPair keys() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  /** A CA certificate (CN {@code name}). */
  static TlsMaterial ca(String name) throws Exception {
    KeyPair keys = keys();
    X500Name subject = new X500Name("CN=" + name);
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(Instant.now().minus(Duration.ofHours(1))),
            Date.from(Instant.now().plus(Duration.ofDays(1))),
            subject,
            keys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(
        Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return new TlsMaterial(List.of(sign(builder, keys)), keys.getPrivate());
  }

  /** A client certificate with CN {@code cn}, signed by {@code ca}, for {@code usage}. */
  static TlsMaterial client(TlsMaterial ca, String cn, KeyPurposeId usage) throws Exception {
    KeyPair keys = keys();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            ca.certificate(),
            BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(Instant.now().minus(Duration.ofHours(1))),
            Date.from(Instant.now().plus(Duration.ofDays(1))),
            new X500Name("CN=" + cn),
            keys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(usage));
    X509Certificate cert =
        new JcaX509CertificateConverter()
            .getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.key())));
    return new TlsMaterial(List.of(cert), keys.getPrivate());
  }

  static TlsMaterial client(TlsMaterial ca, String cn) throws Exception {
    return client(ca, cn, KeyPurposeId.id_kp_clientAuth);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair keys)
      throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
  }

  /**
   * A client TLS context: presents {@code client} (none if null) and trusts exactly {@code server}.
   */
  static SSLContext clientContext(TlsMaterial client, X509Certificate server) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("server", server);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    if (client != null) {
      keys.setKeyEntry(
          "client",
          client.key(),
          "x".toCharArray(),
          client.chain().toArray(new X509Certificate[0]));
    }
    kmf.init(keys, "x".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }
}
