package io.podcapture.agentfiles;

import io.podcapture.tls.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;

/**
 * The file server's certificate and key, read from {@code tls.crt} (PEM certificates, the server's
 * first) and {@code tls.key} (a PEM private key, as {@link Pem} reads it), with the JDK's classes
 * only, into a key manager held in memory.
 */
final class TlsMaterial {
  static final String CERT_FILE = "tls.crt";
  static final String KEY_FILE = "tls.key";

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
      List<X509Certificate> chain = read(CERT_FILE, () -> Pem.certificates(ascii(certBytes)));
      PrivateKey key = read(KEY_FILE, () -> Pem.privateKey(ascii(keyBytes)));
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

  /** What {@code file} holds, or why it cannot be used, the file named. */
  private static <T> T read(String file, PemRead<T> read) throws GeneralSecurityException {
    try {
      return read.get();
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new GeneralSecurityException(file + ": " + e.getMessage(), e);
    }
  }

  private interface PemRead<T> {
    T get() throws GeneralSecurityException;
  }

  private static String ascii(byte[] bytes) {
    return new String(bytes, StandardCharsets.US_ASCII);
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
}
