package io.podcapture.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.controller.Names;
import io.podcapture.sets.ChildNames;
import io.podcapture.testing.CertificateUser;
import io.podcapture.testing.Command;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControlPlane.AgentIdentity;
import io.podcapture.testing.ControllerJvm;
import io.podcapture.testing.Curl;
import io.podcapture.testing.FilesApi;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Packets;
import io.podcapture.testing.Requirements;
import io.podcapture.testing.User;
import java.io.DataInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Captures read through the Kubernetes API with namespace rights only (issue 22), against the real
 * API server and its aggregator (front proxy configured by controlplane/up.sh): the controller jar
 * serves the files API (deploy/files-api.yaml, registered through {@link FilesApi}), two real agent
 * jars on two nodes capture network-namespace Pods with real tcpdump and serve their files on their
 * file ports, and a person who holds podcapture-viewer in namespace shop, and nothing else, reads
 * them with kubectl.
 */
@Tag("cluster")
class FilesApiClusterTest {
  private static final String SHOP = "shop";
  private static final String BANK = "bank";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  private static ControlPlane plane;
  private static User admin;
  private static FilesApi filesApi;
  private static ControllerJvm controller;
  private static CertificateUser viewer;
  private static final ClusterNode[] nodes = new ClusterNode[2];
  private static final NetnsPod[] netns = new NetnsPod[4];

  @BeforeAll
  static void start() throws Exception {
    plane = ControlPlane.shared();
    Requirements.commands("tshark");
    admin = new User(plane.admin());
    plane.namespace(SHOP);
    plane.namespace(BANK);
    AgentIdentity a = plane.agentIdentity("files-a", dir);
    AgentIdentity b = plane.agentIdentity("files-b", dir);
    // Node b's agent starts before the controller has made the agents' certificate (if no
    // controller of an earlier class made it): it captures at once and serves files later.
    nodes[1] = ClusterNode.start(plane, b, b.kubeconfig(), dir);

    filesApi = FilesApi.register(plane);
    controller = plane.startLeadingController("files-controller", dir, filesApi.controllerEnv());
    assertTrue(controller.awaitLog("files API on port " + filesApi.port(), WAIT), controller.log());
    String caBundle = filesApi.awaitAvailable(Duration.ofSeconds(60));
    System.out.println("files API available, caBundle of " + caBundle.length() + " base64 chars");

    plane.mountAgentTls(a);
    nodes[0] = ClusterNode.start(plane, a, a.kubeconfig(), dir);
    plane.mountAgentTls(b);
    for (ClusterNode node : nodes) {
      // the agent looks for its certificate every 10 s
      await()
          .atMost(WAIT)
          .until(() -> node.agent().log().contains("files server on port " + port(node)));
    }

    for (int i = 0; i < netns.length; i++) {
      netns[i] = NetnsPod.create();
    }
    pod(SHOP, "web", nodes[0], netns[0], Map.of());
    pod(BANK, "vault", nodes[0], netns[1], Map.of());
    pod(SHOP, "api-0", nodes[0], netns[2], Map.of("app", "api"));
    pod(SHOP, "api-1", nodes[1], netns[3], Map.of("app", "api"));

    viewer = CertificateUser.create(plane, "dana", List.of("shop-developers"), dir);
    plane
        .kubectl(
            "create",
            "rolebinding",
            "dana-podcapture-viewer",
            "--clusterrole=podcapture-viewer",
            "--user=dana",
            "--namespace=" + SHOP)
        .orThrow();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      // The APIService first: registered and not served, it would fail discovery.
      if (filesApi != null) {
        filesApi.close();
      }
      if (controller != null) {
        controller.close();
      }
      for (ClusterNode node : nodes) {
        if (node != null) {
          node.close();
        }
      }
    } finally {
      for (NetnsPod pod : netns) {
        if (pod != null) {
          pod.close();
        }
      }
    }
  }

  // ---- a viewer in shop

  @Test
  void discoveryThroughTheApiServerListsTheFileResources() {
    String resources =
        plane
            .kubectlAs(
                viewer.kubeconfig(), "api-resources", "--api-group=" + FilesApi.GROUP, "-o", "name")
            .orThrow()
            .output();

    assertTrue(resources.contains("podcapturefiles." + FilesApi.GROUP), resources);
    assertTrue(resources.contains("podcapturesetfiles." + FilesApi.GROUP), resources);
  }

  @Test
  void aViewerInShopListsAndDownloadsTheFilesOfAShopCaptureByteForByte() throws Exception {
    List<Path> onDisk = completedCapture(SHOP, "done", "web", netns[0], 20);

    JsonNode listing = JSON.readTree(get(viewer, files(SHOP, "podcapturefiles", "done", "")));
    assertEquals("PodCaptureFiles", listing.path("kind").asText(), listing.toString());
    assertEquals(nodes[0].name(), listing.path("node").asText(), listing.toString());
    assertEquals("web", listing.path("pod").asText(), listing.toString());
    Map<String, Long> listed = new TreeMap<>();
    listing
        .path("files")
        .forEach(f -> listed.put(f.path("name").asText(), f.path("sizeBytes").asLong()));
    Map<String, Long> disk = new TreeMap<>();
    for (Path file : onDisk) {
      disk.put(file.getFileName().toString(), Files.size(file));
    }
    assertEquals(disk, listed, "the listing is the capture's files on its node");

    for (Path file : onDisk) {
      byte[] downloaded =
          get(viewer, files(SHOP, "podcapturefiles", "done", "/pcap?file=" + file.getFileName()));
      System.out.printf("downloaded %s: %d bytes%n", file.getFileName(), downloaded.length);
      assertArrayEquals(Files.readAllBytes(file), downloaded, file.getFileName().toString());
    }

    // One capture's files merged: one interface, named after the Pod, every packet.
    Path merged = dir.resolve("done.pcapng");
    Files.write(merged, get(viewer, files(SHOP, "podcapturefiles", "done", "/merged")));
    List<Packets.Frame> frames = Packets.tshark(merged);
    assertEquals(20, frames.size());
    assertTrue(frames.stream().allMatch(f -> f.iface().equals(SHOP + "/web")), frames.toString());
  }

  @Test
  void aViewerInShopStreamsARunningCaptureLive() throws Exception {
    createCapture(SHOP, "live", "web", null);
    admin.awaitPhase(SHOP, "live", Names.PHASE_RUNNING, WAIT);
    await().atMost(WAIT).until(() -> !nodes[0].files(SHOP, "live").isEmpty());
    List<byte[]> podAddresses = new ArrayList<>();
    for (String ip : netns[0].ips()) {
      podAddresses.add(InetAddress.getByName(ip).getAddress());
    }

    Process stream =
        kubectlRaw(viewer, files(SHOP, "podcapturefiles", "live", "/log"))
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .start();
    try {
      long asked = System.nanoTime();
      DataInputStream in = new DataInputStream(stream.getInputStream());
      Packets.PcapStream header =
          CompletableFuture.supplyAsync(() -> Packets.PcapStream.open(in))
              .get(30, TimeUnit.SECONDS);
      System.out.printf(
          "stream: pcap header after %d ms (link type %d)%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked), header.linkType());
      assertEquals(276, header.linkType(), "LINUX_SLL2, as tcpdump -i any writes it");

      // Traffic from now on: the stream must carry it while the capture runs.
      CompletableFuture<NetnsPod.PingResult> pings =
          CompletableFuture.supplyAsync(
              () -> netns[0].ping(Ping.count(40).interval(Duration.ofMillis(50))));
      long firstPing = System.nanoTime();
      List<byte[]> packets =
          CompletableFuture.supplyAsync(() -> header.readPackets(in, 10)).get(30, TimeUnit.SECONDS);
      System.out.printf(
          "stream: 10 packets within %d ms of the first ping%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - firstPing));
      for (byte[] packet : packets) {
        assertTrue(
            podAddresses.stream().anyMatch(address -> contains(packet, address)),
            "a packet of the Pod " + netns[0].ips());
      }
      pings.get(30, TimeUnit.SECONDS);
    } finally {
      stream.destroy();
      stream.waitFor(10, TimeUnit.SECONDS);
      admin.deletePodCapture(SHOP, "live");
    }
  }

  /**
   * Denied by the controller's SubjectAccessReview, answered through the API server: 403 with a
   * Status, as for any resource the user may not get. The same capture is there for a user who may
   * (the cluster admin), so the 403 hides nothing but the right.
   */
  @Test
  void theViewerIsRefusedWith403ACaptureInAnotherNamespace() throws Exception {
    completedCapture(BANK, "vault", "vault", netns[1], 4);

    Command.Result kubectl =
        plane.kubectlAs(
            viewer.kubeconfig(),
            "get",
            "--raw",
            files(BANK, "podcapturefiles", "vault", "/pcap?file=capture-vault.pcap"));
    assertNotEquals(0, kubectl.exitCode());
    assertTrue(kubectl.output().contains("Forbidden"), kubectl.output());
    System.out.println("kubectl: " + kubectl.output().strip());

    for (String subresource : List.of("", "/pcap?file=capture-vault.pcap", "/merged", "/log")) {
      Curl.Response answer =
          curl(
              viewerCert(),
              plane.apiServerUrl() + files(BANK, "podcapturefiles", "vault", subresource));
      assertEquals(403, answer.code(), subresource + ": " + answer.body());
      JsonNode status = JSON.readTree(answer.body());
      assertEquals("Status", status.path("kind").asText(), answer.body());
      assertEquals("Forbidden", status.path("reason").asText(), answer.body());
    }
    Curl.Response set =
        curl(
            viewerCert(),
            plane.apiServerUrl() + files(BANK, "podcapturesetfiles", "any", "/merged"));
    assertEquals(403, set.code(), set.body());

    Curl.Response asAdmin =
        curl(
            List.of(
                "--cert",
                plane.pki().resolve("admin.crt").toString(),
                "--key",
                plane.pki().resolve("admin.key").toString(),
                "--cacert",
                plane.caCert().toString()),
            plane.apiServerUrl() + files(BANK, "podcapturefiles", "vault", ""));
    assertEquals(200, asAdmin.code(), asAdmin.body());
  }

  // ---- what the agent and the controller refuse

  /**
   * Straight to the agent's file port (TLS not verified: these are the server's refusals): no
   * token, a forged user header, tokens that are not the controller's for the agent, and, with the
   * controller's real token, every path that leads out of the capture's files.
   */
  @Test
  void theAgentServesOnlyTheControllerAndOnlyTheCapturesOwnFiles() throws Exception {
    Path sealed = completedCapture(SHOP, "sealed", "web", netns[0], 5).get(0);
    String name = sealed.getFileName().toString();
    String agent = "https://127.0.0.1:" + port(nodes[0]);
    String file = agent + "/v1/captures/shop/sealed/files/" + name;
    String controllerToken =
        token("kube-system", "podcapture-controller", List.of("podcapture-agent"));

    assertEquals(401, curl(List.of(), file).code(), "no token");
    assertEquals(
        401,
        curl(
                List.of(
                    "-H",
                    "X-Remote-User: system:serviceaccount:kube-system:podcapture-controller",
                    "-H",
                    "X-Remote-Group: system:masters"),
                file)
            .code(),
        "a forged user header");
    assertEquals(401, curl(bearer("not-a-token"), file).code(), "a token nobody issued");
    assertEquals(
        401,
        curl(bearer(token("kube-system", "podcapture-controller", List.of())), file).code(),
        "the controller's token for the API server, not for the agent");
    assertEquals(
        403,
        curl(bearer(token(SHOP, "default", List.of("podcapture-agent"))), file).code(),
        "a valid token of another ServiceAccount");

    Curl.Response real = curl(bearer(controllerToken), file);
    assertEquals(200, real.code(), real.body());
    assertEquals(Files.size(sealed), real.bytes().length);

    Map<String, String> outside = new LinkedHashMap<>();
    outside.put("../ encoded", "..%2F..%2F..%2F..%2Fetc%2Fpasswd");
    outside.put("../ raw", "../../../../etc/passwd");
    outside.put("absolute", "%2Fetc%2Fpasswd");
    outside.put("previous/../", "previous%2F..%2F..%2Fbank%2Fcapture-vault.pcap");
    outside.put("another namespace's", "..%2Fbank%2Fcapture-vault.pcap");
    outside.put("another capture's", "capture-done.pcap");
    outside.put("the agent's kubeconfig", "..%2F..%2Fagent-" + nodes[0].name() + ".kubeconfig");
    for (Map.Entry<String, String> path : outside.entrySet()) {
      Curl.Response answer =
          curl(
              bearer(controllerToken), agent + "/v1/captures/shop/sealed/files/" + path.getValue());
      assertEquals(404, answer.code(), path.getKey() + ": " + answer.body());
      assertFalse(answer.body().contains("root:"), path.getKey());
    }
    assertEquals(
        404,
        curl(bearer(controllerToken), agent + "/v1/captures/shop/nothing-here").code(),
        "a capture that does not exist");

    // A symlink planted in the capture's folder, under a name of the capture's own files, and
    // under its own file's name in place of the file.
    Path folder = sealed.getParent();
    Files.createSymbolicLink(folder.resolve("capture-sealed.pcap7"), Path.of("/etc/passwd"));
    Files.delete(sealed);
    Files.createSymbolicLink(sealed, Path.of("/etc/passwd"));
    for (String planted : List.of("capture-sealed.pcap7", name)) {
      Curl.Response answer =
          curl(bearer(controllerToken), agent + "/v1/captures/shop/sealed/files/" + planted);
      assertEquals(404, answer.code(), planted + ": " + answer.body());
      assertFalse(answer.body().contains("root:"), planted);
    }
    Curl.Response listing = curl(bearer(controllerToken), agent + "/v1/captures/shop/sealed");
    assertEquals(200, listing.code(), listing.body());
    assertFalse(
        listing.body().contains("capture-sealed.pcap"), "no symlink listed: " + listing.body());
    // Through the API server too: what the agent will not serve, the viewer does not get.
    Curl.Response viaApi =
        curl(
            viewerCert(),
            plane.apiServerUrl() + files(SHOP, "podcapturefiles", "sealed", "/pcap?file=" + name));
    assertEquals(404, viaApi.code(), viaApi.body());
    Curl.Response escape =
        curl(
            viewerCert(),
            plane.apiServerUrl()
                + files(SHOP, "podcapturefiles", "done", "/pcap?file=..%2F..%2F..%2Fetc%2Fpasswd"));
    // The controller refuses a name no listing gives (400) before it asks any agent.
    assertTrue(escape.code() == 400 || escape.code() == 404, escape.code() + " " + escape.body());
    assertFalse(escape.body().contains("root:"));
  }

  /**
   * Straight to the controller's files API port, past the API server: user headers count only on a
   * connection with the front proxy's client certificate, so without it (or with another CA's
   * certificate, or the front proxy CA's under a name not allowed) the request is not
   * authenticated.
   */
  @Test
  void theControllerTrustsUserHeadersOnlyFromTheFrontProxy() throws Exception {
    String url = "https://127.0.0.1:" + filesApi.port() + files(SHOP, "podcapturefiles", "web", "");
    List<String> forged =
        List.of("-H", "X-Remote-User: dana", "-H", "X-Remote-Group: system:masters");
    CertificateUser intruder =
        CertificateUser.create(plane, "front-proxy-ca", "intruder", List.of(), dir);

    Curl.Response none = curl(forged, url);
    assertEquals(401, none.code(), "no client certificate: " + none.error() + " " + none.body());
    List<String> clusterCa = new ArrayList<>(forged);
    clusterCa.addAll(
        List.of(
            "--cert",
            plane.pki().resolve("admin.crt").toString(),
            "--key",
            plane.pki().resolve("admin.key").toString()));
    Curl.Response cluster = curl(clusterCa, url);
    assertEquals(
        401, cluster.code(), "a certificate of the cluster CA, not the front proxy's: " + cluster);
    List<String> notAllowed = new ArrayList<>(forged);
    notAllowed.addAll(
        List.of("--cert", intruder.certificate().toString(), "--key", intruder.key().toString()));
    Curl.Response intruding = curl(notAllowed, url);
    assertEquals(
        401,
        intruding.code(),
        "the front proxy CA's certificate, but not a requestheader-allowed-names: " + intruding);
  }

  // ---- a set on two nodes, merged

  @Test
  void theMergedPcapngOfASetOnTwoNodesHasEveryPacketOnceInTimeOrderOnItsPodsInterface()
      throws Exception {
    createSet("api", "api", 15);
    String child0 = ChildNames.of("api", "api-0");
    String child1 = ChildNames.of("api", "api-1");
    for (String child : List.of(child0, child1)) {
      admin.awaitPhase(SHOP, child, Names.PHASE_RUNNING, WAIT);
    }
    await().atMost(WAIT).until(() -> !nodes[0].files(SHOP, child0).isEmpty());
    await().atMost(WAIT).until(() -> !nodes[1].files(SHOP, child1).isEmpty());
    // Both Pods at once, so that the two nodes' packets interleave in time.
    CompletableFuture<NetnsPod.PingResult> p0 =
        CompletableFuture.supplyAsync(
            () -> netns[2].ping(Ping.count(30).interval(Duration.ofMillis(20))));
    CompletableFuture<NetnsPod.PingResult> p1 =
        CompletableFuture.supplyAsync(
            () -> netns[3].ping(Ping.count(30).interval(Duration.ofMillis(20))));
    assertEquals(30, p0.get(30, TimeUnit.SECONDS).received());
    assertEquals(30, p1.get(30, TimeUnit.SECONDS).received());
    // The window closes: the children complete and their files are final.
    await()
        .atMost(Duration.ofSeconds(45))
        .until(
            () -> {
              PodCaptureSet set =
                  plane
                      .admin()
                      .resources(PodCaptureSet.class)
                      .inNamespace(SHOP)
                      .withName("api")
                      .get();
              return set.getStatus() != null
                  && Names.PHASE_COMPLETED.equals(set.getStatus().getPhase());
            });
    admin.awaitPhase(SHOP, child0, Names.PHASE_COMPLETED, WAIT);
    admin.awaitPhase(SHOP, child1, Names.PHASE_COMPLETED, WAIT);

    JsonNode listing = JSON.readTree(get(viewer, files(SHOP, "podcapturesetfiles", "api", "")));
    assertEquals("PodCaptureSetFiles", listing.path("kind").asText(), listing.toString());

    Path merged = dir.resolve("api.pcapng");
    Files.write(merged, get(viewer, files(SHOP, "podcapturesetfiles", "api", "/merged")));
    List<Packets.Frame> frames = Packets.tshark(merged);
    System.out.printf("merged set: %d packets, %d bytes%n", frames.size(), Files.size(merged));

    Map<String, List<BigDecimal>> expected = new TreeMap<>();
    expected.put(SHOP + "/api-0", Packets.tcpdumpTimes(nodes[0].files(SHOP, child0)));
    expected.put(SHOP + "/api-1", Packets.tcpdumpTimes(nodes[1].files(SHOP, child1)));
    Map<String, List<BigDecimal>> actual = new TreeMap<>();
    for (Packets.Frame frame : frames) {
      actual.computeIfAbsent(frame.iface(), k -> new ArrayList<>()).add(frame.time());
    }
    assertEquals(expected.keySet(), actual.keySet(), "one interface per Pod, named after it");
    for (String iface : expected.keySet()) {
      List<BigDecimal> want = expected.get(iface);
      List<BigDecimal> got = actual.get(iface);
      assertTrue(
          want.size() >= 60, iface + ": 30 echo requests and 30 replies, got " + want.size());
      assertEquals(want.size(), got.size(), iface + ": every packet once");
      for (int i = 0; i < want.size(); i++) {
        assertEquals(0, want.get(i).compareTo(got.get(i)), iface + " packet " + i);
      }
    }
    assertEachPacketIsTheEarliestOfTheHeads(frames, actual);
    for (Packets.Frame frame : frames) {
      String node = frame.iface().endsWith("api-0") ? nodes[0].name() : nodes[1].name();
      assertTrue(frame.description().contains("on node " + node), frame.toString());
    }
    long switches = 0;
    for (int i = 1; i < frames.size(); i++) {
      if (!frames.get(i).iface().equals(frames.get(i - 1).iface())) {
        switches++;
      }
    }
    System.out.printf("merged set: the interface changes %d times in time order%n", switches);
    assertTrue(switches > 2, "the two Pods' packets interleave");
  }

  /**
   * The merge's time order. One recording's own timestamps may step back by microseconds (the
   * kernel stamps packets on different CPUs; tcpdump writes them in the order it reads them), and
   * the merge keeps each recording's order, as mergecap does. What it decides is which recording
   * goes next: each packet written is no later than the next unwritten packet of every other
   * recording.
   */
  private static void assertEachPacketIsTheEarliestOfTheHeads(
      List<Packets.Frame> frames, Map<String, List<BigDecimal>> byInterface) {
    Map<String, Integer> next = new TreeMap<>();
    byInterface.keySet().forEach(iface -> next.put(iface, 0));
    for (int i = 0; i < frames.size(); i++) {
      Packets.Frame frame = frames.get(i);
      for (Map.Entry<String, Integer> head : next.entrySet()) {
        List<BigDecimal> other = byInterface.get(head.getKey());
        if (head.getKey().equals(frame.iface()) || head.getValue() >= other.size()) {
          continue;
        }
        BigDecimal waiting = other.get(head.getValue());
        assertTrue(
            frame.time().compareTo(waiting) <= 0,
            "time order at packet "
                + i
                + ": "
                + frame
                + " written while "
                + head.getKey()
                + "'s packet at "
                + waiting
                + " waited");
      }
      next.merge(frame.iface(), 1, Integer::sum);
    }
  }

  // ---- helpers: the cluster

  private static int port(ClusterNode node) {
    return node.identity.filesPort();
  }

  private static Pod pod(
      String namespace, String name, ClusterNode node, NetnsPod ns, Map<String, String> labels) {
    Pod pod = ControlPlane.boundPod(namespace, name, node.name()).build();
    pod.getMetadata().setLabels(labels);
    return plane.runningPod(pod, ns.ips());
  }

  private static void createCapture(String namespace, String name, String pod, Integer packets) {
    PodCapture capture = new PodCapture();
    capture.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    PodCaptureSpec spec = new PodCaptureSpec(pod, 1, 1);
    spec.setPacketCount(packets);
    capture.setSpec(spec);
    admin.createPodCapture(capture);
  }

  /** A PodCapture of {@code packets} packets of the Pod's pings, Completed; its files on disk. */
  private static List<Path> completedCapture(
      String namespace, String name, String pod, NetnsPod ns, int packets) throws Exception {
    createCapture(namespace, name, pod, packets);
    admin.awaitPhase(namespace, name, Names.PHASE_RUNNING, WAIT);
    ClusterNode node = nodes[0];
    await().atMost(WAIT).until(() -> !node.files(namespace, name).isEmpty());
    ns.ping(Ping.count(packets).interval(Duration.ofMillis(20)));
    admin.awaitPhase(namespace, name, Names.PHASE_COMPLETED, WAIT);
    List<Path> files = node.files(namespace, name);
    assertEquals(packets, Packets.tcpdumpTimes(files).size(), name + ": " + files);
    return files;
  }

  private static void createSet(String name, String app, int durationSeconds) {
    PodCaptureSet set = new PodCaptureSet();
    set.setMetadata(new ObjectMetaBuilder().withNamespace(SHOP).withName(name).build());
    PodCaptureSetSpec spec = new PodCaptureSetSpec();
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", app)).build());
    spec.setDurationSeconds(durationSeconds);
    set.setSpec(spec);
    plane.admin().resources(PodCaptureSet.class).inNamespace(SHOP).resource(set).create();
  }

  /** A token of the ServiceAccount from the TokenRequest API; no audience: the API server's. */
  private static String token(String namespace, String account, List<String> audiences) {
    return plane
        .admin()
        .serviceAccounts()
        .inNamespace(namespace)
        .withName(account)
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withAudiences(audiences)
                .withExpirationSeconds(600L)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  // ---- helpers: HTTP

  /** The path of a file resource: {@code PREFIX/namespaces/NS/RESOURCE/NAME<rest>}. */
  private static String files(String namespace, String resource, String name, String rest) {
    return FilesApi.PREFIX + "/namespaces/" + namespace + "/" + resource + "/" + name + rest;
  }

  /** {@code kubectl get --raw PATH} as {@code user}, standard error to the log. */
  private static ProcessBuilder kubectlRaw(CertificateUser user, String path) throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(plane.kubectlBinary().toString(), "get", "--raw", path)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectError(
                ProcessBuilder.Redirect.appendTo(dir.resolve("kubectl-raw.err").toFile()));
    builder.environment().put("KUBECONFIG", user.kubeconfig().toString());
    return builder;
  }

  /** The bytes {@code kubectl get --raw PATH} prints as {@code user}; fails unless it exits 0. */
  private static byte[] get(CertificateUser user, String path) throws Exception {
    Path out = Files.createTempFile(dir, "raw-", ".out");
    Process process = kubectlRaw(user, path).redirectOutput(out.toFile()).start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("kubectl get --raw " + path + " did not end in 60 s");
    }
    assertEquals(
        0,
        process.exitValue(),
        "kubectl get --raw " + path + ": " + Files.readString(dir.resolve("kubectl-raw.err")));
    return Files.readAllBytes(out);
  }

  private static List<String> viewerCert() {
    return List.of(
        "--cert",
        viewer.certificate().toString(),
        "--key",
        viewer.key().toString(),
        "--cacert",
        plane.caCert().toString());
  }

  private static List<String> bearer(String token) {
    return List.of("-H", "Authorization: Bearer " + token);
  }

  /** One HTTPS request with curl (see {@link Curl}), its temporary files in the test's folder. */
  private static Curl.Response curl(List<String> options, String url) throws IOException {
    return Curl.request(options, url, dir);
  }

  // ---- helpers: reading packets

  private static boolean contains(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return true;
      }
    }
    return false;
  }
}
