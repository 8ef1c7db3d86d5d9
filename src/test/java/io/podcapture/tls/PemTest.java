package io.podcapture.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PemTest {

  @Test
  void aPkcs8KeyOfEachAlgorithmReadsBackAsItWasWritten() throws Exception {
    for (KeyPair keys :
        new KeyPair[] {ec(), rsa(), KeyPairGenerator.getInstance("Ed25519").generateKeyPair()}) {
      PrivateKey key = keys.getPrivate();
      PrivateKey read = Pem.privateKey(Pem.encode("PRIVATE KEY", key.getEncoded()));
      assertEquals(key.getAlgorithm(), read.getAlgorithm());
      assertArrayEquals(key.getEncoded(), read.getEncoded(), key.getAlgorithm());
    }
  }

  @Test
  void aPkcs1RsaKeyIsReadAsThePkcs8KeyItCameFrom() throws Exception {
    PrivateKey key = rsa().getPrivate();
    // PKCS#8's PrivateKeyInfo holds the PKCS#1 RSAPrivateKey as its OCTET STRING.
    byte[] pkcs1 = lastElementContent(key.getEncoded());

    PrivateKey read = Pem.privateKey(Pem.encode("RSA PRIVATE KEY", pkcs1));

    assertEquals("RSA", read.getAlgorithm());
    assertArrayEquals(key.getEncoded(), read.getEncoded());
  }

  @Test
  void aSec1KeyTakesItsCurveFromItsOwnParameters() throws Exception {
    PrivateKey key = ec().getPrivate();
    // The JDK's SEC 1 key inside PKCS#8 carries no [0] parameters; add them as openssl writes them:
    // SEQUENCE { version 1, OCTET STRING key, [0] prime256v1 }.
    Der sec1 = Der.read(lastElementContent(key.getEncoded()), 0);
    byte[] inner = lastElementContent(key.getEncoded());
    byte[] prime256v1 = {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07};
    byte[] withCurve =
        Der.encode(
            0x30,
            Der.concat(
                Arrays.copyOfRange(inner, sec1.contentStart(), sec1.end()),
                Der.encode(0xa0, prime256v1)));

    PrivateKey read = Pem.privateKey(Pem.encode("EC PRIVATE KEY", withCurve));

    assertEquals(
        ((java.security.interfaces.ECPrivateKey) key).getS(),
        ((java.security.interfaces.ECPrivateKey) read).getS());
    assertEquals(
        ((java.security.interfaces.ECPrivateKey) key).getParams().getCurve(),
        ((java.security.interfaces.ECPrivateKey) read).getParams().getCurve());
  }

  @Test
  void parametersBeforeTheKeyArePassedBy() throws Exception {
    PrivateKey key = ec().getPrivate();
    String pem =
        Pem.encode("EC PARAMETERS", new byte[] {0x06, 0x01, 0x00})
            + Pem.encode("PRIVATE KEY", key.getEncoded());
    assertArrayEquals(key.getEncoded(), Pem.privateKey(pem).getEncoded());
  }

  @Test
  void whatHoldsNoKeyOrNoCertificateSaysSo() {
    GeneralSecurityException noKey =
        assertThrows(GeneralSecurityException.class, () -> Pem.privateKey("not a key"));
    assertTrue(noKey.getMessage().contains("no PEM PRIVATE KEY"), noKey.getMessage());
    GeneralSecurityException garbage =
        assertThrows(
            GeneralSecurityException.class,
            () -> Pem.privateKey(Pem.encode("PRIVATE KEY", new byte[] {1, 2, 3})));
    assertTrue(
        garbage.getMessage().contains("not an EC, RSA or Ed25519 key"), garbage.getMessage());
    GeneralSecurityException noCurve =
        assertThrows(
            GeneralSecurityException.class,
            () ->
                Pem.privateKey(
                    Pem.encode("EC PRIVATE KEY", Der.encode(0x30, new byte[] {0x02, 0x01, 0x01}))));
    assertTrue(noCurve.getMessage().contains("names no curve"), noCurve.getMessage());
    GeneralSecurityException noCertificate =
        assertThrows(
            GeneralSecurityException.class,
            () -> Pem.certificates(Pem.encode("PRIVATE KEY", ec().getPrivate().getEncoded())));
    assertTrue(
        noCertificate.getMessage().contains("no PEM CERTIFICATE"), noCertificate.getMessage());
  }

  @Test
  void encodedBlocksHaveLinesOf64Characters() {
    String pem = Pem.encode("CERTIFICATE", new byte[100]);
    String[] lines = pem.split("\n");
    assertEquals("-----BEGIN CERTIFICATE-----", lines[0]);
    assertEquals(64, lines[1].length());
    assertEquals("-----END CERTIFICATE-----", lines[lines.length - 1]);
  }

  @Test
  void derLengthsOfEveryFormRoundTrip() throws Exception {
    for (int n : new int[] {0, 127, 128, 255, 256, 65_535, 65_536}) {
      byte[] encoded = Der.encode(0x04, new byte[n]);
      Der read = Der.read(encoded, 0);
      assertEquals(0x04, read.tag());
      assertEquals(n, read.end() - read.contentStart(), "length " + n);
      assertEquals(encoded.length, read.end());
    }
  }

  /** The content of the last element of a DER SEQUENCE. */
  private static byte[] lastElementContent(byte[] sequence) throws GeneralSecurityException {
    Der outer = Der.read(sequence, 0);
    Der element = null;
    for (int at = outer.contentStart(); at < outer.end(); at = element.end()) {
      element = Der.read(sequence, at);
    }
    return Arrays.copyOfRange(sequence, element.contentStart(), element.end());
  }

  private static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }
}
