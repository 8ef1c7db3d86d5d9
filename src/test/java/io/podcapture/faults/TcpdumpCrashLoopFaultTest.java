package io.podcapture.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.Names;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.User;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tcpdump that keeps dying, and one that cannot start at all: restarts back off exponentially,
 * the status shows the restart count and the last error, and after a bounded number of tries the
 * capture is Failed for good.
 */
class TcpdumpCrashLoopFaultTest extends LocalAgentFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path launcherDir;
  private Path starts;

  /**
   * The one tcpdump writing into the capture folder, once there is one that is not in {@code seen}.
   */
  private long awaitNewTcpdump(Set<Long> seen, Duration atMost) {
    long[] found = new long[1];
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(10))
        .until(
            () -> {
              List<Long> pids = Processes.writingInto(captureDir);
              if (pids.size() == 1 && !seen.contains(pids.get(0))) {
                found[0] = pids.get(0);
                return true;
              }
              return false;
            });
    return found[0];
  }

  @Test
  void tcpdumpKilledAgainAndAgainBacksOffCountsRestartsAndFailsAfterTheBound() throws Exception {
    agent = AgentHarness.wholeAgent(api, captureDir, Map.of("MAX_RESTARTS", "3"));
    cluster.createPod("default", "web", "2", List.of("198.51.100.40"));
    cluster.awaitPhase("default", "web", "Running", WAIT);
    Set<Long> seen = new HashSet<>();
    long pid = awaitNewTcpdump(seen, WAIT);

    List<Long> gaps = new ArrayList<>();
    for (int restart = 1; restart <= 3; restart++) {
      seen.add(pid);
      long killed = System.nanoTime();
      Processes.kill9(pid);
      // While it waits, the status says what happened and when it tries again.
      int k = restart;
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(20))
          .until(
              () -> {
                PodCapture cr = cluster.cr("default", "web");
                return cr.getStatus() != null
                    && (("Pending".equals(cr.getStatus().getPhase())
                            && cr.getStatus().getMessage().contains("restart " + k + " of 3"))
                        || Processes.writingInto(captureDir).stream()
                            .anyMatch(p -> !seen.contains(p)));
              });
      pid = awaitNewTcpdump(seen, WAIT);
      gaps.add((System.nanoTime() - killed) / 1_000_000);
      cluster.awaitPhase("default", "web", "Running", WAIT);
      int count = restart;
      await()
          .atMost(WAIT)
          .until(() -> cluster.cr("default", "web").getStatus().getRestartCount() == count);
    }
    System.out.println("tcpdump restart gaps after kill -9 (ms): " + gaps);
    // 1 s, 2 s, 4 s: each wait at least its step and longer than the one before, none far beyond
    // its step.
    long[] steps = {1000, 2000, 4000};
    for (int i = 0; i < 3; i++) {
      assertTrue(gaps.get(i) >= steps[i] - 50, "gap " + i + " " + gaps);
      assertTrue(gaps.get(i) < steps[i] + 4000, "gap " + i + " " + gaps);
    }
    assertTrue(gaps.get(0) < gaps.get(1) && gaps.get(1) < gaps.get(2), "growing gaps " + gaps);

    seen.add(pid);
    Processes.kill9(pid);

    PodCapture failed = cluster.awaitPhase("default", "web", "Failed", WAIT);
    assertEquals(Names.REASON_GAVE_UP, User.ready(failed).getReason());
    assertEquals(3, failed.getStatus().getRestartCount());
    assertTrue(
        failed.getStatus().getMessage().startsWith("tcpdump killed by signal 9 (SIGKILL)"),
        failed.getStatus().getMessage());
    assertTrue(
        failed
            .getStatus()
            .getMessage()
            .endsWith(
                "gave up after 3 restarts (MAX_RESTARTS); remove and re-add "
                    + "the annotation to try again"),
        failed.getStatus().getMessage());
    // No further try, and what was captured is kept and listed (the pid file names a dead process:
    // it goes with the capture, and a later agent run would never signal a recycled pid).
    await()
        .during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(8))
        .until(() -> Processes.writingInto(captureDir).isEmpty());
    assertEquals(
        List.of(
            "default/.capture-web.pid",
            "default/capture-web.pcap0",
            "default/previous/capture-web.pcap0"),
        Pcap.files(captureDir));
    assertEquals(2, cluster.cr("default", "web").getStatus().getFileCount());

    // The way out the message names: remove and re-add the annotation.
    cluster.removeAnnotation("default", "web");
    await()
        .atMost(WAIT)
        .until(() -> cluster.cr("default", "web") == null && Pcap.files(captureDir).isEmpty());
    cluster.annotate("default", "web", "2");
    PodCapture again = cluster.awaitPhase("default", "web", "Running", WAIT);
    assertEquals(0, again.getStatus().getRestartCount());
  }

  @Test
  void tcpdumpThatCannotStartIsRetriedWithBackoffThenFailed() throws Exception {
    // A real tcpdump told to listen on an interface that does not exist fails at once, every time.
    starts = launcherDir.resolve("starts");
    Path launcher = launcherDir.resolve("count-and-exec");
    Files.writeString(launcher, "#!/bin/sh\necho started >> '" + starts + "'\nexec \"$@\"\n");
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
    agent =
        AgentHarness.wholeAgent(
            api,
            captureDir,
            Map.of("MAX_RESTARTS", "2"),
            c -> c.withInterfaceName("podcapnosuch0").withLauncher(List.of(launcher.toString())));
    long began = System.nanoTime();
    cluster.createPod("default", "web", "2", List.of("198.51.100.41"));

    List<String> messages = new ArrayList<>();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              PodCapture cr = cluster.cr("default", "web");
              String message =
                  cr == null || cr.getStatus() == null ? null : cr.getStatus().getMessage();
              if (message != null
                  && (messages.isEmpty() || !messages.get(messages.size() - 1).equals(message))) {
                messages.add(message);
              }
              return message != null && message.contains("gave up");
            });
    long failedAfter = (System.nanoTime() - began) / 1_000_000;
    System.out.println(
        "start failures: Failed for good after " + failedAfter + " ms; messages " + messages);

    PodCapture cr = cluster.cr("default", "web");
    assertEquals("Failed", cr.getStatus().getPhase());
    assertEquals(Names.REASON_START_FAILED, User.ready(cr).getReason());
    assertTrue(
        cr.getStatus().getMessage().contains("podcapnosuch0: No such device exists"),
        cr.getStatus().getMessage());
    assertTrue(
        cr.getStatus()
            .getMessage()
            .endsWith(
                "gave up after 3 attempts; remove and re-add the annotation to " + "try again"),
        cr.getStatus().getMessage());
    assertTrue(
        messages.stream().anyMatch(m -> m.endsWith("retrying in 1s (attempt 1 of 3)")),
        messages.toString());
    assertTrue(
        messages.stream().anyMatch(m -> m.endsWith("retrying in 2s (attempt 2 of 3)")),
        messages.toString());
    // Attempts at 0, 1 s and 3 s, and none after: the status writes in between do not bring a retry
    // on early.
    assertTrue(failedAfter >= 3000 && failedAfter < 12000, "failed after " + failedAfter);
    assertEquals(3, startAttempts(), "tcpdump start attempts");
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                "Failed".equals(cluster.phase("default", "web"))
                    && Processes.writingInto(captureDir).isEmpty()
                    && Pcap.files(captureDir).isEmpty());
    assertEquals(3, startAttempts(), "tcpdump start attempts");
  }

  /** How often tcpdump was run, as counted by the launcher in front of it. */
  private int startAttempts() throws IOException {
    return Files.exists(starts) ? Files.readAllLines(starts).size() : 0;
  }
}
