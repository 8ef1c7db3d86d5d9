package io.podcapture.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSpec;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.controller.Names;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.MockApiServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The API moves the agent relies on, made against the project's MockApiServer and against the real
 * API server, must come out the same: where they differ, the mock is wrong (or the product relies
 * on a mock's quirk). Each scenario returns what it observed, step by step.
 */
@Tag("cluster")
class MockParityClusterTest {
  private static final AtomicInteger RUN = new AtomicInteger();
  private static ControlPlane plane;
  private static MockApiServer mock;
  private static KubernetesClient mockClient;

  @BeforeAll
  static void start() {
    plane = ControlPlane.shared();
    mock = new MockApiServer();
    mockClient = mock.client();
  }

  @AfterAll
  static void stop() {
    if (mockClient != null) {
      mockClient.close();
    }
    if (mock != null) {
      mock.close();
    }
  }

  /** A scenario: given a client and a fresh namespace, what it saw. */
  interface Scenario extends BiFunction<KubernetesClient, String, List<String>> {}

  static Stream<Arguments> scenarios() {
    return Stream.of(
        Arguments.of("podsByNodeNameFieldSelector", (Scenario) MockParityClusterTest::podsByNode),
        Arguments.of("podCapturesWithoutNodeLabel", (Scenario) MockParityClusterTest::withoutLabel),
        Arguments.of("statusSubresource", (Scenario) MockParityClusterTest::statusSubresource),
        Arguments.of("generation", (Scenario) MockParityClusterTest::generation),
        Arguments.of("finalizer", (Scenario) MockParityClusterTest::finalizer),
        Arguments.of("staleUpdate", (Scenario) MockParityClusterTest::staleUpdate),
        Arguments.of("patches", (Scenario) MockParityClusterTest::patches),
        Arguments.of("defaults", (Scenario) MockParityClusterTest::defaults),
        Arguments.of("validation", (Scenario) MockParityClusterTest::validation));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void theMockAgreesWithTheRealApiServer(String name, Scenario scenario) {
    String ns = "parity-" + RUN.incrementAndGet();
    plane.namespace(ns);
    mockClient
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    List<String> real = scenario.apply(plane.admin(), ns);
    List<String> mocked = scenario.apply(mockClient, ns);
    System.out.println(name + ": real " + real + "\n" + name + ": mock " + mocked);
    assertEquals(real, mocked, name);
  }

  private static Pod pod(String ns, String name, String node) {
    return ControlPlane.boundPod(ns, name, node).build();
  }

  private static PodCapture capture(String ns, String name, Map<String, String> labels) {
    PodCapture cr = new PodCapture();
    cr.setMetadata(
        new ObjectMetaBuilder().withNamespace(ns).withName(name).withLabels(labels).build());
    cr.setSpec(new PodCaptureSpec("web", 2, 1));
    return cr;
  }

  private static List<String> names(List<? extends io.fabric8.kubernetes.api.model.HasMetadata> l) {
    return l.stream().map(o -> o.getMetadata().getName()).sorted().toList();
  }

  private static List<String> podsByNode(KubernetesClient c, String ns) {
    c.resource(pod(ns, "a", "n1")).create();
    c.resource(pod(ns, "b", "n2")).create();
    return List.of(
        names(c.pods().inAnyNamespace().withField("spec.nodeName", "n1").list().getItems())
            .toString(),
        names(c.pods().inNamespace(ns).withField("spec.nodeName", "n3").list().getItems())
            .toString());
  }

  private static List<String> withoutLabel(KubernetesClient c, String ns) {
    c.resource(capture(ns, "labelled", Map.of(Names.LABEL_NODE, "n1"))).create();
    c.resource(capture(ns, "bare", Map.of())).create();
    var crs = c.resources(PodCapture.class).inNamespace(ns);
    return List.of(
        names(crs.withoutLabel(Names.LABEL_NODE).list().getItems()).toString(),
        names(crs.withLabel(Names.LABEL_NODE, "n1").list().getItems()).toString());
  }

  private static List<String> statusSubresource(KubernetesClient c, String ns) {
    var crs = c.resources(PodCapture.class).inNamespace(ns);
    PodCapture cr = crs.resource(capture(ns, "s", Map.of())).create();
    List<String> seen = new ArrayList<>();
    // a status given on create is dropped
    PodCapture withStatus = capture(ns, "s2", Map.of());
    PodCaptureStatus given = new PodCaptureStatus();
    given.setPhase("Running");
    withStatus.setStatus(given);
    seen.add("created with status: " + status(crs.resource(withStatus).create()));
    // an update of the object ignores status; an update of /status ignores spec
    PodCaptureStatus status = new PodCaptureStatus();
    status.setPhase("Running");
    cr.setStatus(status);
    cr.getSpec().setMaxFiles(3);
    PodCapture updated = crs.resource(cr).update();
    seen.add("update: maxFiles " + updated.getSpec().getMaxFiles() + " status " + status(updated));
    updated.setStatus(status);
    updated.getSpec().setMaxFiles(4);
    PodCapture statusWritten = crs.resource(updated).updateStatus();
    seen.add(
        "updateStatus: maxFiles "
            + statusWritten.getSpec().getMaxFiles()
            + " status "
            + status(statusWritten));
    return seen;
  }

  private static String status(PodCapture cr) {
    return cr.getStatus() == null ? "none" : String.valueOf(cr.getStatus().getPhase());
  }

  private static List<String> generation(KubernetesClient c, String ns) {
    var crs = c.resources(PodCapture.class).inNamespace(ns);
    List<String> seen = new ArrayList<>();
    PodCapture cr = crs.resource(capture(ns, "g", Map.of())).create();
    seen.add("created " + cr.getMetadata().getGeneration());
    PodCaptureStatus status = new PodCaptureStatus();
    status.setPhase("Running");
    cr.setStatus(status);
    cr = crs.resource(cr).updateStatus();
    seen.add("status " + cr.getMetadata().getGeneration());
    cr.getMetadata().setLabels(Map.of("x", "y"));
    cr = crs.resource(cr).update();
    seen.add("label " + cr.getMetadata().getGeneration());
    cr.getSpec().setMaxFiles(5);
    cr = crs.resource(cr).update();
    seen.add("spec " + cr.getMetadata().getGeneration());
    return seen;
  }

  private static List<String> finalizer(KubernetesClient c, String ns) {
    var crs = c.resources(PodCapture.class).inNamespace(ns);
    List<String> seen = new ArrayList<>();
    PodCapture cr = capture(ns, "f", Map.of());
    cr.getMetadata().setFinalizers(List.of(Names.FINALIZER));
    crs.resource(cr).create();
    crs.withName("f").delete();
    PodCapture marked = crs.withName("f").get();
    seen.add(
        "after delete: "
            + (marked == null
                ? "gone"
                : "deletionTimestamp " + (marked.getMetadata().getDeletionTimestamp() != null)));
    crs.withName("f")
        .patch(
            PatchContext.of(PatchType.JSON),
            "[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]");
    seen.add(
        "after finalizer removed: " + (crs.withName("f").get() == null ? "gone" : "still there"));
    return seen;
  }

  private static List<String> staleUpdate(KubernetesClient c, String ns) {
    var crs = c.resources(PodCapture.class).inNamespace(ns);
    PodCapture cr = crs.resource(capture(ns, "r", Map.of())).create();
    PodCaptureStatus status = new PodCaptureStatus();
    status.setPhase("Running");
    PodCapture fresh = crs.withName("r").get();
    fresh.setStatus(status);
    crs.resource(fresh).updateStatus();
    cr.setStatus(status);
    cr.getStatus().setPhase("Failed");
    try {
      crs.resource(cr).updateStatus();
      return List.of("stale status update accepted");
    } catch (KubernetesClientException e) {
      return List.of("stale status update: " + e.getCode());
    }
  }

  private static List<String> patches(KubernetesClient c, String ns) {
    List<String> seen = new ArrayList<>();
    Pod p = pod(ns, "annotated", "n1");
    p.getMetadata().setAnnotations(Map.of(Names.ANNOTATION, "2", "keep", "me"));
    c.resource(p).create();
    Pod patched =
        c.pods()
            .inNamespace(ns)
            .withName("annotated")
            .patch(
                PatchContext.of(PatchType.JSON),
                "[{\"op\":\"remove\",\"path\":\"/metadata/annotations/tcpdump.antrea.io\"}]");
    seen.add("json patch: " + patched.getMetadata().getAnnotations());
    try {
      c.pods()
          .inNamespace(ns)
          .withName("annotated")
          .patch(
              PatchContext.of(PatchType.JSON),
              "[{\"op\":\"test\",\"path\":\"/metadata/annotations/keep\",\"value\":\"other\"},"
                  + "{\"op\":\"remove\",\"path\":\"/metadata/annotations/keep\"}]");
      seen.add("failed test op applied");
    } catch (KubernetesClientException e) {
      seen.add("failed test op: " + e.getCode());
    }
    var crs = c.resources(PodCapture.class).inNamespace(ns);
    crs.resource(capture(ns, "m", Map.of("a", "b"))).create();
    PodCapture merged =
        crs.withName("m")
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"" + Names.LABEL_NODE + "\":\"n1\"}}}");
    seen.add("merge patch labels: " + new java.util.TreeMap<>(merged.getMetadata().getLabels()));
    return seen;
  }

  /** Each bad spec: the status code and the fields the message names. */
  private static List<String> validation(KubernetesClient c, String ns) {
    List<String> seen = new ArrayList<>();
    List<java.util.function.Consumer<PodCaptureSpec>> bad =
        List.of(
            s -> s.setMaxFiles(0),
            s -> s.setMaxFiles(1001),
            s -> s.setDurationSeconds(-5),
            s -> s.setSnapLength(262145),
            s -> s.setFilter("icmp or ".repeat(130) + "icmp"),
            s -> s.setPodName("Web_1"),
            s -> s.setPodName(null));
    for (var change : bad) {
      PodCapture cr = capture(ns, "bad", Map.of());
      change.accept(cr.getSpec());
      try {
        c.resource(cr).create();
        seen.add("accepted " + cr.getSpec());
        c.resource(cr).delete();
      } catch (KubernetesClientException e) {
        java.util.regex.Matcher fields =
            java.util.regex.Pattern.compile("spec\\.[a-zA-Z]+").matcher(e.getStatus().getMessage());
        java.util.Set<String> named = new java.util.TreeSet<>();
        while (fields.find()) {
          named.add(fields.group());
        }
        seen.add(e.getCode() + " " + named);
      }
    }
    return seen;
  }

  private static List<String> defaults(KubernetesClient c, String ns) {
    var crs = c.resources(PodCapture.class).inNamespace(ns);
    PodCapture cr = new PodCapture();
    cr.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName("d").build());
    PodCaptureSpec spec = new PodCaptureSpec();
    spec.setPodName("web");
    cr.setSpec(spec);
    PodCapture created = crs.resource(cr).create();
    return List.of(
        "maxFiles " + created.getSpec().getMaxFiles(),
        "fileSizeMB " + created.getSpec().getFileSizeMB());
  }
}
