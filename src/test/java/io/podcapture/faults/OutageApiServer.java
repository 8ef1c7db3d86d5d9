package io.podcapture.faults;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.podcapture.mock.MockApiServer;
import io.podcapture.mock.NodeAwareCrudDispatcher;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's mock API server (CRUD, CRD registered, Pods selectable by node), made to behave like a real API
 * server across an outage:
 * <ul>
 *   <li>{@link #stop()} refuses connections and {@link #restart()} serves again on the same port with the same
 *       objects;</li>
 *   <li>while stopped, a {@link #sideDoor()} serves the same objects on another port, so a test can change them
 *       where the agent cannot see (a user's kubectl reaching another API server replica);</li>
 *   <li>after a restart, a watch that resumes from a resourceVersion issued before the restart is answered
 *       {@code 410 Gone} ("too old resource version"), as a restarted kube-apiserver whose watch cache starts
 *       afresh does. fabric8's CRUD mock would otherwise replay current objects as ADDED and never tell a
 *       resumed watch about deletions, which no real API server does.</li>
 * </ul>
 */
final class OutageApiServer implements AutoCloseable {
  private static final Pattern WATCH_FROM = Pattern.compile("[?&]resourceVersion=(\\d+)");

  private final Dispatcher dispatcher = new Dispatcher();
  private KubernetesMockServer server;
  private KubernetesMockServer side;
  private final int port;

  /** Answers a resumed watch from before the last restart with 410 Gone. */
  static final class Dispatcher extends NodeAwareCrudDispatcher {
    /** resourceVersions below this were issued before the last restart. */
    private final AtomicLong firstAfterRestart = new AtomicLong(0);
    private final AtomicLong goneAnswers = new AtomicLong();

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String path = request.getPath();
      if ("GET".equals(request.getMethod()) && path.contains("watch=true")) {
        Matcher m = WATCH_FROM.matcher(path);
        if (m.find() && Long.parseLong(m.group(1)) < firstAfterRestart.get()) {
          goneAnswers.incrementAndGet();
          String status = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
              + "\"reason\":\"Expired\",\"code\":410,\"message\":\"too old resource version: " + m.group(1)
              + " (" + firstAfterRestart.get() + ")\"}";
          // As kube-apiserver's watch cache does: the watch is accepted, then ends with an ERROR event.
          return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
            @Override
            public void onOpen(WebSocket webSocket, Response response) {
              webSocket.send("{\"type\":\"ERROR\",\"object\":" + status + "}");
              webSocket.close(1000, "too old resource version");
            }
          });
        }
      }
      return super.dispatch(request);
    }

    /**
     * The watch cache starts afresh: resuming from any version issued before the restart is too old. (All of them,
     * not only those older than the latest change: fabric8's CRUD mock issues no new version for a deletion, where
     * etcd would.)
     */
    void restarted() {
      firstAfterRestart.set(requestResourceVersion());
    }

    long goneAnswers() {
      return goneAnswers.get();
    }
  }

  OutageApiServer() {
    server = newServer();
    server.init();
    port = server.getPort();
    try (KubernetesClient admin = client()) {
      admin.apiextensions().v1().customResourceDefinitions().resource(MockApiServer.crd()).create();
    }
  }

  private KubernetesMockServer newServer() {
    return new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        dispatcher, false);
  }

  int port() {
    return port;
  }

  Dispatcher dispatcher() {
    return dispatcher;
  }

  /** Client settings pointing at the main port; watches reconnect quickly so outage tests stay short. */
  Config config() {
    return config(port);
  }

  private static Config config(int port) {
    return new ConfigBuilder(Config.empty()).withMasterUrl("http://localhost:" + port).withNamespace("default")
        .withRequestRetryBackoffInterval(100).withRequestRetryBackoffLimit(3)
        .withWatchReconnectInterval(200).withRequestTimeout(5_000).withConnectionTimeout(2_000).build();
  }

  KubernetesClient client() {
    return new KubernetesClientBuilder().withConfig(config()).build();
  }

  /** A kubeconfig file for an agent process (no credentials: the mock server needs none). */
  Path writeKubeconfig(Path file) throws IOException {
    String url = "http://localhost:" + port;
    Files.writeString(file, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster:
            server: %s
        contexts:
        - name: mock
          context:
            cluster: mock
            user: mock
            namespace: default
        current-context: mock
        users:
        - name: mock
          user: {}
        """.formatted(url));
    return file;
  }

  /** Stops serving on the main port (connections are refused) while keeping every object. */
  void stop() {
    server.shutdown();
  }

  /** Serves again on the main port with the same objects; resumed watches from before get 410 Gone. */
  void restart() {
    dispatcher.restarted();
    server = newServer();
    try {
      server.init(InetAddress.getByName("localhost"), port);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Serves the same objects on another port (for changes the agent must not see yet); the caller closes it. */
  KubernetesClient sideDoor() {
    if (side == null) {
      side = newServer();
      side.init();
    }
    return new KubernetesClientBuilder().withConfig(config(side.getPort())).build();
  }

  void closeSideDoor() {
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
