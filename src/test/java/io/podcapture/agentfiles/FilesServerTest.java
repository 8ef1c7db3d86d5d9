package io.podcapture.agentfiles;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file server alone, with captures and TokenReviews of the test's making: its lifecycle
 * (waiting for its certificate, taking up a new one), its limits (8 at a time, a reader that stops
 * reading) and its answers.
 */
@Tag("integration")
class FilesServerTest {
  private static final String CONTROLLER_TOKEN = "controller-token";
  private static final FilesServer.Timings FAST =
      new FilesServer.Timings(
          Duration.ofMillis(200),
          Duration.ofSeconds(2),
          Duration.ofMillis(200),
          Duration.ofSeconds(2));

  @TempDir Path tmp;
  private Path captureDir;
  private Path tlsDir;
  private Path big;
  private FilesServer server;
  private final List<HttpsProbe> probes = new ArrayList<>();

  private final TokenReviewer reviewer =
      (token, audience) ->
          token.equals(CONTROLLER_TOKEN)
              ? new TokenReviewer.Review(
                  true,
                  "system:serviceaccount:kube-system:podcapture-controller",
                  List.of(audience))
              : new TokenReviewer.Review(false, null, List.of());

  @BeforeEach
  void files() throws IOException {
    captureDir = tmp.resolve("capture");
    tlsDir = tmp.resolve("tls");
    Path shop = Files.createDirectories(captureDir.resolve("shop"));
    big = shop.resolve("capture-web.pcap0");
    // sparse: 256 MiB of zeros, more than any socket buffers hold, and no disk
    try (RandomAccessFile file = new RandomAccessFile(big.toFile(), "rw")) {
      file.setLength(256L << 20);
    }
  }

  @AfterEach
  void stop() throws IOException {
    for (HttpsProbe probe : probes) {
      probe.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private FilesConfig config(boolean enabled) {
    return new FilesConfig(
        enabled, 0, tlsDir, "kube-system", "podcapture-controller", Duration.ofHours(1));
  }

  private FilesServer start(FilesServer.Timings timings) {
    Captures captures =
        (ns, name) ->
            ns.equals("shop") && name.equals("web")
                ? Optional.of(new Captures.Capture("node-a", true, List.of(big)))
                : Optional.empty();
    server = FilesServer.start(config(true), captureDir, captures, reviewer, timings);
    return server;
  }

  private HttpsProbe probe() throws Exception {
    HttpsProbe probe = HttpsProbe.connect(tlsDir, server.port());
    probes.add(probe);
    return probe;
  }

  @Test
  void theServerWaitsForItsCertificateAndStartsOnceItIsThere() throws Exception {
    start(FAST);
    assertEquals(-1, server.port());
    Thread.sleep(500);
    assertEquals(-1, server.port());

    TestTls.generate(tlsDir);

    await().atMost(Duration.ofSeconds(5)).until(() -> server.port() > 0);
    assertEquals(401, probe().get("/v1/captures/shop/web", null).response().code());
  }

  @Test
  void aReplacedCertificateIsServedToNewConnections() throws Exception {
    TestTls.generate(tlsDir);
    start(FAST);
    X509Certificate first = TestTls.certificate(tlsDir);
    javax.net.ssl.SSLContext trustsFirst = TestTls.trusting(tlsDir);
    assertEquals(first, probe().socket.getSession().getPeerCertificates()[0]);

    Path next = TestTls.generate(tmp.resolve("next"));
    Files.copy(
        next.resolve("tls.key"),
        tlsDir.resolve("tls.key"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(
        next.resolve("tls.crt"),
        tlsDir.resolve("tls.crt"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    await()
        .atMost(Duration.ofSeconds(5))
        .ignoreExceptions()
        .until(
            () -> {
              try (HttpsProbe p = HttpsProbe.connect(next, server.port())) {
                return p.socket
                    .getSession()
                    .getPeerCertificates()[0]
                    .equals(TestTls.certificate(next));
              }
            });
    assertThrows(
        SSLHandshakeException.class, () -> HttpsProbe.connect(trustsFirst, server.port()).close());
  }

  @Test
  void offMeansNoServerAndNoThread() {
    java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
    server =
        FilesServer.start(
            config(false), captureDir, (ns, name) -> Optional.empty(), reviewer, FAST);
    assertEquals(-1, server.port());
    assertTrue(
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t))
            .noneMatch(t -> t.getName().startsWith("files")));
  }

  @Test
  void aReaderThatStopsReadingIsCutOffAndItsSlotFreed() throws Exception {
    TestTls.generate(tlsDir);
    start(FAST);
    HttpsProbe slow =
        probe().get("/v1/captures/shop/web/files/capture-web.pcap0", CONTROLLER_TOKEN);
    HttpsProbe.Response head = slow.head();
    assertEquals(200, head.code());
    assertEquals(String.valueOf(256L << 20), head.headers().get("content-length"));
    await().atMost(Duration.ofSeconds(2)).until(() -> server.inFlight() == 1);

    // the reader takes nothing: the server's write blocks, and the watchdog ends it after 2 s
    await().atMost(Duration.ofSeconds(10)).until(() -> server.inFlight() == 0);

    long got = 0;
    try {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = slow.in.read(buffer)) != -1; ) {
        got += n;
      }
    } catch (IOException e) {
      // a reset is as good as an end
    }
    assertTrue(got < 256L << 20, "received " + got);
    assertEquals(200, probe().get("/v1/captures/shop/web", CONTROLLER_TOKEN).response().code());
  }

  @Test
  void atMostEightRequestsAreServedAtATime() throws Exception {
    TestTls.generate(tlsDir);
    start(
        new FilesServer.Timings(
            Duration.ofMillis(200),
            Duration.ofSeconds(60),
            Duration.ofMillis(200),
            Duration.ofSeconds(60)));
    for (int i = 0; i < FilesServer.MAX_IN_FLIGHT; i++) {
      HttpsProbe reader =
          probe().get("/v1/captures/shop/web/files/capture-web.pcap0", CONTROLLER_TOKEN);
      assertEquals(200, reader.head().code());
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> server.inFlight() == FilesServer.MAX_IN_FLIGHT);

    HttpsProbe.Response refused = probe().get("/v1/captures/shop/web", CONTROLLER_TOKEN).response();

    assertEquals(429, refused.code());
    assertEquals("application/json", refused.headers().get("content-type"));
    assertTrue(refused.text().startsWith("{\"message\":\"too many requests"), refused.text());
    // one reader goes: a request is served again
    probes.get(0).close();
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () -> probe().get("/v1/captures/shop/web", CONTROLLER_TOKEN).response().code() == 200);
  }

  @Test
  void aConnectionThatSendsNoRequestIsClosedAndHoldsNoThread() throws Exception {
    TestTls.generate(tlsDir);
    start(FAST);
    List<HttpsProbe> silent = new ArrayList<>();
    for (int i = 0; i < FilesServer.MAX_IN_FLIGHT + 1; i++) {
      HttpsProbe probe = probe();
      // half a request line, then nothing
      probe.socket.getOutputStream().write("GET /v1/capt".getBytes(StandardCharsets.US_ASCII));
      probe.socket.getOutputStream().flush();
      silent.add(probe);
    }

    for (HttpsProbe probe : silent) {
      probe.socket.setSoTimeout(10_000);
      int read;
      try {
        read = probe.in.read();
      } catch (java.net.SocketTimeoutException e) {
        throw new AssertionError("the server kept a silent connection open for 10 s", e);
      } catch (IOException e) {
        read = -1; // reset: closed as well
      }
      assertEquals(-1, read);
    }
    assertEquals(200, probe().get("/v1/captures/shop/web", CONTROLLER_TOKEN).response().code());
  }

  @Test
  void atMostFourLiveStreamsLeaveRoomForDownloads() throws Exception {
    TestTls.generate(tlsDir);
    // a running capture whose ring has no pcap header yet: its streams wait, sending nothing
    Files.write(big, new byte[0]);
    start(
        new FilesServer.Timings(
            Duration.ofMillis(200),
            Duration.ofSeconds(60),
            Duration.ofMillis(200),
            Duration.ofSeconds(60)));
    for (int i = 0; i < FilesServer.MAX_FOLLOWS; i++) {
      assertEquals(
          200, probe().get("/v1/captures/shop/web/follow", CONTROLLER_TOKEN).head().code());
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == FilesServer.MAX_FOLLOWS);

    HttpsProbe.Response refused =
        probe().get("/v1/captures/shop/web/follow", CONTROLLER_TOKEN).response();

    assertEquals(429, refused.code());
    assertTrue(refused.text().contains("live streams"), refused.text());
    assertEquals(
        200,
        probe()
            .get("/v1/captures/shop/web/files/capture-web.pcap0", CONTROLLER_TOKEN)
            .head()
            .code());
  }

  @Test
  void closingTheServerEndsEvenATransferBlockedOnItsReader() throws Exception {
    TestTls.generate(tlsDir);
    start(
        new FilesServer.Timings(
            Duration.ofMillis(200),
            Duration.ofSeconds(60),
            Duration.ofMillis(200),
            Duration.ofSeconds(60)));
    HttpsProbe slow =
        probe().get("/v1/captures/shop/web/files/capture-web.pcap0", CONTROLLER_TOKEN);
    assertEquals(200, slow.head().code());
    Thread.sleep(1000); // the server's write now blocks: the reader takes nothing

    long started = System.nanoTime();
    server.close();

    assertTrue(Duration.ofNanos(System.nanoTime() - started).toSeconds() < 5);
    await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 0);
  }

  @Test
  void onlyGetIsServed() throws Exception {
    TestTls.generate(tlsDir);
    start(FAST);
    HttpsProbe.Response r =
        probe().send("DELETE", "/v1/captures/shop/web", CONTROLLER_TOKEN).response();
    assertEquals(405, r.code());
    assertEquals("GET", r.headers().get("allow"));
  }

  @Test
  void anEmptyFileIsAnEmptyBody() throws Exception {
    TestTls.generate(tlsDir);
    try (RandomAccessFile file = new RandomAccessFile(big.toFile(), "rw")) {
      file.setLength(0);
    }
    start(FAST);
    HttpsProbe.Response r =
        probe().get("/v1/captures/shop/web/files/capture-web.pcap0", CONTROLLER_TOKEN).response();
    assertEquals(200, r.code());
    assertEquals(0, r.body().length);
    assertEquals(FilesServer.PCAP_TYPE, r.headers().get("content-type"));
  }

  @Test
  void errorsAreJsonMessages() throws Exception {
    TestTls.generate(tlsDir);
    start(FAST);
    HttpsProbe.Response r = probe().get("/v1/captures/shop/db", CONTROLLER_TOKEN).response();
    assertEquals(404, r.code());
    assertEquals(
        Map.of("message", "no PodCapture shop/db on this node"),
        new com.fasterxml.jackson.databind.ObjectMapper().readValue(r.body(), Map.class));
  }
}
