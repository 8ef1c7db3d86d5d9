package io.podcapture.agentfiles;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * A key manager whose certificate and key can be replaced while the server runs: a Secret that is
 * made anew (its certificate is what the controller pins) reaches the agent through the kubelet's
 * volume update, and new connections use it without a restart.
 */
final class SwappableKeyManager extends X509ExtendedKeyManager {
  private volatile X509KeyManager current;

  void set(X509KeyManager keyManager) {
    current = keyManager;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    X509KeyManager km = current;
    if (km instanceof X509ExtendedKeyManager extended) {
      return extended.chooseEngineServerAlias(keyType, issuers, engine);
    }
    return km == null ? null : km.chooseServerAlias(keyType, issuers, null);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    X509KeyManager km = current;
    return km == null ? null : km.chooseServerAlias(keyType, issuers, socket);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    X509KeyManager km = current;
    return km == null ? null : km.getServerAliases(keyType, issuers);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    X509KeyManager km = current;
    return km == null ? null : km.getCertificateChain(alias);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    X509KeyManager km = current;
    return km == null ? null : km.getPrivateKey(alias);
  }

  // The server authenticates no clients by certificate: callers prove who they are with a token.

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }
}
