package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.FakeTcpdump;
import io.podcapture.testing.Processes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running capture costs no thread of its own beyond the JDK's reaper of its process: with 16 to
 * 100 captures per node, a thread each is megabytes of resident stack (see BENCHMARKS.md).
 */
@Tag("integration")
class CaptureThreadsTest {
  private static final int CAPTURES = 8;

  @TempDir Path tmp;

  @Test
  void runningCapturesAddOnlyTheJdksProcessReapers() throws Exception {
    Path captureDir = tmp.resolve("capture");
    CaptureConfig config =
        CaptureConfig.of(captureDir)
            .withTcpdump(FakeTcpdump.install(tmp).toString())
            .withStopGrace(Duration.ofSeconds(2));
    try (CaptureManager manager = new CaptureManager(config)) {
      int before = Thread.activeCount();
      for (int i = 0; i < CAPTURES; i++) {
        CaptureSnapshot snapshot =
            manager.ensure(
                new CaptureRequest(
                    new CaptureKey("default", "pod-" + i), List.of("10.0.0." + (i + 1)), 3, 1));
        assertTrue(snapshot.running());
      }
      int added = Thread.activeCount() - before;
      List<String> names =
          Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().toList();

      // one reaper per child, plus at most the common pool's worker that completes their exits
      assertTrue(added <= CAPTURES + 1, added + " threads for " + CAPTURES + " captures: " + names);
      assertTrue(names.stream().noneMatch(n -> n.startsWith("tcpdump-")), names.toString());
      assertTrue(
          manager
              .snapshot(new CaptureKey("default", "pod-0"))
              .orElseThrow()
              .lastOutput()
              .contains("listening on"),
          "stderr is still read, without a thread");
    } finally {
      Processes.writingInto(captureDir)
          .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }
  }
}
