package io.podcapture.mock;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
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
 * fabric8's mock API server in CRUD mode with the PodCapture CRD registered (so {@code /status} is a real
 * subresource), Pods selectable by {@code spec.nodeName}, and every request recorded. It can be stopped and
 * started again on the same port with its objects kept, to play an API server outage.
 */
public final class MockApiServer implements AutoCloseable {
  private final NodeAwareCrudDispatcher dispatcher = new NodeAwareCrudDispatcher();
  private KubernetesMockServer server;
  private int port;

  public MockApiServer() {
    server = newServer();
    server.init();
    port = server.getPort();
    try (KubernetesClient admin = client()) {
      admin.apiextensions().v1().customResourceDefinitions().resource(crd()).create();
    } catch (KubernetesClientException e) {
      // 409: the client timed out on a slow first request and sent it again; the first one created the CRD.
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  private KubernetesMockServer newServer() {
    return new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        dispatcher, false);
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

  public static Path projectDir() {
    String dir = System.getenv("PODCAPTURE_PROJECT_DIR");
    return dir == null ? Path.of("").toAbsolutePath() : Path.of(dir);
  }

  /** Client settings pointing at this server; watches reconnect quickly so outage tests stay short. */
  public Config config() {
    return new ConfigBuilder(Config.empty()).withMasterUrl("http://localhost:" + port).withNamespace("default")
        .withTrustCerts(true).withRequestRetryBackoffInterval(100).withRequestRetryBackoffLimit(3)
        .withWatchReconnectInterval(200).withRequestTimeout(5_000).withConnectionTimeout(2_000).build();
  }

  /** A new client for this server; the caller closes it. */
  public KubernetesClient client() {
    return new KubernetesClientBuilder().withConfig(config()).build();
  }

  /** A new client that identifies itself with this User-Agent, so its requests can be told apart. */
  public KubernetesClient client(String userAgent) {
    Config config = config();
    config.setUserAgent(userAgent);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public int port() {
    return port;
  }

  public NodeAwareCrudDispatcher dispatcher() {
    return dispatcher;
  }

  /** Stops serving (connections are refused) while keeping every stored object. */
  public void stop() {
    server.shutdown();
  }

  /** Serves again on the same port with the same objects. */
  public void restart() {
    server = newServer();
    try {
      server.init(InetAddress.getByName("localhost"), port);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.shutdown();
  }
}
