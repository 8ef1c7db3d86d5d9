package io.podcapture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.podcapture.testing.AgentJvm;
import io.podcapture.testing.Kubeconfig;
import io.podcapture.testing.MockApiServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent process's two ends as a container sees them: a start that cannot reach the API server
 * says which server and why in one line, and SIGTERM at any moment, start-up included, stops it
 * cleanly with exit code 0.
 */
@Tag("integration")
class StartAndStopTest {
  private static final Pattern MONITORING_PORT = Pattern.compile("monitoring on port (\\d+)");

  @TempDir Path tmp;
  private Process agent;

  @AfterEach
  void killLeftover() throws Exception {
    if (agent != null && agent.isAlive()) {
      agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  // ---- an API server the agent cannot use

  /**
   * The unusable API servers: a closed port, a name that does not resolve, TLS spoken to a
   * plain-HTTP server.
   */
  static Stream<Arguments> unusableApiServers() {
    return Stream.of(
        Arguments.of("closed port", "connection refused"),
        Arguments.of("unknown host", "host not resolved"),
        Arguments.of("plain HTTP", "TLS"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unusableApiServers")
  void anUnusableApiServerIsNamedWithTheCauseInOneLineAndTheAgentExits1(String kind, String cause)
      throws Exception {
    try (MockApiServer plain = new MockApiServer();
        ServerSocket closed = new ServerSocket(0)) {
      int closedPort = closed.getLocalPort();
      closed.close();
      String url =
          switch (kind) {
            case "closed port" -> "http://localhost:" + closedPort;
            case "unknown host" -> "http://podcapture-no-such-host.invalid:6443";
            default -> "https://localhost:" + plain.port();
          };
      // One retry instead of the client's ten: the same failure, in seconds instead of about 20.
      agent = start(kubeconfig(url), Map.of("KUBERNETES_REQUEST_RETRY_BACKOFFLIMIT", "1"));

      assertTrue(agent.waitFor(60, TimeUnit.SECONDS), "gave up");
      String log = log();
      assertEquals(1, agent.exitValue(), log);
      List<String> lines = log.lines().filter(l -> l.contains("agent could not start")).toList();
      assertEquals(1, lines.size(), log);
      String line = lines.get(0);
      assertTrue(line.contains("API server " + url + "/: " + cause), line);
    }
  }

  @Test
  void theLineReadsTheCauseFromWhereverTheClientWrappedIt() {
    String url = "https://10.96.0.1:443/";
    Map<Throwable, String> causes =
        Map.of(
            new ExecutionException(new CompletionException(new ConnectException())),
            "connection refused",
            new ExecutionException(new ConnectException("Network is unreachable")),
            "cannot connect (Network is unreachable)",
            new ExecutionException(wrapped(new UnresolvedAddressException())),
            "host not resolved",
            new ExecutionException(new UnknownHostException("kubernetes.default.svc")),
            "host not resolved",
            new ExecutionException(wrapped(new SSLHandshakeException("PKIX path building failed"))),
            "TLS handshake failed (PKIX path building failed)",
            new ExecutionException(
                new SSLHandshakeException("bad")
                    .initCause(new CertificateException("no subject alternative names"))),
            "TLS: the server's certificate is not trusted (no subject alternative names)",
            new ExecutionException(new HttpConnectTimeoutException("HTTP connect timed out")),
            "timed out (HTTP connect timed out)",
            new ExecutionException(clientError(401, "Unauthorized")),
            "credentials refused (401 Unauthorized)",
            new ExecutionException(
                clientError(403, "pods is forbidden: User \"x\" cannot list resource \"pods\"")),
            "forbidden (403): pods is forbidden: User \"x\" cannot list resource \"pods\"",
            new TimeoutException(),
            "caches not filled in time");

    causes.forEach(
        (failure, words) ->
            assertEquals("API server " + url + ": " + words, Main.startFailure(url, failure)));
    assertEquals(
        "API server " + url + ": failed: java.lang.IllegalStateException: odd",
        Main.startFailure(url, new ExecutionException(new IllegalStateException("odd"))));
  }

  private static Throwable wrapped(Throwable cause) {
    ConnectException e = new ConnectException();
    e.initCause(cause);
    return new CompletionException(e);
  }

  private static KubernetesClientException clientError(int code, String message) {
    Status status = new StatusBuilder().withCode(code).withMessage(message).build();
    return new KubernetesClientException(status);
  }

  // ---- SIGTERM

  @Test
  void sigtermDuringStartUpExits0WithNothingLeftRunning() throws Exception {
    try (ServerSocket closed = new ServerSocket(0)) {
      int closedPort = closed.getLocalPort();
      closed.close();
      // The client's own retries keep the agent in start-up for about 20 s.
      agent = start(kubeconfig("http://localhost:" + closedPort), Map.of());
      int port = monitoringPort();
      assertEquals(503, get(port, "/readyz"), "still starting");
      List<ProcessHandle> children = agent.descendants().toList();

      long sent = System.nanoTime();
      agent.destroy(); // SIGTERM, as the kubelet sends
      assertTrue(
          agent.waitFor(15, TimeUnit.SECONDS), "still running 15 s after SIGTERM:\n" + log());
      long tookMillis = Duration.ofNanos(System.nanoTime() - sent).toMillis();

      String log = log();
      assertEquals(0, agent.exitValue(), log);
      assertTrue(tookMillis < 5_000, "took " + tookMillis + " ms");
      assertTrue(log.contains("SIGTERM during start-up"), log);
      assertFalse(log.contains("agent could not start"), "a stop is not a failed start:\n" + log);
      assertFalse(listening(port), "the monitoring port is closed");
      assertTrue(
          children.stream().noneMatch(ProcessHandle::isAlive), "child processes left: " + children);
    }
  }

  @Test
  void sigtermOnceRunningExits0() throws Exception {
    try (MockApiServer api = new MockApiServer()) {
      agent = start(kubeconfig("http://localhost:" + api.port()), Map.of());
      int port = monitoringPort();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (get(port, "/readyz") != 200) {
        assertTrue(System.nanoTime() < deadline, "not ready in 30 s:\n" + log());
        Thread.sleep(100);
      }

      agent.destroy();
      assertTrue(
          agent.waitFor(15, TimeUnit.SECONDS), "still running 15 s after SIGTERM:\n" + log());
      assertEquals(0, agent.exitValue(), log());
      assertTrue(log().contains("SIGTERM: stopping"), log());
      assertFalse(listening(port), "the monitoring port is closed");
    }
  }

  // ---- the agent as a process

  private Process start(Path kubeconfig, Map<String, String> env) throws IOException {
    return AgentJvm.start(kubeconfig, tmp.resolve("capture"), tmp.resolve("agent.log"), env)
        .process();
  }

  private Path kubeconfig(String server) throws IOException {
    return Kubeconfig.write(tmp.resolve("kubeconfig"), server);
  }

  private String log() throws IOException {
    return Files.readString(tmp.resolve("agent.log"));
  }

  /** The monitoring port from the agent's log, which it writes early in start-up. */
  private int monitoringPort() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      Matcher m = MONITORING_PORT.matcher(log());
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      assertTrue(agent.isAlive(), "agent ended:\n" + log());
      Thread.sleep(50);
    }
    throw new AssertionError("no monitoring port in 30 s:\n" + log());
  }

  private static int get(int port, String path) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    return http.send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .timeout(Duration.ofSeconds(2))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("localhost", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
