package io.podcapture.filesapi;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The response to one request: headers sent at most once, then the body through the watchdog. An
 * error before the headers is a Status body; after them, the only way left to say it is to cut the
 * response short.
 */
final class Reply {
  private final HttpExchange exchange;
  private final RequestWatchdog.Guard guard;
  private OutputStream body;

  Reply(HttpExchange exchange, RequestWatchdog.Guard guard) {
    this.exchange = exchange;
    this.guard = guard;
  }

  boolean started() {
    return body != null;
  }

  RequestWatchdog.Guard guard() {
    return guard;
  }

  /** Sends 200 with this type; {@code length} -1 = chunked. */
  OutputStream start(String contentType, long length) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    exchange.sendResponseHeaders(200, length < 0 ? 0 : length == 0 ? -1 : length);
    body = guard.watch(exchange.getResponseBody());
    return body;
  }

  void header(String name, String value) {
    exchange.getResponseHeaders().set(name, value);
  }

  void json(int code, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(code, bytes.length);
    body = guard.watch(exchange.getResponseBody());
    body.write(bytes);
  }

  void status(StatusException e) throws IOException {
    json(e.code(), e.statusJson());
  }
}
