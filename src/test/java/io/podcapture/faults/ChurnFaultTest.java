package io.podcapture.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.Names;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Churn with real tcpdump: an annotation toggled as fast as a client can, and 200 Pods annotated at
 * once and then released. Whatever the interleaving, the end state must be exact: the processes,
 * the files and the PodCaptures that the last annotations ask for, and nothing else.
 */
class ChurnFaultTest extends LocalAgentFaultTest {
  private static final Duration SETTLE = Duration.ofSeconds(60);

  /** Sets and removes the annotation {@code times} times, each patch right after the one before. */
  private long toggle(String name, int times) {
    long began = System.nanoTime();
    for (int i = 0; i < times; i++) {
      cluster.annotate("default", name, "2");
      cluster.removeAnnotation("default", name);
    }
    return (System.nanoTime() - began) / 1_000_000;
  }

  @Test
  void annotationToggledHundredTimesEndsWithNoCaptureAndNoFile() throws Exception {
    cluster.createPod("default", "web", null, List.of("198.51.100.10"));
    startAgent(Map.of());

    long toggling = toggle("web", 100);

    long began = System.nanoTime();
    await()
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                cluster.cr("default", "web") == null
                    && Processes.writingInto(captureDir).isEmpty()
                    && Pcap.files(captureDir).isEmpty());
    long settled = (System.nanoTime() - began) / 1_000_000;
    // And it stays so: nothing is started again by a late event.
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                cluster.cr("default", "web") == null
                    && Processes.writingInto(captureDir).isEmpty()
                    && Pcap.files(captureDir).isEmpty());
    assertNull(cluster.annotation("default", "web"));
    System.out.printf(
        "toggle storm (ends removed): 200 patches in %d ms, settled %d ms after the last%n",
        toggling, settled);
  }

  @Test
  void annotationToggledHundredTimesThenSetEndsWithExactlyOneCapture() throws Exception {
    cluster.createPod("default", "web", null, List.of("198.51.100.10"));
    startAgent(Map.of());

    long toggling = toggle("web", 100);
    cluster.annotate("default", "web", "2");

    long began = System.nanoTime();
    await()
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                "Running".equals(cluster.phase("default", "web"))
                    && Processes.writingInto(captureDir).size() == 1);
    long settled = (System.nanoTime() - began) / 1_000_000;
    List<Long> pids = Processes.writingInto(captureDir);
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(6))
        .until(
            () ->
                "Running".equals(cluster.phase("default", "web"))
                    && Processes.writingInto(captureDir).equals(pids));
    // The user's last word stands, and the agent never took the annotation away on its own: every
    // removal the API server saw is one of the user's hundred (the agent removes it only when a
    // user deletes the PodCapture).
    assertEquals("2", cluster.annotation("default", "web"));
    assertEquals(
        100,
        api.dispatcher().requests().stream()
            .filter(
                r ->
                    r.method().equals("PATCH")
                        && r.path().startsWith("/api/v1/namespaces/default/pods/web")
                        && r.body().contains("\"" + Names.ANNOTATION + "\":null"))
            .count(),
        "annotation removals");
    assertTrue(
        cluster.client().v1().events().inNamespace("default").list().getItems().stream()
            .noneMatch(e -> Names.REASON_CR_DELETED.equals(e.getReason())),
        "no PodCaptureDeleted event");
    PodCapture cr = cluster.cr("default", "web");
    assertEquals(2, cr.getSpec().getMaxFiles());
    assertEquals(
        List.of("default/.capture-web.pid", "default/capture-web.pcap0"), Pcap.files(captureDir));
    assertEquals(
        List.of(captureDir.resolve("default/capture-web.pcap0").toString()),
        cr.getStatus().getFiles().stream().map(f -> f.getPath()).toList());
    System.out.printf(
        "toggle storm (ends set): 201 patches in %d ms, running %d ms after the last%n",
        toggling, settled);
  }

  @Test
  void twoHundredPodsAnnotatedAtOnceThenReleasedLeaveNothing() throws Exception {
    int pods = 200;
    for (int i = 0; i < pods; i++) {
      cluster.createPod("default", "pod-" + i, null, List.of("198.51.100." + (i % 250 + 1)));
    }
    // Real tcpdump for every Pod: one ring of one file each, so 2 MB of budget a capture.
    startAgent(Map.of("MAX_CAPTURES", "250", "DISK_BUDGET_MB", "1024"));
    ExecutorService users = Executors.newFixedThreadPool(8);
    try {
      long began = System.nanoTime();
      all(users, pods, i -> cluster.annotate("default", "pod-" + i, "1"));
      long annotated = (System.nanoTime() - began) / 1_000_000;
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  cluster.crs().stream()
                              .filter(
                                  cr ->
                                      cr.getStatus() != null
                                          && "Running".equals(cr.getStatus().getPhase()))
                              .count()
                          == pods
                      && Processes.writingInto(captureDir).size() == pods);
      long running = (System.nanoTime() - began) / 1_000_000;
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < pods; i++) {
        expected.add("default/.capture-pod-" + i + ".pid");
        expected.add("default/capture-pod-" + i + ".pcap");
      }
      assertEquals(
          expected.stream().sorted().toList(),
          Pcap.files(captureDir),
          "a pid file and a ring file each");

      began = System.nanoTime();
      all(users, pods, i -> cluster.annotate("default", "pod-" + i, null));
      long released = (System.nanoTime() - began) / 1_000_000;
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  cluster.crs().isEmpty()
                      && Processes.writingInto(captureDir).isEmpty()
                      && Pcap.files(captureDir).isEmpty());
      long cleaned = (System.nanoTime() - began) / 1_000_000;
      assertTrue(cluster.crs().isEmpty());
      System.out.printf(
          "200-Pod storm: annotated in %d ms, all running after %d ms; released in %d ms, all gone "
              + "after %d ms%n",
          annotated, running, released, cleaned);
    } finally {
      users.shutdownNow();
    }
  }

  private interface Action {
    void run(int i) throws Exception;
  }

  private static void all(ExecutorService pool, int n, Action action) throws Exception {
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      futures.add(
          pool.submit(
              () -> {
                action.run(index);
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
  }
}
