package io.podcapture.agentfiles;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;

/**
 * The file server's certificate and key, read from {@code tls.crt} (PEM certificates, the server's
 * first) and {@code tls.key} (PEM: PKCS#8 {@code PRIVATE KEY}, EC or RSA, or SEC1 {@code EC PRIVATE
 * KEY}), with the JDK's classes only, into a key manager held in memory.
 */
final class TlsMaterial {
  static final String CERT_FILE = "tls.crt";
  static final String KEY_FILE = "tls.key";

  private static final Pattern PEM =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----", Pattern.DOTALL);

  /** id-ecPublicKey, 1.2.840.10045.2.1, DER-encoded. */
  private static final byte[] EC_PUBLIC_KEY_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  final X509KeyManager keyManager;
  final X509Certificate certificate;

  /** SHA-256 over both files' bytes: tells a changed Secret from the one loaded. */
  final byte[] fingerprint;

  private TlsMaterial(X509KeyManager keyManager, X509Certificate certificate, byte[] fingerprint) {
    this.keyManager = keyManager;
    this.certificate = certificate;
    this.fingerprint = fingerprint;
  }

  /** Whether both files are there. */
  static boolean present(Path dir) {
    return Files.isRegularFile(dir.resolve(CERT_FILE))
        && Files.isRegularFile(dir.resolve(KEY_FILE));
  }

  /** SHA-256 over both files as they are now. */
  static byte[] fingerprint(Path dir) throws IOException {
    return fingerprint(
        Files.readAllBytes(dir.resolve(CERT_FILE)), Files.readAllBytes(dir.resolve(KEY_FILE)));
  }

  /** Reads both files; a message saying what is wrong if they cannot be used. */
  static TlsMaterial load(Path dir) throws IOException, GeneralSecurityException {
    byte[] certBytes = Files.readAllBytes(dir.resolve(CERT_FILE));
    byte[] keyBytes = Files.readAllBytes(dir.resolve(KEY_FILE));
    try {
      List<X509Certificate> chain = certificates(certBytes);
      PrivateKey key = privateKey(new String(keyBytes, StandardCharsets.US_ASCII));
      char[] password = "podcapture".toCharArray();
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("files", key, password, chain.toArray(new Certificate[0]));
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, password);
      X509KeyManager manager =
          Arrays.stream(factory.getKeyManagers())
              .filter(X509KeyManager.class::isInstance)
              .map(X509KeyManager.class::cast)
              .findFirst()
              .orElseThrow(() -> new GeneralSecurityException("no X.509 key manager"));
      return new TlsMaterial(manager, chain.get(0), fingerprint(certBytes, keyBytes));
    } finally {
      Arrays.fill(keyBytes, (byte) 0);
    }
  }

  static List<X509Certificate> certificates(byte[] pem) throws GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> chain = new ArrayList<>();
    Matcher m = PEM.matcher(new String(pem, StandardCharsets.US_ASCII));
    while (m.find()) {
      if (m.group(1).equals("CERTIFICATE")) {
        chain.add(
            (X509Certificate)
                factory.generateCertificate(new ByteArrayInputStream(base64(m.group(2)))));
      }
    }
    if (chain.isEmpty()) {
      throw new GeneralSecurityException(CERT_FILE + " holds no PEM CERTIFICATE");
    }
    return chain;
  }

  static PrivateKey privateKey(String pem) throws GeneralSecurityException {
    Matcher m = PEM.matcher(pem);
    while (m.find()) {
      byte[] der = base64(m.group(2));
      switch (m.group(1)) {
        case "PRIVATE KEY":
          return pkcs8(der);
        case "EC PRIVATE KEY":
          return KeyFactory.getInstance("EC")
              .generatePrivate(new PKCS8EncodedKeySpec(sec1ToPkcs8(der)));
        default:
          // parameters ("EC PARAMETERS") and anything else: look further
      }
    }
    throw new GeneralSecurityException(
        KEY_FILE + " holds no PEM PRIVATE KEY (PKCS#8) or EC PRIVATE KEY (SEC1)");
  }

  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    GeneralSecurityException last = null;
    for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw new GeneralSecurityException(KEY_FILE + ": not an EC, RSA or Ed25519 key", last);
  }

  /**
   * Wraps a SEC1 ECPrivateKey (RFC 5915) into PKCS#8 (RFC 5208), the form the JDK reads: the
   * algorithm identifier takes the curve from the key's own parameters ([0]).
   */
  static byte[] sec1ToPkcs8(byte[] sec1) throws GeneralSecurityException {
    byte[] curve = null;
    Der outer = Der.read(sec1, 0);
    if (outer.tag != 0x30) {
      throw new GeneralSecurityException(KEY_FILE + ": EC PRIVATE KEY is not a DER SEQUENCE");
    }
    for (int at = outer.contentStart; at < outer.end; ) {
      Der element = Der.read(sec1, at);
      if (element.tag == (byte) 0xa0) {
        Der oid = Der.read(sec1, element.contentStart);
        curve = Arrays.copyOfRange(sec1, element.contentStart, oid.end);
      }
      at = element.end;
    }
    if (curve == null) {
      throw new GeneralSecurityException(KEY_FILE + ": EC PRIVATE KEY names no curve");
    }
    byte[] algorithm = Der.encode(0x30, concat(EC_PUBLIC_KEY_OID, curve));
    byte[] version = {0x02, 0x01, 0x00};
    return Der.encode(0x30, concat(version, algorithm, Der.encode(0x04, sec1)));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] base64(String body) {
    return Base64.getMimeDecoder().decode(body);
  }

  private static byte[] fingerprint(byte[] cert, byte[] key) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(cert);
      digest.update(key);
      return digest.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** One DER element: its tag, where its content starts and where it ends. */
  private record Der(byte tag, int contentStart, int end) {
    static Der read(byte[] der, int at) throws GeneralSecurityException {
      if (at + 2 > der.length) {
        throw new GeneralSecurityException(KEY_FILE + ": truncated DER");
      }
      byte tag = der[at];
      int length = der[at + 1] & 0xff;
      int start = at + 2;
      if (length >= 0x80) {
        int bytes = length & 0x7f;
        if (bytes == 0 || bytes > 3 || start + bytes > der.length) {
          throw new GeneralSecurityException(KEY_FILE + ": bad DER length");
        }
        length = 0;
        for (int i = 0; i < bytes; i++) {
          length = (length << 8) | (der[start + i] & 0xff);
        }
        start += bytes;
      }
      if (start + length > der.length) {
        throw new GeneralSecurityException(KEY_FILE + ": truncated DER");
      }
      return new Der(tag, start, start + length);
    }

    static byte[] encode(int tag, byte[] content) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(tag);
      int n = content.length;
      if (n < 0x80) {
        out.write(n);
      } else if (n < 0x100) {
        out.write(0x81);
        out.write(n);
      } else {
        out.write(0x82);
        out.write(n >> 8);
        out.write(n & 0xff);
      }
      out.writeBytes(content);
      return out.toByteArray();
    }
  }
}
