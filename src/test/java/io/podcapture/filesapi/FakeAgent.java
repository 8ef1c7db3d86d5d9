package io.podcapture.filesapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for the agent's files server (H2's, per the contract): the same paths and answers,
 * serving files from memory, and a follow endpoint fed by the test.
 */
final class FakeAgent implements AutoCloseable {
  /** A capture this agent knows: its node, files (oldest first) and live stream. */
  static final class Capture {
    final String node;
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final BlockingQueue<byte[]> live = new LinkedBlockingQueue<>();

    Capture(String node) {
      this.node = node;
    }
  }

  /** Put on a capture's live queue: ends the follow. */
  static final byte[] END = new byte[0];

  private final HttpsServer server;
  private final String token;
  final Map<String, Capture> captures = new ConcurrentHashMap<>();
  final List<String> requests = new java.util.concurrent.CopyOnWriteArrayList<>();

  FakeAgent(TlsMaterial certificate, String token) throws Exception {
    this.token = token;
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry(
        "agent",
        certificate.key(),
        "x".toCharArray(),
        certificate.chain().toArray(new X509Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(keys, "x".toCharArray());
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", this::handle);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  Capture capture(String ns, String name, String node) {
    return captures.computeIfAbsent(ns + "/" + name, k -> new Capture(node));
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getRawPath();
    requests.add(path);
    if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
      error(exchange, 401, "invalid token");
      return;
    }
    String[] parts = path.split("/", -1);
    // /v1/captures/{ns}/{name}[/files/{file} | /follow]
    if (parts.length < 5 || !parts[1].equals("v1") || !parts[2].equals("captures")) {
      error(exchange, 404, "no such path");
      return;
    }
    Capture capture = captures.get(parts[3] + "/" + parts[4]);
    if (capture == null) {
      error(exchange, 404, "PodCapture " + parts[3] + "/" + parts[4] + " is not on this node");
      return;
    }
    if (parts.length == 5) {
      ObjectMapper json = new ObjectMapper();
      ObjectNode listing = json.createObjectNode();
      listing.put("namespace", parts[3]).put("name", parts[4]).put("node", capture.node);
      listing.put("running", true);
      ArrayNode files = listing.putArray("files");
      capture.files.forEach(
          (n, bytes) ->
              files
                  .addObject()
                  .put("name", n)
                  .put("sizeBytes", bytes.length)
                  .put("modified", "2026-12-05T11:00:00Z"));
      byte[] body = listing.toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } else if (parts.length == 7 && parts[5].equals("files")) {
      byte[] bytes = capture.files.get(URLDecoder.decode(parts[6], StandardCharsets.UTF_8));
      if (bytes == null) {
        error(exchange, 404, "no such file");
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", FilesApiNames.PCAP_TYPE);
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } else if (parts.length == 6 && parts[5].equals("follow")) {
      exchange.getResponseHeaders().set("Content-Type", FilesApiNames.PCAP_TYPE);
      exchange.sendResponseHeaders(200, 0);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(TestPcap.header());
        out.flush();
        while (true) {
          byte[] next = capture.live.poll(30, TimeUnit.SECONDS);
          if (next == null || next.length == 0) {
            break;
          }
          out.write(next);
          out.flush();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      error(exchange, 404, "no such path");
    }
  }

  private static void error(HttpExchange exchange, int code, String message) throws IOException {
    byte[] body =
        new ObjectMapper()
            .createObjectNode()
            .put("message", message)
            .toString()
            .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
