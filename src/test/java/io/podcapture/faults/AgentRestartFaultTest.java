package io.podcapture.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.CaptureFile;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.testing.AgentJvm;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.NetnsPod.Ping;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import io.podcapture.testing.User;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent process is SIGKILLed mid-capture (as an OOM kill or a crash does) and started again, as
 * a real separate JVM so that the kill really orphans its tcpdump. The next run stops the orphan,
 * resumes the capture that should still run without overwriting the earlier files (kept in
 * previous/, one generation), and deletes the files of the capture whose annotation went while no
 * agent ran.
 */
@Tag("real-capture")
class AgentRestartFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(40);

  /** Each agent run pings with its own size, so the pcap files tell which run's ring they hold. */
  private static final int FIRST_RUN_SIZE = 101;

  private static final int ORPHAN_SIZE = 202;
  private static final int SECOND_RUN_SIZE = 303;

  @TempDir Path captureDir;
  @TempDir Path work;
  private NetnsPod web;
  private MockApiServer api;
  private User cluster;
  private final List<AgentJvm> agents = new ArrayList<>();

  @BeforeEach
  void start() {
    Requirements.realCapture();
    web = NetnsPod.create();
    api = new MockApiServer();
    cluster = new User(api.client());
  }

  @AfterEach
  void stop() throws Exception {
    for (AgentJvm agent : agents) {
      agent.close();
    }
    cluster.client().close();
    api.close();
    web.close();
    Processes.killWritingInto(captureDir);
  }

  private AgentJvm startAgent() throws Exception {
    AgentJvm agent =
        AgentJvm.start(
            api.writeKubeconfig(work.resolve("kubeconfig")),
            captureDir,
            work.resolve("agent.log"),
            Map.of());
    agents.add(agent);
    return agent;
  }

  private long onlyTcpdumpIn(Path dir, List<Long> not) {
    long[] pid = new long[1];
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              List<Long> pids = Processes.writingInto(dir);
              if (pids.size() == 1 && !not.contains(pids.get(0))) {
                pid[0] = pids.get(0);
                return true;
              }
              return false;
            });
    return pid[0];
  }

  private void ping(int size) {
    assertEquals(5, web.ping(Ping.count(5).size(size).interval(Duration.ofMillis(20))).received());
  }

  /** The ICMP payload sizes of the echo requests in a file ("length" is payload + 8). */
  private static List<Integer> sizes(Path file) {
    return Pcap.packets(file).stream()
        .filter(p -> p.contains("ICMP echo request"))
        .map(p -> Integer.parseInt(p.replaceAll(".*length (\\d+).*", "$1")) - 8)
        .distinct()
        .sorted()
        .toList();
  }

  private static List<String> paths(PodCapture cr) {
    return cr.getStatus().getFiles().stream().map(CaptureFile::getPath).toList();
  }

  @Test
  void sigkilledAgentLeavesNoOrphanAndTheNextRunResumesKeepingThePreviousFiles() throws Exception {
    cluster.namespace("shop");
    cluster.createPod("default", "web", "2", web.ips());
    cluster.createPod("shop", "done", "2", List.of("198.51.100.60"));
    Path webDir = captureDir.resolve("default");
    Path shopDir = captureDir.resolve("shop");
    Path ring = webDir.resolve("capture-web.pcap0");
    Path kept = webDir.resolve("previous/capture-web.pcap0");

    AgentJvm first = startAgent();
    long began = System.nanoTime();
    cluster.awaitPhase("default", "web", "Running", WAIT);
    cluster.awaitPhase("shop", "done", "Running", WAIT);
    long firstReady = (System.nanoTime() - began) / 1_000_000;
    long webPid = onlyTcpdumpIn(webDir, List.of());
    long donePid = onlyTcpdumpIn(shopDir, List.of());
    ping(FIRST_RUN_SIZE);

    first.kill9();
    // The kill really left the tcpdumps running, with nobody to stop them.
    assertFalse(first.alive());
    assertTrue(
        Processes.alive(webPid) && Processes.alive(donePid), "SIGKILL orphaned both tcpdumps");
    // While no agent runs, the user releases one capture, and the orphan goes on writing the other.
    cluster.removeAnnotation("shop", "done");
    ping(ORPHAN_SIZE);
    String startedBefore = cluster.cr("default", "web").getStatus().getStartTime();
    Thread.sleep(1000); // so a new run's start time (whole seconds) differs

    AgentJvm second = startAgent();
    began = System.nanoTime();
    long resumedPid = onlyTcpdumpIn(webDir, List.of(webPid));
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              PodCapture cr = cluster.cr("default", "web");
              return "Running".equals(cr.getStatus().getPhase())
                  && !startedBefore.equals(cr.getStatus().getStartTime())
                  && paths(cr).contains(kept.toString());
            });
    await()
        .atMost(WAIT)
        .until(() -> cluster.cr("shop", "done") == null && Pcap.files(shopDir).isEmpty());
    long secondReady = (System.nanoTime() - began) / 1_000_000;
    assertFalse(Processes.alive(webPid), "the orphan writing web's ring was stopped");
    assertFalse(Processes.alive(donePid), "the orphan of the released capture was stopped");
    assertEquals(
        List.of(resumedPid), Processes.writingInto(captureDir), "one tcpdump: the resumed capture");
    // The earlier ring was moved aside, not overwritten, and is listed in the status.
    assertEquals(List.of(FIRST_RUN_SIZE, ORPHAN_SIZE), sizes(kept));
    assertEquals(List.of(), sizes(ring));
    PodCapture resumed = cluster.cr("default", "web");
    assertEquals(List.of(ring.toString(), kept.toString()), paths(resumed));
    assertEquals(0, resumed.getStatus().getRestartCount());
    assertTrue(
        Instant.parse(resumed.getStatus().getStartTime()).isAfter(Instant.parse(startedBefore)));

    ping(SECOND_RUN_SIZE);
    second.kill9();
    AgentJvm third = startAgent();
    long thirdPid = onlyTcpdumpIn(webDir, List.of(webPid, resumedPid));
    assertFalse(Processes.alive(resumedPid));
    // One generation is kept: the second run's ring replaced the first run's.
    await().atMost(WAIT).until(() -> sizes(kept).equals(List.of(SECOND_RUN_SIZE)));
    assertEquals(
        List.of(
            "default/.capture-web.pid",
            "default/capture-web.pcap0",
            "default/previous/capture-web.pcap0"),
        Pcap.files(captureDir));

    // A clean stop (SIGTERM) ends tcpdump and keeps the files for the next run.
    int exit = third.terminate(Duration.ofSeconds(20));
    assertFalse(Processes.alive(thirdPid), "SIGTERM to the agent stops its tcpdump");
    assertEquals(
        List.of("default/capture-web.pcap0", "default/previous/capture-web.pcap0"),
        Pcap.files(captureDir));
    System.out.printf(
        "agent restart: first run ready in %d ms, second run resumed and cleaned up in %d ms; "
            + "SIGTERM exit code %d%n",
        firstReady, secondReady, exit);
  }
}
