package io.podcapture.agentfiles;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.interfaces.ECPrivateKey;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Tag("integration")
class TlsMaterialTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"ec", "rsa:2048"})
  void aPkcs8KeyAndItsCertificateAreLoaded(String keyType) throws Exception {
    Path dir = TestTls.generate(tmp, keyType);
    assertTrue(Files.readString(dir.resolve("tls.key")).contains("BEGIN PRIVATE KEY"));

    TlsMaterial material = TlsMaterial.load(dir);

    assertEquals(TestTls.certificate(dir), material.certificate);
    String alias =
        material.keyManager.chooseServerAlias(keyType.startsWith("ec") ? "EC" : "RSA", null, null);
    assertNotNull(alias);
    assertArrayEquals(
        new Object[] {TestTls.certificate(dir)}, material.keyManager.getCertificateChain(alias));
  }

  @Test
  void aSec1EcKeyIsLoadedToo() throws Exception {
    Path dir = TestTls.generate(tmp);
    TlsMaterial pkcs8 = TlsMaterial.load(dir);
    TestTls.toSec1(dir);
    assertTrue(Files.readString(dir.resolve("tls.key")).contains("BEGIN EC PRIVATE KEY"));

    TlsMaterial sec1 = TlsMaterial.load(dir);

    String a = pkcs8.keyManager.chooseServerAlias("EC", null, null);
    String b = sec1.keyManager.chooseServerAlias("EC", null, null);
    assertEquals(
        ((ECPrivateKey) pkcs8.keyManager.getPrivateKey(a)).getS(),
        ((ECPrivateKey) sec1.keyManager.getPrivateKey(b)).getS());
    assertEquals(
        ((ECPrivateKey) pkcs8.keyManager.getPrivateKey(a)).getParams().getCurve(),
        ((ECPrivateKey) sec1.keyManager.getPrivateKey(b)).getParams().getCurve());
  }

  @Test
  void theFingerprintChangesWithEitherFile() throws Exception {
    Path dir = TestTls.generate(tmp);
    byte[] before = TlsMaterial.fingerprint(dir);
    assertArrayEquals(before, TlsMaterial.load(dir).fingerprint);
    Files.writeString(dir.resolve("tls.crt"), "\n", java.nio.file.StandardOpenOption.APPEND);
    assertFalse(Arrays.equals(before, TlsMaterial.fingerprint(dir)));
  }

  @Test
  void filesThatAreNotPemAreRefusedWithTheFileNamed() throws Exception {
    Path dir = TestTls.generate(tmp);
    Files.writeString(dir.resolve("tls.key"), "not a key");
    GeneralSecurityException e =
        assertThrows(GeneralSecurityException.class, () -> TlsMaterial.load(dir));
    assertTrue(e.getMessage().contains("tls.key"), e.getMessage());

    Files.writeString(dir.resolve("tls.crt"), "not a certificate");
    e = assertThrows(GeneralSecurityException.class, () -> TlsMaterial.load(dir));
    assertTrue(e.getMessage().contains("tls.crt"), e.getMessage());
  }

  @Test
  void bothFilesMustBeThere() throws Exception {
    assertFalse(TlsMaterial.present(tmp));
    TestTls.generate(tmp);
    assertTrue(TlsMaterial.present(tmp));
    Files.delete(tmp.resolve("tls.key"));
    assertFalse(TlsMaterial.present(tmp));
  }
}
