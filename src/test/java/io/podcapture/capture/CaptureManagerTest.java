package io.podcapture.capture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.Command;
import io.podcapture.testing.FakeTcpdump;
import io.podcapture.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CaptureManager's lifecycle with a bash stand-in for tcpdump ({@link FakeTcpdump}), so it runs
 * without root; the real tcpdump is exercised by the *Capture* tests.
 */
@Tag("integration")
class CaptureManagerTest {

  private static final CaptureKey WEB = new CaptureKey("default", "web");
  private static final CaptureKey DB = new CaptureKey("default", "db");

  @TempDir Path tmp;
  private Path captureDir;
  private CaptureConfig config;
  private final List<CaptureManager> managers = new ArrayList<>();

  @BeforeEach
  void setUp() {
    captureDir = tmp.resolve("capture");
    // an empty sysfs: the filter then has no interface exclusions, whatever devices this machine
    // has
    config =
        CaptureConfig.of(captureDir)
            .withTcpdump(FakeTcpdump.install(tmp).toString())
            .withStopGrace(Duration.ofSeconds(2))
            .withSysClassNet(tmp.resolve("sys-class-net"));
  }

  @AfterEach
  void tearDown() {
    managers.forEach(CaptureManager::close);
    // whatever a test did, no process of it may outlive it
    Processes.writingInto(captureDir)
        .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
  }

  private CaptureManager manager(CaptureConfig config) {
    CaptureManager manager = new CaptureManager(config);
    managers.add(manager);
    return manager;
  }

  private static CaptureRequest request(CaptureKey key, int maxFiles) {
    return new CaptureRequest(key, List.of("10.0.0.1", "fd00::1"), maxFiles, 1);
  }

  private long pidOf(CaptureKey key) throws Exception {
    return PidFile.read(CaptureFiles.of(captureDir, key).pidFile()).orElseThrow().pid();
  }

  @Test
  void ensureStartsTcpdumpAndReturnsOnceTheFirstFileExists() throws Exception {
    CaptureManager manager = manager(config);
    CaptureSnapshot snapshot = manager.ensure(request(WEB, 5));

    assertTrue(snapshot.running());
    assertEquals(
        "(inbound and (src host 10.0.0.1 or src host fd00::1)) or (outbound and (dst host 10.0.0.1"
            + " or dst host fd00::1 or "
            + PodFilter.solicitationFor(IpLiteral.parse("fd00::1"))
            + "))",
        snapshot.filter());
    assertEquals(
        List.of("capture-web.pcap0"), snapshot.files().stream().map(RingFile::name).toList());
    assertFalse(snapshot.files().get(0).previous());
    assertNull(snapshot.exitCode());
    assertNull(snapshot.exitReason());
    assertEquals(0, snapshot.restartCount());
    assertTrue(snapshot.lastOutput().contains("listening on any"), snapshot.lastOutput());
    assertEquals(Set.of(WEB), manager.captures());
    assertTrue(Processes.alive(pidOf(WEB)));
    PidFile pid = PidFile.read(CaptureFiles.of(captureDir, WEB).pidFile()).orElseThrow();
    assertEquals(PidFile.startTicks(pid.pid()).getAsLong(), pid.startTicks());
  }

  @Test
  void ensureWithAnEqualRequestLeavesTheRunningTcpdumpAlone() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(request(WEB, 5));
    long pid = pidOf(WEB);

    CaptureSnapshot again =
        manager.ensure(new CaptureRequest(WEB, List.of("fd00::1", "10.0.0.1", "10.0.0.1"), 5, 1));

    assertEquals(pid, pidOf(WEB));
    assertEquals(0, again.restartCount());
    assertTrue(again.files().stream().noneMatch(RingFile::previous));
  }

  @Test
  void changedRequestRestartsTcpdumpWithoutCountingARestartAndKeepsTheFiles() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(request(WEB, 5));
    long pid = pidOf(WEB);

    CaptureSnapshot changed = manager.ensure(request(WEB, 12));

    assertNotEquals(pid, pidOf(WEB));
    assertFalse(Processes.alive(pid));
    assertEquals(0, changed.restartCount());
    assertEquals(
        List.of("capture-web.pcap00:false", "capture-web.pcap0:true"), describe(changed.files()));
  }

  @Test
  void changedIpsRestartTcpdump() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(request(WEB, 5));
    long pid = pidOf(WEB);

    CaptureSnapshot changed = manager.ensure(new CaptureRequest(WEB, List.of("10.0.0.2"), 5, 1));

    assertNotEquals(pid, pidOf(WEB));
    assertEquals(
        "(inbound and (src host 10.0.0.2)) or (outbound and (dst host 10.0.0.2))",
        changed.filter());
  }

  @Test
  void stopEndsTcpdumpAndDeletesEveryFileOfThePodOnly() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(request(WEB, 5));
    manager.ensure(request(WEB, 3));
    manager.ensure(request(DB, 5));
    long pid = pidOf(WEB);
    Path ns = captureDir.resolve("default");
    Files.writeString(ns.resolve("notes.txt"), "not ours");
    Files.writeString(ns.resolve("capture-web-2.pcap0"), "another pod");

    manager.remove(WEB);

    assertFalse(Processes.alive(pid));
    assertTrue(manager.snapshot(WEB).isEmpty());
    assertEquals(Set.of(DB), manager.captures());
    try (var files = Files.list(ns)) {
      assertEquals(
          Set.of(
              "notes.txt",
              "capture-web-2.pcap0",
              "capture-db.pcap0",
              ".capture-db.pid",
              "previous"),
          new HashSet<>(files.map(p -> p.getFileName().toString()).toList()));
    }
    try (var files = Files.list(ns.resolve("previous"))) {
      assertEquals(0, files.count());
    }
    assertTrue(manager.snapshot(DB).orElseThrow().running());
  }

  @Test
  void stoppingTwiceOrStoppingAnUnknownCaptureIsHarmless() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(request(WEB, 5));
    manager.remove(WEB);
    manager.remove(WEB);
    manager.remove(new CaptureKey("other", "nothing"));
    assertTrue(manager.captures().isEmpty());
  }

  @Test
  void stopDeletesFilesAnEarlierRunLeftEvenWithoutACapture() throws Exception {
    Path ns = Files.createDirectories(captureDir.resolve("default"));
    Files.writeString(ns.resolve("capture-web.pcap0"), "old");
    manager(config).remove(WEB);
    assertFalse(Files.exists(ns.resolve("capture-web.pcap0")));
  }

  @Test
  void stopSendsSigkillWhenTcpdumpIgnoresSigterm() throws Exception {
    CaptureManager manager =
        manager(config.withInterfaceName(FakeTcpdump.DEAF).withStopGrace(Duration.ofMillis(300)));
    manager.ensure(request(WEB, 5));
    long pid = pidOf(WEB);

    long began = System.nanoTime();
    manager.remove(WEB);
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);

    assertFalse(Processes.alive(pid));
    assertTrue(tookMillis >= 300 && tookMillis < 3000, "took " + tookMillis + " ms");
  }

  @Test
  void aSlowStopDoesNotHoldUpOtherCaptures() throws Exception {
    CaptureManager manager =
        manager(config.withInterfaceName(FakeTcpdump.DEAF).withStopGrace(Duration.ofMillis(1500)));
    manager.ensure(request(WEB, 5));
    CompletableFuture<Void> slowStop = CompletableFuture.runAsync(() -> manager.remove(WEB));
    Thread.sleep(100);

    long began = System.nanoTime();
    manager.ensure(request(DB, 5));
    manager.snapshot(WEB);
    manager.captures();
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);

    assertFalse(slowStop.isDone(), "the stop of web should still be waiting for its grace period");
    assertTrue(tookMillis < 1000, "other captures waited " + tookMillis + " ms");
    slowStop.get(5, TimeUnit.SECONDS);
  }

  @Test
  void unexpectedExitIsReportedAndEnsureRestartsCountingIt() throws Exception {
    CaptureManager manager = manager(config);
    BlockingQueue<CaptureKey> exited = new LinkedBlockingQueue<>();
    manager.onExit(exited::add);
    manager.ensure(request(WEB, 5));
    long pid = pidOf(WEB);

    Command.run("kill", "-9", Long.toString(pid)).orThrow();

    assertEquals(WEB, exited.poll(5, TimeUnit.SECONDS));
    CaptureSnapshot dead = manager.snapshot(WEB).orElseThrow();
    assertFalse(dead.running());
    assertEquals(137, dead.exitCode());
    assertEquals("killed by signal 9 (SIGKILL)", dead.exitReason());
    assertTrue(dead.lastOutput().contains("listening on"), dead.lastOutput());
    assertEquals(Set.of(WEB), manager.captures(), "an exited capture is still held until stopped");

    CaptureSnapshot restarted = manager.ensure(request(WEB, 5));

    assertTrue(restarted.running());
    assertEquals(1, restarted.restartCount());
    assertNotEquals(pid, pidOf(WEB));
    assertEquals(
        List.of("capture-web.pcap0:false", "capture-web.pcap0:true"), describe(restarted.files()));
    assertTrue(exited.isEmpty(), "a restart is not reported as an exit");
  }

  @Test
  void failedStartLeavesNoProcessNoFileAndNoCapture() throws Exception {
    CaptureManager manager = manager(config.withInterfaceName(FakeTcpdump.FAIL));

    CaptureException e =
        assertThrows(CaptureException.class, () -> manager.ensure(request(WEB, 5)));

    assertEquals(CaptureException.Reason.TcpdumpFailed, e.reason());
    assertEquals(
        "tcpdump exited with code 1: tcpdump: fail0: No such device exists\n(No such device exists)",
        e.getMessage());
    assertTrue(manager.captures().isEmpty());
    assertEquals(List.of(), Processes.writingInto(captureDir));
    try (var files = Files.list(captureDir.resolve("default"))) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void startTimesOutWhenNoFileAppears() throws Exception {
    CaptureManager manager =
        manager(
            config.withInterfaceName(FakeTcpdump.MUTE).withStartTimeout(Duration.ofMillis(300)));

    long began = System.nanoTime();
    CaptureException e =
        assertThrows(CaptureException.class, () -> manager.ensure(request(WEB, 5)));
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);

    assertEquals(CaptureException.Reason.TcpdumpFailed, e.reason());
    assertTrue(
        e.getMessage().startsWith("tcpdump did not create capture-web.pcap0 within 300 ms"),
        e.getMessage());
    assertTrue(tookMillis < 2000, "took " + tookMillis + " ms");
    assertEquals(List.of(), Processes.writingInto(captureDir));
  }

  @Test
  void aMissingExecutableIsAFailedStart() {
    CaptureManager manager = manager(config.withTcpdump(tmp.resolve("no-such-tcpdump").toString()));
    CaptureException e =
        assertThrows(CaptureException.class, () -> manager.ensure(request(WEB, 5)));
    assertEquals(CaptureException.Reason.TcpdumpFailed, e.reason());
    assertTrue(
        e.getMessage().startsWith("cannot run " + tmp.resolve("no-such-tcpdump")), e.getMessage());
  }

  @Test
  void filesOfAnEarlierRunAreKeptAsPreviousReplacingOlderOnes() throws Exception {
    Path ns = captureDir.resolve("default");
    Files.createDirectories(ns.resolve("previous"));
    Files.writeString(ns.resolve("previous/capture-web.pcap4"), "two runs ago");
    Files.writeString(captureDir.resolve("default/capture-web.pcap1"), "last run 1");
    Files.writeString(captureDir.resolve("default/capture-web.pcap3"), "last run 3");

    CaptureSnapshot snapshot = manager(config).ensure(request(WEB, 5));

    assertEquals(
        List.of("capture-web.pcap0:false", "capture-web.pcap1:true", "capture-web.pcap3:true"),
        describe(snapshot.files()));
    assertEquals("last run 3", Files.readString(ns.resolve("previous/capture-web.pcap3")));
    assertEquals(
        snapshot.files().stream().mapToLong(RingFile::sizeBytes).sum(), snapshot.totalBytes());
    assertEquals(9 + 10 + 10, snapshot.totalBytes());
  }

  @Test
  void closeStopsEveryTcpdumpAndKeepsTheFiles() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(request(WEB, 5));
    manager.ensure(request(DB, 1));
    List<Long> pids = List.of(pidOf(WEB), pidOf(DB));

    manager.close();

    pids.forEach(pid -> assertFalse(Processes.alive(pid)));
    assertTrue(Files.exists(captureDir.resolve("default/capture-web.pcap0")));
    assertTrue(Files.exists(captureDir.resolve("default/capture-db.pcap")));
    assertFalse(Files.exists(captureDir.resolve("default/.capture-web.pid")));
    assertThrows(IllegalStateException.class, () -> manager.ensure(request(WEB, 5)));
    manager.remove(WEB);
    assertTrue(
        Files.exists(captureDir.resolve("default/capture-web.pcap0")),
        "stop after close keeps files");
    manager.close();
  }

  @Test
  void concurrentEnsuresOfOneKeyStartOneTcpdump() throws Exception {
    CaptureManager manager = manager(config);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<CaptureSnapshot>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        results.add(pool.submit(() -> manager.ensure(request(WEB, 5))));
      }
      for (Future<CaptureSnapshot> result : results) {
        assertTrue(result.get(10, TimeUnit.SECONDS).running());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of(pidOf(WEB)), Processes.writingInto(captureDir));
  }

  @Test
  void concurrentStartsAndStopsOfManyKeysLeaveNothingBehind() throws Exception {
    CaptureManager manager = manager(config);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> results = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        CaptureKey key = new CaptureKey("ns" + (i % 3), "pod" + (i % 7));
        results.add(
            pool.submit(
                () -> {
                  manager.ensure(request(key, 3));
                  manager.remove(key);
                  return null;
                }));
      }
      for (Future<?> result : results) {
        result.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(manager.captures().isEmpty());
    await().atMost(Duration.ofSeconds(2)).until(() -> Processes.writingInto(captureDir).isEmpty());
    try (var files = Files.walk(captureDir)) {
      assertEquals(List.of(), files.filter(Files::isRegularFile).toList());
    }
  }

  private static List<String> describe(List<RingFile> files) {
    return files.stream().map(f -> f.name() + ":" + f.previous()).toList();
  }

  @Test
  void theFilterLeavesOutTheNodeDevicesThatRepeatPodTraffic() throws Exception {
    Path sys = tmp.resolve("sys-class-net");
    for (String[] device : new String[][] {{"cni0", "7", "bridge"}, {"flannel.1", "9", "vxlan"}}) {
      Path dir = Files.createDirectories(sys.resolve(device[0]));
      Files.writeString(dir.resolve("ifindex"), device[1]);
      Files.writeString(dir.resolve("iflink"), device[1]);
      Files.writeString(dir.resolve("type"), "1");
      Files.writeString(dir.resolve("uevent"), "DEVTYPE=" + device[2] + "\n");
    }

    CaptureSnapshot snapshot =
        manager(config).ensure(new CaptureRequest(WEB, List.of("10.0.0.1"), 5, 1));

    assertEquals(
        "((inbound and (src host 10.0.0.1)) or (outbound and (dst host 10.0.0.1))) and not ifindex 7"
            + " and not ifindex 9",
        snapshot.filter());
  }

  @Test
  void onAnInterfaceOtherThanAnyNoDeviceIsExcluded() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("sys-class-net/cni0"));
    Files.writeString(dir.resolve("ifindex"), "7");
    Files.writeString(dir.resolve("iflink"), "7");
    Files.writeString(dir.resolve("type"), "1");
    Files.createDirectories(dir.resolve("bridge"));

    CaptureSnapshot snapshot =
        manager(config.withInterfaceName("eth9"))
            .ensure(new CaptureRequest(WEB, List.of("10.0.0.1"), 5, 1));

    assertEquals(
        "(inbound and (src host 10.0.0.1)) or (outbound and (dst host 10.0.0.1))",
        snapshot.filter());
  }

  private static CaptureRequest counted(CaptureKey key, int packets) {
    return new CaptureRequest(key, List.of("10.0.0.1"), 2, 1, null, packets, null, 0);
  }

  @Test
  void aTcpdumpThatReachedItsPacketCountHasCompletedAndIsNotRestarted() throws Exception {
    CaptureManager manager = manager(config);
    BlockingQueue<CaptureKey> exited = new LinkedBlockingQueue<>();
    manager.onExit(exited::add);
    manager.ensure(counted(WEB, 10));
    long pid = pidOf(WEB);

    assertEquals(WEB, exited.poll(5, TimeUnit.SECONDS), "listeners are told of a completion too");
    CaptureSnapshot done = manager.snapshot(WEB).orElseThrow();
    assertTrue(done.completed());
    assertFalse(done.running());
    assertEquals(0, done.exitCode());
    assertEquals(0, done.restartCount());
    assertEquals(List.of("capture-web.pcap0:false"), describe(done.files()));

    CaptureSnapshot again = manager.ensure(counted(WEB, 10));

    assertTrue(again.completed());
    assertFalse(again.running());
    assertEquals(List.of(), Processes.writingInto(captureDir), "not restarted");
    assertEquals(
        pid,
        PidFile.read(CaptureFiles.of(captureDir, WEB).pidFile()).map(PidFile::pid).orElse(pid));
    assertEquals(Set.of(WEB), manager.captures(), "held, with its files, until stopped");
  }

  @Test
  void aDifferentRequestAfterCompletionStartsANewRunKeepingTheCompletedFiles() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(counted(WEB, 10));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> manager.snapshot(WEB).orElseThrow().completed());

    CaptureSnapshot next = manager.ensure(counted(WEB, 20));

    assertTrue(next.running() || next.completed());
    assertEquals(
        List.of("capture-web.pcap0:false", "capture-web.pcap0:true"), describe(next.files()));
    assertEquals(0, next.restartCount());
  }

  @Test
  void stopDeletesTheFilesOfACompletedCapture() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(counted(WEB, 10));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> manager.snapshot(WEB).orElseThrow().completed());

    manager.remove(WEB);

    assertTrue(manager.snapshot(WEB).isEmpty());
    try (var files = Files.list(captureDir.resolve("default"))) {
      assertEquals(List.of(), files.filter(Files::isRegularFile).toList());
    }
  }

  @Test
  void aTcpdumpExitingWithoutAPacketCountIsACrashEvenWithCodeZero() throws Exception {
    CaptureManager manager = manager(config);
    manager.ensure(request(WEB, 5));
    Command.run("kill", "-9", Long.toString(pidOf(WEB))).orThrow();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !manager.snapshot(WEB).orElseThrow().running());
    assertFalse(manager.snapshot(WEB).orElseThrow().completed());
  }

  private static CaptureRequest timed(CaptureKey key, Duration duration) {
    return new CaptureRequest(key, List.of("10.0.0.1"), 2, 1, null, null, duration, 0);
  }

  @Test
  void whenItsDurationRunsOutTheCaptureIsStoppedAndCompletedKeepingItsFiles() throws Exception {
    CaptureManager manager = manager(config);
    BlockingQueue<CaptureKey> exited = new LinkedBlockingQueue<>();
    manager.onExit(exited::add);
    long began = System.nanoTime();
    manager.ensure(timed(WEB, Duration.ofSeconds(1)));
    long pid = pidOf(WEB);

    assertEquals(WEB, exited.poll(5, TimeUnit.SECONDS));
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    CaptureSnapshot done = manager.snapshot(WEB).orElseThrow();
    assertTrue(done.completed());
    assertFalse(done.running());
    assertFalse(Processes.alive(pid));
    // the duration, then the second and a half that lets libpcap hand over the last packets
    assertTrue(tookMillis >= 2500 && tookMillis < 4500, "took " + tookMillis + " ms");
    assertEquals(List.of("capture-web.pcap0:false"), describe(done.files()));
    assertFalse(Files.exists(CaptureFiles.of(captureDir, WEB).pidFile()));
    assertTrue(
        manager.ensure(timed(WEB, Duration.ofSeconds(1))).completed(),
        "an equal request is not restarted");
    assertEquals(List.of(), Processes.writingInto(captureDir));
  }

  @Test
  void aCaptureStoppedBeforeItsDurationRanOutIsNotReportedLater() throws Exception {
    CaptureManager manager = manager(config);
    BlockingQueue<CaptureKey> exited = new LinkedBlockingQueue<>();
    manager.onExit(exited::add);
    manager.ensure(timed(WEB, Duration.ofSeconds(1)));
    manager.remove(WEB);

    assertEquals(null, exited.poll(3000, TimeUnit.MILLISECONDS));
    assertTrue(manager.snapshot(WEB).isEmpty());
  }

  @Test
  void aCrashedTimedCaptureRestartsForTheTimeLeftOnly() throws Exception {
    CaptureManager manager = manager(config);
    CaptureSnapshot first = manager.ensure(timed(WEB, Duration.ofSeconds(2)));
    Command.run("kill", "-9", Long.toString(pidOf(WEB))).orThrow();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !manager.snapshot(WEB).orElseThrow().running());

    CaptureSnapshot restarted = manager.ensure(timed(WEB, Duration.ofSeconds(2)));
    assertTrue(restarted.running());
    assertEquals(1, restarted.restartCount());
    await()
        .atMost(Duration.ofSeconds(6))
        .until(() -> manager.snapshot(WEB).orElseThrow().completed());
    long ranMillis = Duration.between(first.startTime(), java.time.Instant.now()).toMillis();
    assertTrue(
        ranMillis < 2000 + 1500 + 1500,
        "ended "
            + ranMillis
            + " ms after the first start, asked for 2000"
            + " (and 1500 to flush); a full second run would end after 5000");
  }
}
