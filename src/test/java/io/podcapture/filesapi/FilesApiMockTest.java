package io.podcapture.filesapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.APIService;
import io.fabric8.kubernetes.api.model.APIServiceBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.controller.Names;
import io.podcapture.testing.MockApiServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The files API against fabric8's mock API server (SubjectAccessReviews and TokenRequests answered
 * by {@link ReviewingDispatcher}) and a {@link FakeAgent}: the whole path from a front-proxy
 * request to the agent's bytes and back.
 */
@Tag("integration")
class FilesApiMockTest {
  private static final String NS = "shop";
  private static final String P = FilesApiNames.PREFIX + "/namespaces/" + NS;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReviewingDispatcher dispatcher;
  private MockApiServer api;
  private KubernetesClient admin;
  private KubernetesClient controllerClient;
  private FilesApi files;
  private FakeAgent agent;
  private int port;
  private TlsMaterial frontProxyCa;
  private TlsMaterial proxy;
  private TlsMaterial serving;

  @BeforeEach
  void start() throws Exception {
    dispatcher = new ReviewingDispatcher();
    dispatcher.allowed.add("alice");
    api = new MockApiServer(dispatcher);
    admin = api.client();
    frontProxyCa = TestCertificates.ca("front-proxy-ca");
    proxy = TestCertificates.client(frontProxyCa, "front-proxy-client");
    admin
        .configMaps()
        .inNamespace("kube-system")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(FilesApiNames.FRONT_PROXY_CONFIGMAP)
                .withNamespace("kube-system")
                .endMetadata()
                .withData(
                    Map.of(
                        "requestheader-client-ca-file", frontProxyCa.certificatePem(),
                        "requestheader-allowed-names", "[\"front-proxy-client\"]",
                        "requestheader-username-headers", "[\"X-Remote-User\"]",
                        "requestheader-group-headers", "[\"X-Remote-Group\"]",
                        "requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]"))
                .build())
        .create();
    admin
        .resources(APIService.class)
        .resource(
            new APIServiceBuilder()
                .withNewMetadata()
                .withName(FilesApiNames.API_SERVICE)
                .endMetadata()
                .withNewSpec()
                .withGroup(FilesApiNames.GROUP)
                .withVersion(FilesApiNames.VERSION)
                .withGroupPriorityMinimum(1000)
                .withVersionPriority(15)
                .withNewService()
                .withName("podcapture-controller")
                .withNamespace("kube-system")
                .withPort(443)
                .endService()
                .endSpec()
                .build())
        .create();
    controllerClient = api.client("podcapture-controller-test");
    files =
        FilesApi.start(
            controllerClient,
            new FilesApi.Settings(
                "kube-system", "podcapture-controller", 0, 1, Duration.ofSeconds(3600)),
            Clock.systemUTC());
    port = files.started().get(30, TimeUnit.SECONDS);
    serving = secret(FilesApiNames.CONTROLLER_TLS_SECRET);
    agent = new FakeAgent(secret(FilesApiNames.AGENT_TLS_SECRET), "token-1");
    agentPod("podcapture-agent-n1", "n1", agent.port());
  }

  @AfterEach
  void stop() {
    if (files != null) {
      files.close();
    }
    if (agent != null) {
      agent.close();
    }
    if (controllerClient != null) {
      controllerClient.close();
    }
    admin.close();
    api.close();
  }

  private TlsMaterial secret(String name) throws Exception {
    Secret secret = admin.secrets().inNamespace("kube-system").withName(name).get();
    assertEquals("kubernetes.io/tls", secret.getType());
    return ServingCertificates.read(secret);
  }

  private void agentPod(String name, String node, int agentPort) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("kube-system")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName("agent")
            .withImage("podcapture")
            .addNewPort()
            .withName("files")
            .withContainerPort(agentPort)
            .endPort()
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPodIP("127.0.0.1")
            .withHostIP("127.0.0.1")
            .endStatus()
            .build();
    Pod created = admin.pods().inNamespace("kube-system").resource(pod).create();
    created.setStatus(pod.getStatus());
    admin.pods().inNamespace("kube-system").resource(created).updateStatus();
  }

  private PodCapture capture(String name, String pod, String node, String agentPod) {
    return capture(name, pod, node, agentPod, null);
  }

  private PodCapture capture(
      String name, String pod, String node, String agentPod, PodCaptureSet set) {
    PodCapture cr = new PodCapture();
    cr.getMetadata().setName(name);
    cr.getMetadata().setNamespace(NS);
    if (set != null) {
      cr.getMetadata().setLabels(Map.of(Names.LABEL_SET, set.getMetadata().getName()));
      cr.getMetadata()
          .setOwnerReferences(
              List.of(
                  new OwnerReferenceBuilder()
                      .withApiVersion("tcpdump.antrea.io/v1alpha1")
                      .withKind("PodCaptureSet")
                      .withName(set.getMetadata().getName())
                      .withUid(set.getMetadata().getUid())
                      .withController(true)
                      .build()));
    }
    cr.setSpec(new PodCaptureSpec(pod, 2, 1));
    PodCapture created = admin.resources(PodCapture.class).inNamespace(NS).resource(cr).create();
    PodCaptureStatus status = new PodCaptureStatus();
    status.setNode(node);
    status.setPhase("Running");
    status.setAgentPod(agentPod);
    status.setFilter("tcp port 80");
    status.setStartTime("2026-12-05T11:00:00Z");
    created.setStatus(status);
    return admin.resources(PodCapture.class).inNamespace(NS).resource(created).updateStatus();
  }

  private HttpClient client(TlsMaterial certificate) throws Exception {
    SSLContext tls = TestCertificates.clientContext(certificate, serving.certificate());
    return HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
  }

  private HttpRequest.Builder request(String path, String user) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
            .timeout(Duration.ofSeconds(20));
    if (user != null) {
      b.header("X-Remote-User", user).header("X-Remote-Group", "devs");
    }
    return b;
  }

  private HttpResponse<byte[]> get(String path, String user) throws Exception {
    return client(proxy).send(request(path, user).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonNode json(HttpResponse<byte[]> response) throws Exception {
    return JSON.readTree(response.body());
  }

  private static void assertStatus(HttpResponse<byte[]> response, int code, String reason)
      throws Exception {
    String body = new String(response.body(), StandardCharsets.UTF_8);
    assertEquals(code, response.statusCode(), body);
    JsonNode status = JSON.readTree(body);
    assertEquals("Status", status.path("kind").asText(), body);
    assertEquals(reason, status.path("reason").asText(), body);
    assertEquals(code, status.path("code").asInt(), body);
  }

  @Test
  void theSecretsAreMadeAndTheApiServiceCarriesTheControllersCertificate() throws Exception {
    String expected =
        Base64.getEncoder()
            .encodeToString(serving.certificatePem().getBytes(StandardCharsets.UTF_8));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                expected.equals(
                    admin
                        .resources(APIService.class)
                        .withName(FilesApiNames.API_SERVICE)
                        .get()
                        .getSpec()
                        .getCaBundle()));
    // A second replica reads the same Secrets instead of making its own.
    ServingCertificates other =
        new ServingCertificates(controllerClient, "kube-system", Clock.systemUTC());
    assertTrue(other.refresh());
    assertArrayEquals(
        serving.certificate().getEncoded(), other.controller().certificate().getEncoded());
  }

  @Test
  void discoveryNeedsOnlyTheFrontProxysCertificate() throws Exception {
    HttpResponse<byte[]> response = get(FilesApiNames.PREFIX, null);
    assertEquals(200, response.statusCode());
    assertEquals("APIResourceList", json(response).path("kind").asText());
    assertEquals(0, dispatcher.reviews.size());
  }

  @Test
  void aCapturesFilesAreListed() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    FakeAgent.Capture c = agent.capture(NS, "web", "n1");
    c.files.put("capture-web.pcap0", TestPcap.file((byte) 1, 100, 1_000, 2_000));
    c.files.put("capture-web.pcap1", TestPcap.file((byte) 2, 100, 3_000));
    HttpResponse<byte[]> response = get(P + "/podcapturefiles/web", "alice");
    assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
    JsonNode body = json(response);
    assertEquals("PodCaptureFiles", body.path("kind").asText());
    assertEquals(FilesApiNames.GROUP_VERSION, body.path("apiVersion").asText());
    assertEquals("web", body.path("metadata").path("name").asText());
    assertEquals("n1", body.path("node").asText());
    assertEquals("web-1", body.path("pod").asText());
    assertEquals("Running", body.path("phase").asText());
    assertEquals("capture-web.pcap0", body.path("files").get(0).path("name").asText());
    assertEquals(24 + 2 * 116, body.path("files").get(0).path("sizeBytes").asLong());
    assertEquals(2, body.path("files").size());
  }

  @Test
  void aFileDownloadsByteForByteAfterTheReviewAllowedIt() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    long[] times = new long[3000];
    for (int i = 0; i < times.length; i++) {
      times[i] = 1_000_000L + i;
    }
    byte[] file = TestPcap.file((byte) 7, 200, times);
    agent.capture(NS, "web", "n1").files.put("capture-web.pcap0", file);
    HttpResponse<byte[]> response =
        get(P + "/podcapturefiles/web/pcap?file=capture-web.pcap0", "alice");
    assertEquals(200, response.statusCode());
    assertEquals(FilesApiNames.PCAP_TYPE, response.headers().firstValue("Content-Type").orElse(""));
    assertArrayEquals(file, response.body());

    JsonNode review = dispatcher.reviews.get(dispatcher.reviews.size() - 1).path("spec");
    assertEquals("alice", review.path("user").asText());
    assertEquals("[\"devs\"]", review.path("groups").toString());
    JsonNode attributes = review.path("resourceAttributes");
    assertEquals(NS, attributes.path("namespace").asText());
    assertEquals("get", attributes.path("verb").asText());
    assertEquals(FilesApiNames.GROUP, attributes.path("group").asText());
    assertEquals("podcapturefiles", attributes.path("resource").asText());
    assertEquals("pcap", attributes.path("subresource").asText());
    assertEquals("web", attributes.path("name").asText());

    JsonNode token = dispatcher.tokenRequests.get(0).path("spec");
    assertEquals("[\"podcapture-agent\"]", token.path("audiences").toString());
    assertEquals(600, token.path("expirationSeconds").asInt());
  }

  @Test
  void aFileTheAgentDoesNotHaveIs404() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    agent.capture(NS, "web", "n1");
    assertStatus(
        get(P + "/podcapturefiles/web/pcap?file=capture-web.pcap9", "alice"), 404, "NotFound");
    assertStatus(
        get(P + "/podcapturefiles/web/pcap?file=..%2F..%2Fetc%2Fpasswd", "alice"),
        400,
        "BadRequest");
  }

  @Test
  void theMergedCaptureIsPcapngOfItsFilesInOrder() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    FakeAgent.Capture c = agent.capture(NS, "web", "n1");
    c.files.put("capture-web.pcap1", TestPcap.file((byte) 1, 60, 1_000_000, 2_000_000));
    c.files.put("capture-web.pcap0", TestPcap.file((byte) 2, 60, 3_000_000, 4_000_000));
    c.files.put("capture-web.pcap2", new byte[0]);
    HttpResponse<byte[]> response = get(P + "/podcapturefiles/web/merged", "alice");
    assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
    TestPcap.Pcapng merged = TestPcap.read(new java.io.ByteArrayInputStream(response.body()));
    assertEquals(List.of("shop/web-1"), merged.names());
    assertEquals(List.of("pod shop/web-1 on node n1, PodCapture shop/web"), merged.descriptions());
    assertEquals(
        List.of(1_000_000_000L, 2_000_000_000L, 3_000_000_000L, 4_000_000_000L),
        merged.packets().stream().map(TestPcap.Packet::nanos).toList());
    assertEquals(
        List.of((byte) 1, (byte) 1, (byte) 2, (byte) 2),
        merged.packets().stream().map(TestPcap.Packet::tag).toList());
    assertTrue(merged.comment().contains("PodCapture shop/web"), merged.comment());
    assertTrue(merged.comment().contains("tcp port 80"), merged.comment());
    assertTrue(merged.comment().contains("2026-12-05T11:00:00Z"), merged.comment());
    assertTrue(merged.comment().contains("running"), merged.comment());
  }

  @Test
  void aSetsMergedFileHasOneInterfacePerChildInTimeOrder() throws Exception {
    FakeAgent second = new FakeAgent(secret(FilesApiNames.AGENT_TLS_SECRET), "token-1");
    try {
      agentPod("podcapture-agent-n2", "n2", second.port());
      PodCaptureSet set = new PodCaptureSet();
      set.getMetadata().setName("shop-web");
      set.getMetadata().setNamespace(NS);
      PodCaptureSetSpec spec = new PodCaptureSetSpec();
      spec.setSelector(
          new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
              .withMatchLabels(Map.of("app", "web"))
              .build());
      set.setSpec(spec);
      set = admin.resources(PodCaptureSet.class).inNamespace(NS).resource(set).create();
      capture("shop-web-a", "web-a", "n1", "kube-system/podcapture-agent-n1", set);
      capture("shop-web-b", "web-b", "n2", "kube-system/podcapture-agent-n2", set);
      capture("shop-web-c", "web-c", "n2", null, set);
      agent
          .capture(NS, "shop-web-a", "n1")
          .files
          .put("a0", TestPcap.file((byte) 'a', 40, 1_000, 3_000, 5_000));
      FakeAgent.Capture b = second.capture(NS, "shop-web-b", "n2");
      b.files.put("b0", TestPcap.file((byte) 'b', 40, 2_000));
      b.files.put("b1", TestPcap.file((byte) 'b', 40, 4_000, 6_000));

      HttpResponse<byte[]> listing = get(P + "/podcapturesetfiles/shop-web", "alice");
      assertEquals(200, listing.statusCode(), new String(listing.body(), StandardCharsets.UTF_8));
      JsonNode children = json(listing).path("children");
      assertEquals(3, children.size());
      assertEquals("web-b", children.get(1).path("pod").asText());
      assertEquals("n2", children.get(1).path("node").asText());
      assertEquals(2, children.get(1).path("files").size());

      HttpResponse<byte[]> response = get(P + "/podcapturesetfiles/shop-web/merged", "alice");
      assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
      TestPcap.Pcapng merged = TestPcap.read(new java.io.ByteArrayInputStream(response.body()));
      assertEquals(List.of("shop/web-a", "shop/web-b"), merged.names());
      assertEquals(
          List.of(
              "shop/web-a", "shop/web-b", "shop/web-a", "shop/web-b", "shop/web-a", "shop/web-b"),
          merged.packets().stream().map(TestPcap.Packet::interfaceName).toList());
      assertEquals(
          List.of(1_000_000L, 2_000_000L, 3_000_000L, 4_000_000L, 5_000_000L, 6_000_000L),
          merged.packets().stream().map(TestPcap.Packet::nanos).toList());
      assertTrue(merged.comment().contains("PodCaptureSet shop/shop-web"), merged.comment());
      assertTrue(merged.comment().contains("shop/web-b (node n2"), merged.comment());
      JsonNode review = dispatcher.reviews.get(dispatcher.reviews.size() - 1).path("spec");
      assertEquals(
          "podcapturesetfiles", review.path("resourceAttributes").path("resource").asText());
      assertEquals("merged", review.path("resourceAttributes").path("subresource").asText());
    } finally {
      second.close();
    }
  }

  @Test
  void aSetWithMoreCapturesOnOneNodeThanItsAgentStreamsAtOnceIsRefusedUpFront() throws Exception {
    PodCaptureSet set = new PodCaptureSet();
    set.getMetadata().setName("big");
    set.getMetadata().setNamespace(NS);
    PodCaptureSetSpec spec = new PodCaptureSetSpec();
    spec.setSelector(
        new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
            .withMatchLabels(Map.of("app", "big"))
            .build());
    set.setSpec(spec);
    set = admin.resources(PodCaptureSet.class).inNamespace(NS).resource(set).create();
    for (int i = 0; i < FileRoutes.AGENT_MAX_CONCURRENT + 1; i++) {
      capture("big-" + i, "big-" + i, "n1", "kube-system/podcapture-agent-n1", set);
      agent.capture(NS, "big-" + i, "n1").files.put("f0", TestPcap.file((byte) i, 10, 1_000 + i));
    }
    HttpResponse<byte[]> response = get(P + "/podcapturesetfiles/big/merged", "alice");
    assertStatus(response, 503, "ServiceUnavailable");
    String message = json(response).path("message").asText();
    assertTrue(message.contains("9 captures with files on node n1"), message);
    assertTrue(
        agent.requests.stream().noneMatch(r -> r.contains("/files/")), agent.requests.toString());
  }

  @Test
  void aUserTheReviewDeniesGets403AndTheAgentIsNeverAsked() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    agent.capture(NS, "web", "n1").files.put("capture-web.pcap0", TestPcap.file((byte) 1, 10, 1));
    HttpResponse<byte[]> response =
        get(P + "/podcapturefiles/web/pcap?file=capture-web.pcap0", "mallory");
    assertStatus(response, 403, "Forbidden");
    assertTrue(json(response).path("message").asText().contains("mallory"));
    assertEquals(List.of(), agent.requests);
  }

  @Test
  void withoutAClientCertificateItIs401WhateverTheHeadersSay() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    HttpResponse<byte[]> response =
        client(null)
            .send(
                request(P + "/podcapturefiles/web", "alice").build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertStatus(response, 401, "Unauthorized");
    TlsMaterial stranger =
        TestCertificates.client(TestCertificates.ca("other"), "front-proxy-client");
    assertStatus(
        client(stranger)
            .send(
                request(P + "/podcapturefiles/web", "alice").build(),
                HttpResponse.BodyHandlers.ofByteArray()),
        401,
        "Unauthorized");
    assertEquals(0, dispatcher.reviews.size());
  }

  @Test
  void aCaptureWithoutAnAgentOrWithoutAnObjectIs404() throws Exception {
    capture("pending", "web-1", null, null);
    HttpResponse<byte[]> response = get(P + "/podcapturefiles/pending/merged", "alice");
    assertStatus(response, 404, "NotFound");
    assertTrue(
        json(response).path("message").asText().contains("no agent"), json(response).toString());
    assertNotFound(
        "/podcapturefiles/missing",
        "podcapturefiles.files.tcpdump.antrea.io \"missing\" not found: there is no PodCapture"
            + " shop/missing");
    assertNotFound(
        "/podcapturesetfiles/missing/merged",
        "podcapturesetfiles.files.tcpdump.antrea.io \"missing\" not found: there is no"
            + " PodCaptureSet shop/missing");
  }

  private void assertNotFound(String path, String message) throws Exception {
    HttpResponse<byte[]> response = get(P + path, "alice");
    assertStatus(response, 404, "NotFound");
    assertEquals(message, json(response).path("message").asText());
  }

  @Test
  void anAgentThatCannotBeReachedIs503NamingIt() throws Exception {
    java.net.ServerSocket closed = new java.net.ServerSocket(0);
    int deadPort = closed.getLocalPort();
    closed.close();
    agentPod("podcapture-agent-n9", "n9", deadPort);
    capture("far", "web-9", "n9", "kube-system/podcapture-agent-n9");
    HttpResponse<byte[]> response = get(P + "/podcapturefiles/far", "alice");
    assertStatus(response, 503, "ServiceUnavailable");
    String message = json(response).path("message").asText();
    assertTrue(message.contains("podcapture-agent-n9") && message.contains("n9"), message);
  }

  @Test
  void aReaderThatStopsReadingIsCutOffAfterTheStallLimit() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    FakeAgent.Capture c = agent.capture(NS, "web", "n1");
    byte[] chunk = TestPcap.packet(1, 60_000, (byte) 3);
    for (int i = 0; i < 2_000; i++) {
      c.live.add(chunk); // 120 MB if it were all read: far more than any socket buffer holds
    }
    TlsMaterial agentTls = secret(FilesApiNames.AGENT_TLS_SECRET);
    FrontProxyAuthenticator authenticator = new FrontProxyAuthenticator(controllerClient);
    authenticator.refresh();
    try (FilesApiServer server =
        FilesApiServer.start(
            new FilesApiServer.Settings(0, 4, Duration.ofSeconds(3600), Duration.ofSeconds(2)),
            () -> serving,
            authenticator,
            new AccessReviewer(controllerClient),
            new AgentFileClient(
                controllerClient,
                "kube-system",
                "podcapture-controller",
                agentTls::certificate,
                Clock.systemUTC()),
            controllerClient)) {
      SSLContext tls = TestCertificates.clientContext(proxy, serving.certificate());
      try (javax.net.ssl.SSLSocket socket =
          (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket()) {
        socket.setReceiveBufferSize(4096);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()));
        socket
            .getOutputStream()
            .write(
                ("GET "
                        + P
                        + "/podcapturefiles/web/log HTTP/1.1\r\nHost: localhost\r\n"
                        + "X-Remote-User: alice\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        // Never read: the server's write blocks once the buffers are full, then is cut off.
        await().atMost(Duration.ofSeconds(5)).until(() -> server.running() == 1);
        await().atMost(Duration.ofSeconds(15)).until(() -> server.running() == 0);
        assertTrue(c.live.size() > 1_000, "the agent's stream was closed, not drained");
      }
    }
  }

  @Test
  void theStreamPassesBytesThroughAsTheyComeAndHoldsASlot() throws Exception {
    capture("web", "web-1", "n1", "kube-system/podcapture-agent-n1");
    FakeAgent.Capture c = agent.capture(NS, "web", "n1");
    HttpResponse<InputStream> response =
        client(proxy)
            .send(
                request(P + "/podcapturefiles/web/log", "alice").build(),
                HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, response.statusCode());
    try (InputStream in = response.body()) {
      assertTimeoutPreemptively(
          Duration.ofSeconds(10), () -> assertArrayEquals(TestPcap.header(), in.readNBytes(24)));
      byte[] first = TestPcap.packet(5_000, 30, (byte) 9);
      c.live.add(first);
      assertTimeoutPreemptively(
          Duration.ofSeconds(10), () -> assertArrayEquals(first, in.readNBytes(first.length)));

      // The one slot (FILES_API_MAX_CONCURRENT=1 here) is taken by this stream.
      assertStatus(get(P + "/podcapturefiles/web", "alice"), 429, "TooManyRequests");

      byte[] second = TestPcap.packet(6_000, 30, (byte) 10);
      c.live.add(second);
      c.live.add(FakeAgent.END);
      ByteArrayOutputStream rest = new ByteArrayOutputStream();
      assertTimeoutPreemptively(Duration.ofSeconds(10), () -> in.transferTo(rest));
      assertArrayEquals(second, rest.toByteArray());
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> get(P + "/podcapturefiles/web", "alice").statusCode() == 200);
  }
}
