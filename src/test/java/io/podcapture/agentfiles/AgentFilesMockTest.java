package io.podcapture.agentfiles;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.FakeTcpdump;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher;
import io.podcapture.testing.Processes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole agent (informers, capture layer with a stand-in tcpdump, file server) against the mock
 * API server, which answers TokenReviews from a table: what the controller will see of an agent.
 */
@Tag("integration")
class AgentFilesMockTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String CONTROLLER = "controller-token";
  private static final String OTHER = "agent-token";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The mock API server, answering TokenReviews as kube-apiserver would for known tokens. */
  static final class ReviewingDispatcher extends NodeAwareCrudDispatcher {
    final Map<String, String> users = new ConcurrentHashMap<>();
    final List<JsonNode> reviews = new CopyOnWriteArrayList<>();

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      if ("POST".equals(request.getMethod())
          && request.getPath().startsWith("/apis/authentication.k8s.io/v1/tokenreviews")) {
        try {
          JsonNode review = JSON.readTree(request.getBody().getBytes());
          reviews.add(review);
          String user = users.get(review.path("spec").path("token").asText());
          ObjectNode status = ((ObjectNode) review).putObject("status");
          if (user == null) {
            status.put("authenticated", false).put("error", "invalid bearer token");
          } else {
            status.put("authenticated", true).putObject("user").put("username", user);
            status.set("audiences", review.path("spec").path("audiences"));
          }
          return new MockResponse().setResponseCode(201).setBody(JSON.writeValueAsString(review));
        } catch (IOException e) {
          return new MockResponse().setResponseCode(400).setBody(e.toString());
        }
      }
      return super.dispatch(request);
    }
  }

  @TempDir Path tmp;
  private Path captureDir;
  private Path tlsDir;
  private Path shop;
  private ReviewingDispatcher dispatcher;
  private MockApiServer api;
  private AgentHarness agent;

  @BeforeEach
  void start() throws Exception {
    captureDir = tmp.resolve("capture");
    shop = captureDir.resolve("shop");
    tlsDir = TestTls.generate(tmp.resolve("tls"));
    dispatcher = new ReviewingDispatcher();
    dispatcher.users.put(CONTROLLER, "system:serviceaccount:kube-system:podcapture-controller");
    dispatcher.users.put(OTHER, "system:serviceaccount:kube-system:podcapture-agent");
    api = new MockApiServer(dispatcher);
    Path fake = FakeTcpdump.install(tmp);
    agent =
        AgentHarness.wholeAgent(
            api,
            captureDir,
            Map.of(
                "FILES_PORT", "0",
                "FILES_TLS_DIR", tlsDir.toString(),
                "POD_NAMESPACE", "kube-system"),
            c -> c.withTcpdump(fake.toString()).withSysClassNet(tmp.resolve("sys-class-net")));
    agent.namespace("shop");
    agent.createPod("shop", "web", "2", List.of("198.51.100.10"));
    agent.awaitPhase("shop", "web", "Running", WAIT);
    await().atMost(WAIT).until(() -> Files.exists(shop.resolve("capture-web.pcap0")));
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    if (api != null) {
      api.close();
    }
    Processes.writingInto(captureDir)
        .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
  }

  private HttpsProbe.Response get(String rawPath, String token) throws Exception {
    try (HttpsProbe probe = HttpsProbe.connect(tlsDir, agent.agent.filesPort())) {
      return probe.get(rawPath, token).response();
    }
  }

  private static String message(HttpsProbe.Response r) throws IOException {
    return JSON.readTree(r.body()).path("message").asText();
  }

  @Test
  void theControllerListsACapturesFilesOldestFirst() throws Exception {
    Path kept = Files.createDirectories(shop.resolve("previous")).resolve("capture-web.pcap1");
    Files.writeString(kept, "kept from the run before");
    Files.setLastModifiedTime(kept, FileTime.from(Instant.parse("2026-12-05T10:00:00.123456Z")));

    HttpsProbe.Response r = get("/v1/captures/shop/web", CONTROLLER);

    assertEquals(200, r.code(), r.text());
    assertEquals("application/json", r.headers().get("content-type"));
    JsonNode listing = JSON.readTree(r.body());
    assertEquals("shop", listing.path("namespace").asText());
    assertEquals("web", listing.path("name").asText());
    assertEquals("node-a", listing.path("node").asText());
    assertTrue(listing.path("running").asBoolean());
    JsonNode files = listing.path("files");
    assertEquals(2, files.size(), r.text());
    assertEquals("previous/capture-web.pcap1", files.get(0).path("name").asText());
    assertEquals(24, files.get(0).path("sizeBytes").asLong());
    assertEquals("2026-12-05T10:00:00.123Z", files.get(0).path("modified").asText());
    assertEquals("capture-web.pcap0", files.get(1).path("name").asText());
    assertEquals(
        Files.size(shop.resolve("capture-web.pcap0")), files.get(1).path("sizeBytes").asLong());
    JsonNode review = dispatcher.reviews.get(0).path("spec");
    assertEquals(CONTROLLER, review.path("token").asText());
    assertEquals("[\"podcapture-agent\"]", review.path("audiences").toString());
  }

  @Test
  void aDownloadIsTheFileByteForByte() throws Exception {
    byte[] bytes = new byte[1_000_003];
    new Random(7).nextBytes(bytes);
    Files.write(shop.resolve("capture-web.pcap0"), bytes);
    Path kept = Files.createDirectories(shop.resolve("previous")).resolve("capture-web.pcap0");
    Files.writeString(kept, "older");

    HttpsProbe.Response r = get("/v1/captures/shop/web/files/capture-web.pcap0", CONTROLLER);

    assertEquals(200, r.code());
    assertEquals("application/vnd.tcpdump.pcap", r.headers().get("content-type"));
    assertEquals("1000003", r.headers().get("content-length"));
    assertArrayEquals(bytes, r.body());
    HttpsProbe.Response previous =
        get("/v1/captures/shop/web/files/previous%2Fcapture-web.pcap0", CONTROLLER);
    assertEquals(200, previous.code());
    assertEquals("older", previous.text());
  }

  @Test
  void withoutAValidTokenNothingIsServed() throws Exception {
    HttpsProbe.Response none = get("/v1/captures/shop/web", null);
    assertEquals(401, none.code());
    assertEquals("Bearer", none.headers().get("www-authenticate"));
    assertTrue(message(none).contains("bearer token"), none.text());
    assertEquals(401, get("/v1/captures/shop/web/files/capture-web.pcap0", "forged").code());
  }

  @Test
  void userHeadersAsAFrontProxySendsThemAreNoCredentials() throws Exception {
    Map<String, String> forged =
        Map.of(
            "X-Remote-User", "system:serviceaccount:kube-system:podcapture-controller",
            "X-Remote-Group", "system:masters",
            "Impersonate-User", "system:serviceaccount:kube-system:podcapture-controller");
    try (HttpsProbe probe = HttpsProbe.connect(tlsDir, agent.agent.filesPort())) {
      HttpsProbe.Response r =
          probe
              .send("GET", "/v1/captures/shop/web/files/capture-web.pcap0", null, forged)
              .response();
      assertEquals(401, r.code());
    }
    try (HttpsProbe probe = HttpsProbe.connect(tlsDir, agent.agent.filesPort())) {
      assertEquals(
          403, probe.send("GET", "/v1/captures/shop/web", OTHER, forged).response().code());
    }
  }

  @Test
  void anotherServiceAccountIsForbidden() throws Exception {
    HttpsProbe.Response r = get("/v1/captures/shop/web/files/capture-web.pcap0", OTHER);
    assertEquals(403, r.code());
    assertEquals(
        "only system:serviceaccount:kube-system:podcapture-controller may read capture files",
        message(r));
  }

  @Test
  void aCaptureThisAgentDoesNotHoldIsNotFound() throws Exception {
    HttpsProbe.Response r = get("/v1/captures/shop/nosuch", CONTROLLER);
    assertEquals(404, r.code());
    assertEquals("no PodCapture shop/nosuch on this node", message(r));
    assertEquals(404, get("/v1/captures/other/web/files/capture-web.pcap0", CONTROLLER).code());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/v1/captures/shop/web/files/../../../../../../etc/passwd",
        "/v1/captures/shop/web/files/..%2F..%2F..%2Fetc%2Fpasswd",
        "/v1/captures/shop/web/files/%2e%2e%2fcapture-db.pcap0",
        "/v1/captures/shop/web/files//etc/passwd",
        "/v1/captures/shop/web/files/%2Fetc%2Fpasswd",
        "/v1/captures/shop/web/files/previous%2F..%2Fcapture-web.pcap0",
        "/v1/captures/shop/web/files/.capture-web.pid",
        "/v1/captures/shop/web/files/capture-web.pcap7",
        "/etc/passwd",
      })
  void pathsOutsideTheCapturesFilesAreNotFound(String path) throws Exception {
    HttpsProbe.Response r = get(path, CONTROLLER);
    assertEquals(404, r.code(), path);
    assertEquals("application/json", r.headers().get("content-type"));
    assertTrue(!r.text().contains("root:"), r.text());
  }

  @Test
  void aSymlinkInTheCaptureFolderIsNotFollowed() throws Exception {
    Files.createSymbolicLink(shop.resolve("capture-web.pcap1"), Path.of("/etc/passwd"));
    Files.writeString(shop.resolve("secret"), "not a capture");
    Files.createSymbolicLink(
        Files.createDirectories(shop.resolve("previous")).resolve("capture-web.pcap0"),
        shop.resolve("secret"));

    assertEquals(404, get("/v1/captures/shop/web/files/capture-web.pcap1", CONTROLLER).code());
    assertEquals(
        404, get("/v1/captures/shop/web/files/previous%2Fcapture-web.pcap0", CONTROLLER).code());
    JsonNode files = JSON.readTree(get("/v1/captures/shop/web", CONTROLLER).body()).path("files");
    assertEquals(1, files.size(), files.toString());
  }

  @Test
  void anotherCapturesFileIsNotFoundUnderThisCapture() throws Exception {
    agent.createPod("shop", "db", "2", List.of("198.51.100.11"));
    agent.awaitPhase("shop", "db", "Running", WAIT);
    await().atMost(WAIT).until(() -> Files.exists(shop.resolve("capture-db.pcap0")));

    HttpsProbe.Response r = get("/v1/captures/shop/web/files/capture-db.pcap0", CONTROLLER);

    assertEquals(404, r.code());
    assertEquals("PodCapture shop/web has no file capture-db.pcap0", message(r));
    assertEquals(200, get("/v1/captures/shop/db/files/capture-db.pcap0", CONTROLLER).code());
  }

  @Test
  void followSendsTheHeaderAtOnceThenPacketsAsTheyAreWrittenUntilTheCaptureStops()
      throws Exception {
    Path ring = shop.resolve("capture-web.pcap0");
    Files.write(ring, concat(pcapHeader(), packet(1, 60)));

    try (HttpsProbe follow = HttpsProbe.connect(tlsDir, agent.agent.filesPort())) {
      follow.get("/v1/captures/shop/web/follow", CONTROLLER);
      HttpsProbe.Response head = follow.head();
      assertEquals(200, head.code());
      assertEquals("application/vnd.tcpdump.pcap", head.headers().get("content-type"));
      assertEquals("chunked", head.headers().get("transfer-encoding"));
      assertArrayEquals(pcapHeader(), read(follow, 24));

      byte[] appended = concat(packet(2, 70), packet(3, 1500), packet(4, 42));
      Files.write(ring, appended, StandardOpenOption.APPEND);

      assertArrayEquals(appended, read(follow, appended.length));

      // the capture stops: the stream ends
      agent.removeAnnotation("shop", "web");
      follow.socket.setSoTimeout(20_000);
      assertEquals(null, follow.chunk());
    }
  }

  /** The next {@code n} bytes of a chunked body. */
  private static byte[] read(HttpsProbe probe, int n) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    while (got.size() < n) {
      byte[] chunk = probe.chunk();
      if (chunk == null) {
        throw new IOException("stream ended after " + got.size() + " of " + n + " bytes");
      }
      got.writeBytes(chunk);
    }
    return got.toByteArray();
  }

  /** A classic pcap header: little-endian, microseconds, LINUX_SLL2, snap length 262144. */
  static byte[] pcapHeader() {
    return ByteBuffer.allocate(24)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(0xa1b2c3d4)
        .putShort((short) 2)
        .putShort((short) 4)
        .putInt(0)
        .putInt(0)
        .putInt(262144)
        .putInt(276)
        .array();
  }

  /** One packet record of {@code length} bytes, numbered {@code n} (its time and its bytes). */
  static byte[] packet(int n, int length) {
    ByteBuffer b = ByteBuffer.allocate(16 + length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(1_780_000_000 + n).putInt(n * 1000).putInt(length).putInt(length);
    for (int i = 0; i < length; i++) {
      b.put((byte) (n + i));
    }
    return b.array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
