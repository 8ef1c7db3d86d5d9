package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.FakeTcpdump;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up clean-up after an agent "crashed": its tcpdumps stopped by pid, unkept files deleted.
 */
@Tag("real-capture")
class LeftoversTest {

  private static final CaptureKey KEPT = new CaptureKey("shop", "kept");
  private static final CaptureKey GONE = new CaptureKey("shop", "gone");
  private static final CaptureKey ELSEWHERE = new CaptureKey("other", "gone-too");

  @TempDir Path tmp;
  private Path captureDir;
  private Process bystander;

  @BeforeEach
  void captureDir() {
    captureDir = tmp.resolve("capture");
  }

  @AfterEach
  void cleanUp() {
    Processes.writingInto(captureDir)
        .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    if (bystander != null) {
      bystander.destroyForcibly();
    }
  }

  @Test
  void aNewAgentStopsTheOldTcpdumpsAndKeepsOnlyKeptFiles() throws Exception {
    Requirements.realCapture();
    CaptureConfig config = CaptureConfig.of(captureDir);
    try (NetnsPod pod = NetnsPod.create()) {
      CaptureManager crashed = new CaptureManager(config);
      for (CaptureKey key : List.of(KEPT, GONE, ELSEWHERE)) {
        crashed.ensure(new CaptureRequest(key, pod.ips(), 3, 1));
      }
      pod.ping(Ping.count(2));
      List<Long> oldPids = Processes.writingInto(captureDir);
      assertEquals(3, oldPids.size());
      List<Path> strays = writeStrays();
      // the crash: "crashed" is dropped without close(), its tcpdumps keep running

      CaptureManager restarted = new CaptureManager(config);
      restarted.removeLeftovers(Set.of(KEPT));

      oldPids.forEach(
          pid -> assertFalse(Processes.alive(pid), "old tcpdump " + pid + " still runs"));
      assertTrue(Files.exists(captureDir.resolve("shop/capture-kept.pcap0")));
      assertFalse(Files.exists(captureDir.resolve("shop/.capture-kept.pid")));
      assertFalse(Files.exists(captureDir.resolve("shop/capture-gone.pcap0")));
      assertFalse(Files.exists(captureDir.resolve("shop/.capture-gone.pid")));
      assertFalse(Files.exists(captureDir.resolve("other")), "an emptied namespace folder goes");
      strays.forEach(file -> assertTrue(Files.exists(file), "not ours, must stay: " + file));

      CaptureSnapshot resumed = restarted.ensure(new CaptureRequest(KEPT, pod.ips(), 3, 1));
      assertTrue(
          resumed.files().stream()
              .anyMatch(f -> f.previous() && f.name().equals("capture-kept.pcap0")));
      restarted.close();
    }
  }

  private List<Path> writeStrays() throws Exception {
    List<Path> strays =
        List.of(
            captureDir.resolve("shop/notes.txt"),
            captureDir.resolve("shop/capture-gone.pcap.bak"),
            captureDir.resolve("shop/capture-gone.pcap1x"),
            captureDir.resolve("Not_A_Namespace/capture-gone.pcap0"),
            captureDir.resolve("readme"));
    for (Path stray : strays) {
      Files.createDirectories(stray.getParent());
      Files.writeString(stray, "not ours");
    }
    return strays;
  }

  @Test
  void aPidFileNeverLeadsToSignallingAProcessThatIsNotOurTcpdump() throws Exception {
    CaptureConfig config =
        CaptureConfig.of(captureDir)
            .withTcpdump(FakeTcpdump.install(tmp).toString())
            .withStopGrace(Duration.ofMillis(500));
    Path ns = Files.createDirectories(captureDir.resolve("shop"));
    bystander = new ProcessBuilder("sleep", "60").start();
    long pid = bystander.pid();
    long ticks = PidFile.startTicks(pid).getAsLong();
    // a live process with the right start time, but not writing our ring
    new PidFile(pid, ticks).write(ns.resolve(".capture-alive.pid"));
    // a recycled pid: same number, another start time
    new PidFile(pid, ticks - 1).write(ns.resolve(".capture-recycled.pid"));
    // our own JVM, and garbage
    new PidFile(ProcessHandle.current().pid(), 1).write(ns.resolve(".capture-self.pid"));
    Files.writeString(ns.resolve(".capture-torn.pid"), "12");

    new CaptureManager(config).removeLeftovers(Set.of());

    assertTrue(bystander.isAlive());
    assertFalse(Files.exists(ns), "the pid files are gone, and with them the emptied folder");
  }

  @Test
  void aStillRunningTcpdumpOfAnEarlierRunIsStoppedBeforeItsCaptureStartsAgain() throws Exception {
    CaptureConfig config =
        CaptureConfig.of(captureDir)
            .withTcpdump(FakeTcpdump.install(tmp).toString())
            .withStopGrace(Duration.ofMillis(500));
    CaptureRequest request = new CaptureRequest(KEPT, List.of("10.0.0.1"), 3, 1);
    new CaptureManager(config).ensure(request);
    long oldPid = PidFile.read(captureDir.resolve("shop/.capture-kept.pid")).orElseThrow().pid();

    // no removeLeftovers: ensure itself must not let two tcpdumps write one ring
    try (CaptureManager restarted = new CaptureManager(config)) {
      restarted.ensure(request);
      assertFalse(Processes.alive(oldPid));
      assertEquals(1, Processes.writingInto(captureDir).size());
    }
  }
}
