package io.podcapture.filesapi;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files API on one controller replica, from start to close: the certificates ({@link
 * ServingCertificates}, retried every 30 s until the Secrets can be read or made), the front-proxy
 * settings (read every 60 s), and the server ({@link FilesApiServer}), started once the serving
 * certificate is known. Nothing here stops the controller's other duties: a failure is logged and
 * retried.
 */
public final class FilesApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FilesApi.class);

  static final long FRONT_PROXY_REFRESH_SECONDS = 60;
  static final long SERVER_RETRY_SECONDS = 30;

  /**
   * @param namespace the controller's namespace (its Secrets, its ServiceAccount)
   * @param serviceAccount the controller's ServiceAccount
   * @param port FILES_API_PORT (0: any free port)
   * @param maxConcurrent FILES_API_MAX_CONCURRENT
   * @param maxRequest FILES_API_MAX_REQUEST_SECONDS
   */
  public record Settings(
      String namespace, String serviceAccount, int port, int maxConcurrent, Duration maxRequest) {}

  private final KubernetesClient client;
  private final Settings settings;
  private final ServingCertificates certificates;
  private final FrontProxyAuthenticator authenticator;
  private final AgentFileClient agents;
  private final ScheduledExecutorService background;
  private final CompletableFuture<Integer> started = new CompletableFuture<>();
  private volatile FilesApiServer server;
  private volatile boolean closed;

  private FilesApi(KubernetesClient client, Settings settings, Clock clock) {
    this.client = client;
    this.settings = settings;
    this.certificates = new ServingCertificates(client, settings.namespace(), clock);
    this.authenticator = new FrontProxyAuthenticator(client);
    this.agents =
        new AgentFileClient(
            client,
            settings.namespace(),
            settings.serviceAccount(),
            () -> {
              TlsMaterial agent = certificates.agent();
              return agent == null ? null : agent.certificate();
            },
            clock);
    this.background =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "files-api-setup");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts in the background; returns at once. */
  public static FilesApi start(KubernetesClient client, Settings settings, Clock clock) {
    FilesApi api = new FilesApi(client, settings, clock);
    var unusedRefresh =
        api.background.scheduleWithFixedDelay(
            () -> {
              try {
                api.authenticator.refresh();
              } catch (RuntimeException e) {
                LOG.warn("files API: reading the front-proxy settings failed: {}", e.toString());
              }
            },
            0,
            FRONT_PROXY_REFRESH_SECONDS,
            TimeUnit.SECONDS);
    api.certificates.start(api.background);
    var unused = api.certificates.ready().thenRunAsync(api::startServer, api.background);
    return api;
  }

  /** Completes with the port once the server listens. */
  public CompletableFuture<Integer> started() {
    return started;
  }

  private void startServer() {
    if (closed) {
      return;
    }
    try {
      server =
          FilesApiServer.start(
              new FilesApiServer.Settings(
                  settings.port(),
                  settings.maxConcurrent(),
                  settings.maxRequest(),
                  FilesApiServer.MAX_STALL),
              certificates::controller,
              authenticator,
              new AccessReviewer(client),
              agents,
              client);
      if (closed) {
        server.close();
        return;
      }
      started.complete(server.port());
    } catch (IOException e) {
      LOG.error(
          "files API: cannot listen on port {} ({}): retrying in {} s",
          settings.port(),
          e.getMessage(),
          SERVER_RETRY_SECONDS);
      var unused = background.schedule(this::startServer, SERVER_RETRY_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() {
    closed = true;
    background.shutdownNow();
    FilesApiServer running = server;
    if (running != null) {
      running.close();
    }
  }
}
