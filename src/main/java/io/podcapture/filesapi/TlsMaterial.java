package io.podcapture.filesapi;

import io.podcapture.tls.Pem;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate and its private key, as a {@code kubernetes.io/tls} Secret holds them (PEM, the key
 * PKCS#8). Made with BouncyCastle's lightweight builder and the JDK's own crypto: BouncyCastle is
 * never registered as a JCA provider.
 *
 * @param chain the certificate first, then any intermediates the PEM holds
 * @param key its private key
 */
public record TlsMaterial(List<X509Certificate> chain, PrivateKey key) {
  /** How long a self-signed certificate made here is valid. */
  static final Duration VALIDITY = Duration.ofDays(3650);

  public TlsMaterial {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("no certificate");
    }
  }

  public X509Certificate certificate() {
    return chain.get(0);
  }

  /**
   * A new EC P-256 key and a self-signed certificate for it (SHA256withECDSA), CN {@code
   * commonName}, the DNS names and IP addresses given as SANs, usable to serve and as its own CA
   * (the APIService's caBundle is this very certificate).
   */
  public static TlsMaterial selfSigned(
      String commonName, List<String> dnsNames, List<String> ipAddresses, Instant now)
      throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = generator.generateKeyPair();
    X500Name subject = new X500Name("CN=" + commonName);
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            new BigInteger(127, new SecureRandom()).add(BigInteger.ONE),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(VALIDITY)),
            subject,
            keys.getPublic());
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
    ipAddresses.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
    try {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(
              KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyCertSign));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(names.toArray(new GeneralName[0])));
      X509Certificate certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
      return new TlsMaterial(List.of(certificate), keys.getPrivate());
    } catch (CertIOException | OperatorCreationException e) {
      throw new GeneralSecurityException("cannot make a certificate for " + commonName, e);
    }
  }

  /** {@code tls.crt}: the chain in PEM. */
  public String certificatePem() {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate c : chain) {
      try {
        pem.append(Pem.encode("CERTIFICATE", c.getEncoded()));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("a parsed certificate has an encoding", e);
      }
    }
    return pem.toString();
  }

  /** {@code tls.key}: the key in PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). */
  public String keyPem() {
    return Pem.encode("PRIVATE KEY", key.getEncoded());
  }

  /** Reads {@code tls.crt} and {@code tls.key} (a PEM private key, as {@link Pem} reads it). */
  public static TlsMaterial parse(String certificatePem, String keyPem)
      throws GeneralSecurityException {
    List<X509Certificate> chain;
    try {
      chain = Pem.certificates(certificatePem);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new GeneralSecurityException("tls.crt: " + e.getMessage(), e);
    }
    try {
      return new TlsMaterial(chain, Pem.privateKey(keyPem));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new GeneralSecurityException("tls.key: " + e.getMessage(), e);
    }
  }
}
