package io.podcapture.agentfiles;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The file server's settings (environment variables of the agent, parsed by {@code AgentConfig}).
 *
 * @param enabled false with {@code FILES_SERVER=off}: no server, no thread
 * @param port {@code FILES_PORT}; 0 asks the kernel for any free port (logged)
 * @param tlsDir {@code FILES_TLS_DIR}: where {@code tls.crt} and {@code tls.key} appear
 * @param controllerNamespace {@code CONTROLLER_NAMESPACE}: the controller's namespace
 * @param controllerServiceAccount {@code CONTROLLER_SERVICE_ACCOUNT}: the only caller served
 * @param maxRequest {@code FILES_MAX_REQUEST_SECONDS}: no request lasts longer
 */
public record FilesConfig(
    boolean enabled,
    int port,
    Path tlsDir,
    String controllerNamespace,
    String controllerServiceAccount,
    Duration maxRequest) {

  public static final int DEFAULT_PORT = 9398;
  public static final String DEFAULT_TLS_DIR = "/etc/podcapture/agent-tls";
  public static final String DEFAULT_SERVICE_ACCOUNT = "podcapture-controller";
  public static final int DEFAULT_MAX_REQUEST_SECONDS = 3600;

  /** The one user the server answers: the controller's ServiceAccount. */
  public String controllerUser() {
    return "system:serviceaccount:" + controllerNamespace + ":" + controllerServiceAccount;
  }
}
