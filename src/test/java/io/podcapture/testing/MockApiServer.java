package io.podcapture.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;

/**
 * The tests' one API server: fabric8's mock in CRUD mode with the PodCapture CRD registered (so
 * {@code /status} is a real subresource), behaving as {@link NodeAwareCrudDispatcher} describes
 * (Pods selectable by {@code spec.nodeName}, every request recorded, finalizers honoured). For
 * outage tests:
 *
 * <ul>
 *   <li>{@link #stop()} refuses connections and {@link #restart()} serves again on the same port
 *       with the same objects, answering watches resumed from before the restart with 410 Gone, as
 *       a real API server does;
 *   <li>while stopped, a {@link #sideDoor()} serves the same objects on another port, so a test can
 *       change them where the agent cannot see (a user's kubectl reaching another API server
 *       replica).
 * </ul>
 */
public final class MockApiServer implements AutoCloseable {
  private final NodeAwareCrudDispatcher dispatcher;
  private KubernetesMockServer server;
  private KubernetesMockServer side;
  private final int port;
  private final boolean https;

  public MockApiServer() {
    this(new NodeAwareCrudDispatcher());
  }

  /**
   * With a dispatcher of the caller's (a subclass that records more, e.g. the benchmark's timed
   * calls).
   */
  public MockApiServer(NodeAwareCrudDispatcher dispatcher) {
    this(dispatcher, false);
  }

  /**
   * The same, over HTTPS when {@code https} (the mock's self-signed certificate, which its clients
   * do not verify), as a real API server serves: the benchmark measures the agent's footprint with
   * its TLS client loaded.
   */
  public MockApiServer(NodeAwareCrudDispatcher dispatcher, boolean https) {
    this.dispatcher = dispatcher;
    this.https = https;
    server = newServer();
    server.init();
    port = server.getPort();
    try (KubernetesClient admin = client()) {
      admin.apiextensions().v1().customResourceDefinitions().resource(crd()).create();
    } catch (KubernetesClientException e) {
      // 409: the client timed out on a slow first request and sent it again; the first one created
      // the CRD.
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  private KubernetesMockServer newServer() {
    return new KubernetesMockServer(
        new Context(Serialization.jsonMapper()),
        new MockWebServer(),
        new HashMap<>(),
        dispatcher,
        https);
  }

  /** The project's checked-in CRD, as a user would apply it. */
  public static CustomResourceDefinition crd() {
    Path file = projectDir().resolve("crds/podcaptures.tcpdump.antrea.io.yaml");
    try (InputStream in = Files.newInputStream(file)) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
  }

  /** The PodCapture spec's schema in the checked-in CRD. */
  public static JSONSchemaProps crdSpecSchema() {
    return crd()
        .getSpec()
        .getVersions()
        .get(0)
        .getSchema()
        .getOpenAPIV3Schema()
        .getProperties()
        .get("spec");
  }

  public static Path projectDir() {
    String dir = System.getenv("PODCAPTURE_PROJECT_DIR");
    return dir == null ? Path.of("").toAbsolutePath() : Path.of(dir);
  }

  /**
   * Client settings pointing at this server; watches reconnect quickly so outage tests stay short.
   * HTTP/1.1 only: the mock is a cleartext server that accepts an upgrade to HTTP/2 (h2c), and the
   * JDK client's upgrade once read an HTTP/1.1 answer as HTTP/2 frames ("Frame type(101) ...
   * exceeds MAX_FRAME_SIZE") when 200 Pods were listed at the agent's start (the race
   * fabric8io/kubernetes-client#7662 describes). A real API server negotiates HTTP/2 over TLS,
   * which the mock cannot play.
   */
  public Config config() {
    return config(port);
  }

  private Config config(int port) {
    return new ConfigBuilder(Config.empty())
        .withMasterUrl(url(port))
        .withNamespace("default")
        .withTrustCerts(true)
        .withRequestRetryBackoffInterval(100)
        .withRequestRetryBackoffLimit(3)
        .withWatchReconnectInterval(200)
        .withRequestTimeout(5_000)
        .withConnectionTimeout(2_000)
        .withHttp2Disable(true)
        .build();
  }

  /** A new client for this server; the caller closes it. */
  public KubernetesClient client() {
    return new KubernetesClientBuilder().withConfig(config()).build();
  }

  /**
   * A new client that identifies itself with this User-Agent, so its requests can be told apart.
   */
  public KubernetesClient client(String userAgent) {
    Config config = config();
    config.setUserAgent(userAgent);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public int port() {
    return port;
  }

  /** The server's URL, as a kubeconfig names it. */
  public String url() {
    return url(port);
  }

  private String url(int port) {
    return (https ? "https" : "http") + "://localhost:" + port;
  }

  /** A kubeconfig file for an agent process or kubectl pointing at this server. */
  public Path writeKubeconfig(Path file) throws IOException {
    return Kubeconfig.write(file, url());
  }

  public NodeAwareCrudDispatcher dispatcher() {
    return dispatcher;
  }

  /** Stops serving (connections are refused) while keeping every stored object. */
  public void stop() {
    server.shutdown();
  }

  /**
   * Serves again on the same port with the same objects; watches resumed from before get 410 Gone.
   */
  public void restart() {
    dispatcher.restarted();
    server = newServer();
    try {
      server.init(InetAddress.getByName("localhost"), port);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Serves the same objects on another port (for changes the agent must not see yet); the caller
   * closes it.
   */
  public KubernetesClient sideDoor() {
    if (side == null) {
      side = newServer();
      side.init();
    }
    return new KubernetesClientBuilder().withConfig(config(side.getPort())).build();
  }

  public void closeSideDoor() {
    if (side != null) {
      side.shutdown();
      side = null;
    }
  }

  @Override
  public void close() {
    closeSideDoor();
    server.shutdown();
  }
}
