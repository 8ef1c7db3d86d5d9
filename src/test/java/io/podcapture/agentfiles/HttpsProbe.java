package io.podcapture.agentfiles;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * HTTP/1.1 over TLS by hand: the request line goes out exactly as written (no client normalises
 * {@code ../} or decodes {@code %2F} on the way), and a test can stop reading whenever it likes.
 */
final class HttpsProbe implements AutoCloseable {
  /** A whole response. */
  record Response(int code, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  final SSLSocket socket;
  final InputStream in;

  private HttpsProbe(SSLSocket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
  }

  /** Connects to 127.0.0.1:{@code port} trusting {@code tlsDir}'s certificate only. */
  static HttpsProbe connect(Path tlsDir, int port) throws Exception {
    return connect(TestTls.trusting(tlsDir), port);
  }

  static HttpsProbe connect(SSLContext tls, int port) throws IOException {
    SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port);
    socket.setSoTimeout(30_000);
    socket.startHandshake();
    return new HttpsProbe(socket);
  }

  /** Sends {@code GET rawPath} with {@code token} as bearer token (none if null). */
  HttpsProbe get(String rawPath, String token) throws IOException {
    return send("GET", rawPath, token);
  }

  HttpsProbe send(String method, String rawPath, String token) throws IOException {
    return send(method, rawPath, token, Map.of());
  }

  /** Sends a request with further headers of the test's choosing. */
  HttpsProbe send(String method, String rawPath, String token, Map<String, String> headers)
      throws IOException {
    StringBuilder request =
        new StringBuilder(method + " " + rawPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (token != null) {
      request.append("Authorization: Bearer ").append(token).append("\r\n");
    }
    headers.forEach(
        (name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
    request.append("Connection: close\r\n\r\n");
    OutputStream out = socket.getOutputStream();
    out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return this;
  }

  /** The status line and headers (names in lower case). */
  Response head() throws IOException {
    String status = line();
    if (status == null) {
      throw new IOException("connection closed before a response");
    }
    int code = Integer.parseInt(status.split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String line = line(); line != null && !line.isEmpty(); line = line()) {
      int colon = line.indexOf(':');
      headers.put(
          line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).strip());
    }
    return new Response(code, headers, new byte[0]);
  }

  /** The whole response: its body by Content-Length, chunks, or to the end of the connection. */
  Response response() throws IOException {
    Response head = head();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    String length = head.headers().get("content-length");
    if (length != null) {
      body.writeBytes(in.readNBytes(Integer.parseInt(length)));
    } else if ("chunked".equalsIgnoreCase(head.headers().get("transfer-encoding"))) {
      for (byte[] chunk = chunk(); chunk != null; chunk = chunk()) {
        body.writeBytes(chunk);
      }
    } else {
      body.writeBytes(in.readAllBytes());
    }
    return new Response(head.code(), head.headers(), body.toByteArray());
  }

  /** The next chunk of a chunked body, or null at its end. */
  byte[] chunk() throws IOException {
    String size = line();
    if (size == null) {
      throw new IOException("connection closed inside a chunked body");
    }
    int n = Integer.parseInt(size.split(";")[0].strip(), 16);
    if (n == 0) {
      line();
      return null;
    }
    byte[] data = in.readNBytes(n);
    if (data.length < n) {
      throw new IOException("connection closed inside a chunk");
    }
    line();
    return data;
  }

  private String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        String s = line.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() throws IOException {
    // closing waits for the server's close_notify, which a server busy streaming does not send
    if (!socket.isClosed()) {
      socket.setSoTimeout(100);
      socket.close();
    }
  }
}
