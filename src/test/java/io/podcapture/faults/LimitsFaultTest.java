package io.podcapture.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.Names;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.User;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The node's limits with real tcpdump: files per capture (MAX_FILES), concurrent captures
 * (MAX_CAPTURES) and the disk budget (DISK_BUDGET_MB). A capture over a limit is never started: it
 * is Pending while it can fit later and starts by itself when room frees, or Failed when it can
 * never fit; the message gives the numbers.
 */
class LimitsFaultTest extends LocalAgentFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private List<Long> tcpdumpsOf(String pod) {
    return Processes.writingInto(captureDir).stream()
        .filter(pid -> String.join(" ", Processes.argv(pid)).contains("capture-" + pod + ".pcap"))
        .toList();
  }

  @Test
  void moreFilesThanMaxFilesFailsWithTheAcceptedRange() throws Exception {
    startAgent(Map.of("MAX_FILES", "8"));
    cluster.createPod("default", "web", "9", List.of("198.51.100.30"));

    PodCapture cr = cluster.awaitPhase("default", "web", "Failed", WAIT);
    assertEquals(Names.REASON_INVALID_ANNOTATION, User.ready(cr).getReason());
    assertEquals(
        "annotation tcpdump.antrea.io=\"9\" is out of range; expected a whole number of files from 1 to 8, "
            + "e.g. tcpdump.antrea.io=\"5\"",
        cr.getStatus().getMessage());
    assertTrue(Processes.writingInto(captureDir).isEmpty());
    assertEquals(List.of(), Pcap.files(captureDir));

    cluster.annotate("default", "web", "8");
    cluster.awaitPhase("default", "web", "Running", WAIT);
  }

  @Test
  void captureBeyondMaxCapturesWaitsForASlotAndStartsWhenOneFrees() throws Exception {
    startAgent(Map.of("MAX_CAPTURES", "2"));
    cluster.createPod("default", "a", "1", List.of("198.51.100.31"));
    cluster.createPod("default", "b", "1", List.of("198.51.100.32"));
    cluster.awaitPhase("default", "a", "Running", WAIT);
    cluster.awaitPhase("default", "b", "Running", WAIT);

    cluster.createPod("default", "c", "1", List.of("198.51.100.33"));

    PodCapture waiting = cluster.awaitPhase("default", "c", "Pending", WAIT);
    assertEquals(Names.REASON_WAITING_FOR_SLOT, User.ready(waiting).getReason());
    assertEquals(
        "waiting for a capture slot: 2 of 2 captures run on node node-a (MAX_CAPTURES); starts when one "
            + "ends",
        waiting.getStatus().getMessage());
    await()
        .during(Duration.ofSeconds(1))
        .atMost(WAIT)
        .until(() -> tcpdumpsOf("c").isEmpty() && Processes.writingInto(captureDir).size() == 2);

    long freed = System.nanoTime();
    cluster.removeAnnotation("default", "a");

    cluster.awaitPhase("default", "c", "Running", WAIT);
    System.out.printf(
        "slot freed: waiting capture running after %d ms%n",
        (System.nanoTime() - freed) / 1_000_000);
    await()
        .atMost(WAIT)
        .until(
            () ->
                tcpdumpsOf("c").size() == 1
                    && tcpdumpsOf("a").isEmpty()
                    && Processes.writingInto(captureDir).size() == 2);
  }

  @Test
  void ringLargerThanTheDiskBudgetFailsWithTheNumbers() throws Exception {
    startAgent(Map.of("DISK_BUDGET_MB", "10"));
    cluster.createPod("default", "web", "6", List.of("198.51.100.34"));

    PodCapture cr = cluster.awaitPhase("default", "web", "Failed", WAIT);
    assertEquals(Names.REASON_TOO_LARGE, User.ready(cr).getReason());
    assertEquals(
        "a ring of 6 x 1 MB needs up to 12 MB with one kept earlier ring, more than the node's disk budget "
            + "of 10 MB (DISK_BUDGET_MB); use fewer files",
        cr.getStatus().getMessage());
    assertTrue(Processes.writingInto(captureDir).isEmpty());
  }

  @Test
  void captureBeyondTheDiskBudgetWaitsAndStartsWhenBudgetFrees() throws Exception {
    startAgent(Map.of("DISK_BUDGET_MB", "10"));
    cluster.createPod("default", "a", "3", List.of("198.51.100.35"));
    cluster.awaitPhase("default", "a", "Running", WAIT);

    cluster.createPod("default", "b", "3", List.of("198.51.100.36"));

    PodCapture waiting = cluster.awaitPhase("default", "b", "Pending", WAIT);
    assertEquals(Names.REASON_WAITING_FOR_DISK, User.ready(waiting).getReason());
    assertEquals(
        "waiting for disk budget: this ring needs up to 6 MB, other captures on node node-a hold 6 of 10 MB "
            + "(DISK_BUDGET_MB); starts when enough is released",
        waiting.getStatus().getMessage());
    assertTrue(tcpdumpsOf("b").isEmpty());

    cluster.removeAnnotation("default", "a");

    cluster.awaitPhase("default", "b", "Running", WAIT);
    await().atMost(WAIT).until(() -> tcpdumpsOf("b").size() == 1 && tcpdumpsOf("a").isEmpty());
  }

  @Test
  void pendingCaptureReleasedBeforeItStartsLeavesNothing() throws Exception {
    startAgent(Map.of("MAX_CAPTURES", "1"));
    cluster.createPod("default", "a", "1", List.of("198.51.100.37"));
    cluster.awaitPhase("default", "a", "Running", WAIT);
    cluster.createPod("default", "b", "1", List.of("198.51.100.38"));
    cluster.awaitPhase("default", "b", "Pending", WAIT);

    cluster.removeAnnotation("default", "b");
    await().atMost(WAIT).until(() -> cluster.cr("default", "b") == null);
    cluster.removeAnnotation("default", "a");

    await()
        .atMost(WAIT)
        .until(
            () ->
                cluster.crs().isEmpty()
                    && Processes.writingInto(captureDir).isEmpty()
                    && Pcap.files(captureDir).isEmpty());
  }

  @Test
  void failedCaptureGivesUpItsSlotButKeepsItsDiskBudgetUntilReleased() throws Exception {
    startAgent(Map.of("MAX_CAPTURES", "1", "DISK_BUDGET_MB", "6", "MAX_RESTARTS", "0"));
    cluster.createPod("default", "a", "2", List.of("198.51.100.39"));
    cluster.awaitPhase("default", "a", "Running", WAIT);
    await().atMost(WAIT).until(() -> tcpdumpsOf("a").size() == 1);
    // a's tcpdump dies and, with no restarts allowed, a is Failed for good: its files stay, its
    // tcpdump does not.
    Processes.kill9(tcpdumpsOf("a").get(0));
    PodCapture failed = cluster.awaitPhase("default", "a", "Failed", WAIT);
    assertEquals(Names.REASON_GAVE_UP, User.ready(failed).getReason());

    // Not running, a holds no slot: b (2 MB, and a's 4 MB within the 6 MB budget) starts.
    cluster.createPod("default", "b", "1", List.of("198.51.100.40"));
    cluster.awaitPhase("default", "b", "Running", WAIT);
    assertEquals("Failed", cluster.phase("default", "a"));
    cluster.removeAnnotation("default", "b");
    await().atMost(WAIT).until(() -> cluster.cr("default", "b") == null);

    // But a's files are on disk, so a still holds its disk budget: c (4 MB) must wait for it.
    cluster.createPod("default", "c", "2", List.of("198.51.100.41"));
    PodCapture waiting = cluster.awaitPhase("default", "c", "Pending", WAIT);
    assertEquals(
        "waiting for disk budget: this ring needs up to 4 MB, other captures on node node-a hold 4 of 6 MB "
            + "(DISK_BUDGET_MB); starts when enough is released",
        waiting.getStatus().getMessage());

    cluster.removeAnnotation("default", "a");

    cluster.awaitPhase("default", "c", "Running", WAIT);
    await()
        .atMost(WAIT)
        .until(() -> cluster.cr("default", "a") == null && tcpdumpsOf("c").size() == 1);
  }
}
