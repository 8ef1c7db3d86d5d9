package io.podcapture.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the kubeconfig file an agent process or kubectl reads (through {@code KUBECONFIG}) in
 * tests.
 */
public final class Kubeconfig {
  private Kubeconfig() {}

  /**
   * A kubeconfig with one cluster at {@code server}, namespace default. TLS is not verified and the
   * token is a placeholder: the mock API server checks neither, and a test pointing at a closed or
   * bogus port wants the client's own error, not a configuration one.
   */
  public static Path write(Path file, String server) throws IOException {
    return Files.writeString(
        file,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster: {server: "%s", insecure-skip-tls-verify: true}
        users:
        - name: test
          user: {token: test}
        contexts:
        - name: test
          context: {cluster: test, user: test, namespace: default}
        current-context: test
        """
            .formatted(server));
  }
}
