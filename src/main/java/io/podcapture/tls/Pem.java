package io.podcapture.tls;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM as a {@code kubernetes.io/tls} Secret holds it, with the JDK's classes only: certificates,
 * and a private key in PKCS#8 ({@code PRIVATE KEY}: EC, RSA or Ed25519), SEC 1 ({@code EC PRIVATE
 * KEY}) or PKCS#1 ({@code RSA PRIVATE KEY}), the forms openssl writes. Messages name no file: the
 * caller says which one it read.
 */
public final class Pem {
  private static final Pattern BLOCK =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----", Pattern.DOTALL);

  /** id-ecPublicKey, 1.2.840.10045.2.1, DER-encoded. */
  private static final byte[] EC_PUBLIC_KEY = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  /** rsaEncryption, 1.2.840.113549.1.1.1, then its NULL parameters, DER-encoded. */
  private static final byte[] RSA_ENCRYPTION = {
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  private static final byte[] VERSION_0 = {0x02, 0x01, 0x00};

  private Pem() {}

  /** Every {@code CERTIFICATE} block, in order; other blocks and text around them are passed by. */
  public static List<X509Certificate> certificates(String pem) throws GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> chain = new ArrayList<>();
    Matcher m = BLOCK.matcher(pem);
    while (m.find()) {
      if (m.group(1).equals("CERTIFICATE")) {
        chain.add(
            (X509Certificate)
                factory.generateCertificate(new ByteArrayInputStream(base64(m.group(2)))));
      }
    }
    if (chain.isEmpty()) {
      throw new GeneralSecurityException("holds no PEM CERTIFICATE");
    }
    return chain;
  }

  /**
   * The first private key block; parameters ({@code EC PARAMETERS}) and other blocks are passed.
   */
  public static PrivateKey privateKey(String pem) throws GeneralSecurityException {
    Matcher m = BLOCK.matcher(pem);
    while (m.find()) {
      byte[] der = base64(m.group(2));
      switch (m.group(1)) {
        case "PRIVATE KEY":
          return pkcs8(der);
        case "EC PRIVATE KEY":
          return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(sec1(der)));
        case "RSA PRIVATE KEY":
          return KeyFactory.getInstance("RSA")
              .generatePrivate(new PKCS8EncodedKeySpec(wrap(RSA_ENCRYPTION, der)));
        default:
          // look further
      }
    }
    throw new GeneralSecurityException(
        "holds no PEM PRIVATE KEY (PKCS#8), EC PRIVATE KEY (SEC 1) or RSA PRIVATE KEY (PKCS#1)");
  }

  /** One PEM block, 64 characters a line. */
  public static String encode(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
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
    throw new GeneralSecurityException("not an EC, RSA or Ed25519 key", last);
  }

  /**
   * A SEC 1 ECPrivateKey (RFC 5915) as PKCS#8 (RFC 5208): the algorithm identifier takes the curve
   * from the key's own parameters ([0]).
   */
  static byte[] sec1(byte[] key) throws GeneralSecurityException {
    Der outer = Der.read(key, 0);
    if (outer.tag() != 0x30) {
      throw new GeneralSecurityException("EC PRIVATE KEY is not a DER SEQUENCE");
    }
    for (int at = outer.contentStart(); at < outer.end(); ) {
      Der element = Der.read(key, at);
      if (element.tag() == (byte) 0xa0) {
        Der curve = Der.read(key, element.contentStart());
        byte[] parameters =
            Der.concat(EC_PUBLIC_KEY, Arrays.copyOfRange(key, element.contentStart(), curve.end()));
        return wrap(parameters, key);
      }
      at = element.end();
    }
    throw new GeneralSecurityException("EC PRIVATE KEY names no curve");
  }

  /** PrivateKeyInfo: version 0, the algorithm identifier's content, the key as an OCTET STRING. */
  private static byte[] wrap(byte[] algorithm, byte[] key) {
    return Der.encode(
        0x30, Der.concat(VERSION_0, Der.encode(0x30, algorithm), Der.encode(0x04, key)));
  }

  private static byte[] base64(String body) {
    return Base64.getMimeDecoder().decode(body);
  }
}
