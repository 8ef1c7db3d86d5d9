package io.podcapture.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.CaptureFile;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.controller.Names;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.Command;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import io.podcapture.testing.User;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk and an unwritable capture folder, made real with small tmpfs mounts on one
 * namespace's folder, so that a capture in another namespace (on the ordinary disk) shows that
 * nothing else is affected.
 */
@Tag("real-capture")
class DiskFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path captureDir;
  private MockApiServer api;
  private User cluster;
  private AgentHarness agent;
  private final List<Path> mounts = new ArrayList<>();

  @BeforeEach
  void start() {
    Requirements.realCapture();
    Requirements.commands("mount", "umount");
    api = new MockApiServer();
    cluster = new User(api.client());
    cluster.namespace("full");
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    cluster.client().close();
    api.close();
    Processes.killWritingInto(captureDir);
    for (Path mount : mounts) {
      if (!Command.run("umount", mount.toString()).ok()) {
        Command.run("umount", "-l", mount.toString());
      }
    }
  }

  /**
   * A tmpfs of {@code size} (e.g. "2m") on the folder of namespace {@code namespace}, mode 0700 as
   * the agent makes.
   */
  private Path tmpfs(String namespace, String options) throws IOException {
    Path dir = Files.createDirectories(captureDir.resolve(namespace));
    Command.run("mount", "-t", "tmpfs", "-o", options + ",mode=0700", "tmpfs", dir.toString())
        .orThrow();
    mounts.add(dir);
    return dir;
  }

  /** Writes into {@code file} until the file system says it is full. */
  private static void fill(Path file) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
    try (FileChannel out =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      while (true) {
        chunk.clear();
        out.write(chunk);
      }
    } catch (IOException e) {
      if (!String.valueOf(e.getMessage()).contains("No space left")) {
        throw e;
      }
    }
  }

  private long startOtherCapture() {
    cluster.createPod("default", "ok", "2", List.of("198.51.100.70"));
    cluster.awaitPhase("default", "ok", "Running", WAIT);
    await()
        .atMost(WAIT)
        .until(() -> Processes.writingInto(captureDir.resolve("default")).size() == 1);
    return Processes.writingInto(captureDir.resolve("default")).get(0);
  }

  private void assertOtherCaptureUntouched(long pid) {
    assertEquals(List.of(pid), Processes.writingInto(captureDir.resolve("default")));
    assertEquals("Running", cluster.phase("default", "ok"));
  }

  @Test
  void fullDiskRefusesTheCaptureWithAClearMessageAndNothingElseIsAffected() throws Exception {
    Path dir = tmpfs("full", "size=512k");
    fill(dir.resolve("someone-elses-file"));
    agent = AgentHarness.wholeAgent(api, captureDir, Map.of("MAX_RESTARTS", "1"));
    long other = startOtherCapture();

    cluster.createPod("full", "web", "2", List.of("198.51.100.71"));

    await()
        .atMost(WAIT)
        .until(
            () ->
                "Failed".equals(cluster.phase("full", "web"))
                    && cluster.cr("full", "web").getStatus().getMessage().contains("gave up"));
    PodCapture cr = cluster.cr("full", "web");
    assertEquals(Names.REASON_START_FAILED, User.ready(cr).getReason());
    assertTrue(
        cr.getStatus()
            .getMessage()
            .startsWith("tcpdump could not start: no space left in capture folder " + dir + ": "),
        cr.getStatus().getMessage());
    assertTrue(
        cr.getStatus()
            .getMessage()
            .contains("a capture needs room for at least one file (1048576 bytes)"),
        cr.getStatus().getMessage());
    assertTrue(Processes.writingInto(dir).isEmpty(), "no tcpdump runs into a full disk");
    assertEquals(List.of("someone-elses-file"), Pcap.files(dir));
    assertOtherCaptureUntouched(other);

    cluster.removeAnnotation("full", "web");
    await().atMost(WAIT).until(() -> cluster.cr("full", "web") == null);
    assertEquals(List.of("someone-elses-file"), Pcap.files(dir));
  }

  @Test
  void diskFillingUpDuringACaptureStopsItKeepsItsFilesAndSaysWhy() throws Exception {
    Path dir = tmpfs("full", "size=4m");
    agent = AgentHarness.wholeAgent(api, captureDir, Map.of());
    long other = startOtherCapture();
    cluster.createPod("full", "web", "2", List.of("198.51.100.72"));
    cluster.awaitPhase("full", "web", "Running", WAIT);
    await().atMost(WAIT).until(() -> Processes.writingInto(dir).size() == 1);

    long filled = System.nanoTime();
    fill(dir.resolve("someone-elses-file"));

    PodCapture cr = cluster.awaitPhase("full", "web", "Failed", WAIT);
    long noticed = (System.nanoTime() - filled) / 1_000_000;
    assertEquals(Names.REASON_DISK_FULL, User.ready(cr).getReason());
    assertTrue(
        cr.getStatus().getMessage().startsWith("no space left in capture folder " + dir + " ("),
        cr.getStatus().getMessage());
    assertTrue(
        cr.getStatus()
            .getMessage()
            .endsWith(
                "tcpdump was stopped and the files captured so far are kept; "
                    + "free space on the node, then remove and re-add the annotation to capture again"),
        cr.getStatus().getMessage());
    await().atMost(WAIT).until(() -> Processes.writingInto(dir).isEmpty());
    assertEquals(
        List.of(dir.resolve("capture-web.pcap0").toString()),
        cluster.cr("full", "web").getStatus().getFiles().stream()
            .map(CaptureFile::getPath)
            .toList());
    // Stopped for good: no restart loop against a full disk.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                Processes.writingInto(dir).isEmpty()
                    && "Failed".equals(cluster.phase("full", "web")));
    assertOtherCaptureUntouched(other);
    System.out.printf("disk full noticed %d ms after it filled up%n", noticed);

    cluster.removeAnnotation("full", "web");
    await().atMost(WAIT).until(() -> cluster.cr("full", "web") == null);
    assertEquals(List.of("someone-elses-file"), Pcap.files(dir));
  }

  @Test
  void readOnlyCaptureFolderFailsWithAClearMessageAndNothingElseIsAffected() throws Exception {
    Path dir = tmpfs("full", "size=512k,ro");
    agent = AgentHarness.wholeAgent(api, captureDir, Map.of("MAX_RESTARTS", "1"));
    long other = startOtherCapture();

    cluster.createPod("full", "web", "2", List.of("198.51.100.73"));

    await()
        .atMost(WAIT)
        .until(
            () ->
                "Failed".equals(cluster.phase("full", "web"))
                    && cluster.cr("full", "web").getStatus().getMessage().contains("gave up"));
    PodCapture cr = cluster.cr("full", "web");
    assertEquals(Names.REASON_START_FAILED, User.ready(cr).getReason());
    assertEquals(
        "tcpdump could not start: capture folder "
            + dir
            + " is not writable: Read-only file system; gave "
            + "up after 2 attempts; remove and re-add the annotation to try again",
        cr.getStatus().getMessage());
    assertTrue(Processes.writingInto(dir).isEmpty());
    assertOtherCaptureUntouched(other);
  }

  @Test
  void captureWhoseRestartFailsLeavesNoFilesOnceReleased() throws Exception {
    agent = AgentHarness.wholeAgent(api, captureDir, Map.of("MAX_RESTARTS", "1"));
    cluster.createPod("full", "web", "2", List.of("198.51.100.74"));
    cluster.awaitPhase("full", "web", "Running", WAIT);
    Path dir = captureDir.resolve("full");
    await().atMost(WAIT).until(() -> Processes.writingInto(dir).size() == 1);
    // Something takes the place where earlier files are kept, then tcpdump dies: its restart cannot
    // keep the earlier ring, so it fails, and the capture layer no longer holds the capture whose
    // ring is still on disk.
    Files.writeString(dir.resolve("previous"), "not a folder");
    Processes.kill9(Processes.writingInto(dir).get(0));
    await()
        .atMost(WAIT)
        .until(
            () ->
                "Failed".equals(cluster.phase("full", "web"))
                    && cluster
                        .cr("full", "web")
                        .getStatus()
                        .getMessage()
                        .contains("cannot keep the earlier files"));
    assertTrue(Pcap.files(dir).contains("capture-web.pcap0"), Pcap.files(dir).toString());

    cluster.removeAnnotation("full", "web");

    await().atMost(WAIT).until(() -> cluster.cr("full", "web") == null);
    await().atMost(WAIT).until(() -> Pcap.files(dir).equals(List.of("previous")));
  }
}
