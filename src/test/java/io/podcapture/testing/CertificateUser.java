package io.podcapture.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A person as the API server knows one: a client certificate signed by the cluster's CA, with the
 * user's name as CN and groups as O (no ServiceAccount, no system group but system:authenticated),
 * and a kubeconfig with it for kubectl. Made with openssl, as controlplane/up.sh makes the admin's.
 *
 * @param name the user name RBAC sees
 * @param kubeconfig a kubeconfig for this control plane with the certificate and key
 * @param certificate the PEM certificate (for curl --cert)
 * @param key the PEM key (for curl --key)
 */
public record CertificateUser(String name, Path kubeconfig, Path certificate, Path key) {

  /** Makes the certificate, key and kubeconfig of {@code name} in {@code dir}. */
  public static CertificateUser create(
      ControlPlane plane, String name, List<String> groups, Path dir) throws IOException {
    return create(plane, "ca", name, groups, dir);
  }

  /**
   * As above, signed by another CA of {@link ControlPlane#pki()}: {@code front-proxy-ca} makes a
   * client certificate of the front proxy's CA (whose CN must still be an allowed name).
   */
  public static CertificateUser create(
      ControlPlane plane, String ca, String name, List<String> groups, Path dir)
      throws IOException {
    Path key = dir.resolve(name + ".key");
    Path csr = dir.resolve(name + ".csr");
    Path ext = dir.resolve(name + ".ext");
    Path certificate = dir.resolve(name + ".crt");
    StringBuilder subject = new StringBuilder();
    groups.forEach(group -> subject.append("/O=").append(group));
    subject.append("/CN=").append(name);
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.toString());
    openssl(
        "req",
        "-new",
        "-sha256",
        "-key",
        key.toString(),
        "-subj",
        subject.toString(),
        "-out",
        csr.toString());
    Files.writeString(
        ext,
        "basicConstraints=critical,CA:FALSE\n"
            + "keyUsage=critical,digitalSignature\n"
            + "extendedKeyUsage=clientAuth\n");
    openssl(
        "x509",
        "-req",
        "-sha256",
        "-days",
        "2",
        "-in",
        csr.toString(),
        "-CA",
        plane.pki().resolve(ca + ".crt").toString(),
        "-CAkey",
        plane.pki().resolve(ca + ".key").toString(),
        "-CAcreateserial",
        "-CAserial",
        dir.resolve(name + ".srl").toString(),
        "-extfile",
        ext.toString(),
        "-out",
        certificate.toString());
    Path kubeconfig =
        Files.writeString(
            dir.resolve(name + ".kubeconfig"),
            """
            apiVersion: v1
            kind: Config
            clusters:
            - name: cluster
              cluster: {server: "%s", certificate-authority: "%s"}
            users:
            - name: %s
              user: {client-certificate: "%s", client-key: "%s"}
            contexts:
            - name: cluster
              context: {cluster: cluster, user: %s, namespace: default}
            current-context: cluster
            """
                .formatted(plane.apiServerUrl(), plane.caCert(), name, certificate, key, name));
    return new CertificateUser(name, kubeconfig, certificate, key);
  }

  private static void openssl(String... args) {
    List<String> argv = new java.util.ArrayList<>(List.of("openssl"));
    argv.addAll(List.of(args));
    ControlPlane.run(Duration.ofSeconds(30), Map.of(), argv).orThrow();
  }
}
