package io.podcapture.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A plain-HTTP proxy on loopback in front of the real API server, for one process (an agent or a
 * controller replica): it passes every request through unchanged (the process's own token
 * included), logs every request (method, path, query), and notes every Pod and PodCapture the
 * server sends, in list answers and watch events alike, with the node it belongs to. So a test
 * counts what each process asked for (its Lease requests, say) and what its informers really
 * received from the server, from outside its JVM. Watches go over plain HTTP through it (it refuses
 * WebSocket upgrades, and the client falls back).
 */
public final class CountingApiProxy implements AutoCloseable {
  /** Request headers the JDK's client sets itself, or that belong to one hop only. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "host",
          "connection",
          "content-length",
          "transfer-encoding",
          "upgrade",
          "http2-settings",
          "expect",
          "keep-alive",
          "te");

  /**
   * One object the server sent: its resource (pods, podcaptures), the watch event type (or LIST),
   * its name and the node it belongs to ({@code spec.nodeName} of a Pod, the {@code
   * tcpdump.antrea.io/node} label of a PodCapture; "" when none).
   */
  public record Seen(String resource, String type, String name, String node) {}

  /**
   * One request the process sent through the proxy: its method, path and query (null when none),
   * and when it arrived ({@link System#nanoTime()}).
   */
  public record Request(String method, String path, String query, long atNanos) {
    /** A watch (a long GET that the server answers with events). */
    public boolean watch() {
      return query != null && query.contains("watch=true");
    }
  }

  private final String upstream;
  private final HttpClient client;
  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();

  public CountingApiProxy(String upstream, Path caCert) throws Exception {
    this.upstream = upstream;
    this.client = HttpClient.newBuilder().sslContext(trusting(caCert)).build();
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(threads);
    server.createContext("/", this::forward);
    server.start();
  }

  private static SSLContext trusting(Path caCert) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(caCert)) {
      store.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  /** The URL to put in the agent's kubeconfig. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Everything noted so far. */
  public List<Seen> seen() {
    return List.copyOf(seen);
  }

  /** Every request the process sent so far, in order of arrival. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The requests about Leases (any Lease, any namespace): reads, renewals, watches. */
  public List<Request> leaseRequests() {
    return requests.stream().filter(r -> r.path().contains("/leases")).toList();
  }

  private void forward(HttpExchange exchange) throws IOException {
    try (exchange) {
      if ("websocket".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Upgrade"))) {
        // fabric8 tries a watch over a WebSocket first and, answered 200 instead of 101 (as by a
        // proxy that does not upgrade), watches over plain HTTP at once: one JSON event per line,
        // which this proxy can read. (A 503 would work too, but only after fabric8's retries.)
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      // Logged after the WebSocket attempt: each watch counts once, as the plain HTTP it becomes.
      requests.add(
          new Request(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getPath(),
              exchange.getRequestURI().getRawQuery(),
              System.nanoTime()));
      URI target = URI.create(upstream + exchange.getRequestURI().toString());
      byte[] body = exchange.getRequestBody().readAllBytes();
      HttpRequest.Builder request =
          HttpRequest.newBuilder(target)
              .method(
                  exchange.getRequestMethod(),
                  body.length == 0
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(body));
      exchange
          .getRequestHeaders()
          .forEach(
              (name, values) -> {
                if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                  values.forEach(v -> request.header(name, v));
                }
              });
      HttpResponse<InputStream> response =
          client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
      response
          .headers()
          .map()
          .forEach(
              (name, values) -> {
                String lower = name.toLowerCase(Locale.ROOT);
                if (!NOT_FORWARDED.contains(lower) && !lower.startsWith(":")) {
                  exchange.getResponseHeaders().put(name, values);
                }
              });
      String resource = watchedResource(exchange);
      boolean watch =
          exchange.getRequestURI().getRawQuery() != null
              && exchange.getRequestURI().getRawQuery().contains("watch=true");
      try (InputStream in = response.body()) {
        if (watch) {
          exchange.sendResponseHeaders(response.statusCode(), 0);
          relayWatch(in, exchange.getResponseBody(), resource);
        } else {
          byte[] bytes = in.readAllBytes();
          exchange.sendResponseHeaders(
              response.statusCode(), bytes.length == 0 ? -1 : bytes.length);
          if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
            if (resource != null && response.statusCode() == 200) {
              noteList(bytes, resource);
            }
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Each watch event is one line of JSON: pass it on at once, and note it. */
  private void relayWatch(InputStream in, OutputStream out, String resource) throws IOException {
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String line;
    while ((line = reader.readLine()) != null) {
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      if (resource != null && !line.isBlank()) {
        JsonNode event = Serialization.jsonMapper().readTree(line);
        String type = event.path("type").asText();
        if (!type.equals("BOOKMARK") && !type.equals("ERROR")) {
          note(resource, type, event.path("object"));
        }
      }
    }
  }

  private void noteList(byte[] bytes, String resource) throws IOException {
    JsonNode list = Serialization.jsonMapper().readTree(new ByteArrayInputStream(bytes));
    for (JsonNode item : list.path("items")) {
      note(resource, "LIST", item);
    }
  }

  private void note(String resource, String type, JsonNode object) {
    String node =
        resource.equals("pods")
            ? object.path("spec").path("nodeName").asText("")
            : object.path("metadata").path("labels").path("tcpdump.antrea.io/node").asText("");
    String name =
        object.path("metadata").path("namespace").asText()
            + "/"
            + object.path("metadata").path("name").asText();
    seen.add(new Seen(resource, type, name, node));
  }

  /** "pods" or "podcaptures" for a GET of a whole collection (a list or a watch), else null. */
  private static String watchedResource(HttpExchange exchange) {
    if (!exchange.getRequestMethod().equals("GET")) {
      return null;
    }
    String path = exchange.getRequestURI().getPath();
    if (path.endsWith("/pods") || path.endsWith("/podcaptures")) {
      return path.substring(path.lastIndexOf('/') + 1);
    }
    return null;
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
