package io.podcapture.agentfiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class ServedFilesTest {
  @TempDir Path tmp;
  private Path captureDir;
  private Path shop;

  @BeforeEach
  void folders() throws IOException {
    captureDir = Files.createDirectories(tmp.resolve("capture"));
    shop = Files.createDirectories(captureDir.resolve("shop"));
  }

  private static Path file(Path path, String content, long modifiedMillis) throws IOException {
    Files.createDirectories(path.getParent());
    Files.writeString(path, content);
    Files.setLastModifiedTime(path, FileTime.fromMillis(modifiedMillis));
    return path;
  }

  private List<ServedFile> of(String name, List<Path> claimed) {
    return ServedFiles.of(captureDir, "shop", name, claimed);
  }

  private static List<String> names(List<ServedFile> files) {
    return files.stream().map(ServedFile::name).toList();
  }

  @Test
  void ringAndKeptFilesAreListedOldestFirstWithSizeAndTime() throws IOException {
    Path p1 = file(shop.resolve("capture-web.pcap1"), "second", 2_000);
    Path p0 = file(shop.resolve("capture-web.pcap0"), "third!", 3_000);
    Path kept = file(shop.resolve("previous/capture-web.pcap0"), "first", 1_000);

    List<ServedFile> files = of("web", List.of(p0, p1, kept));

    assertEquals(
        List.of("previous/capture-web.pcap0", "capture-web.pcap1", "capture-web.pcap0"),
        names(files));
    assertEquals(5, files.get(0).sizeBytes());
    assertTrue(files.get(0).previous());
    assertEquals(Instant.ofEpochMilli(2_000), files.get(1).modified());
    assertEquals(p1, files.get(1).path());
    assertFalse(files.get(1).previous());
  }

  @Test
  void aFileClaimedTwiceIsListedOnce() throws IOException {
    Path p0 = file(shop.resolve("capture-web.pcap0"), "x", 1_000);
    assertEquals(List.of("capture-web.pcap0"), names(of("web", List.of(p0, p0))));
  }

  @Test
  void onlyThisCapturesRingNamesAreItsFiles() throws IOException {
    Path other = file(shop.resolve("capture-web-2.pcap0"), "x", 1_000);
    Path suffix = file(shop.resolve("capture-web.pcap0x"), "x", 1_000);
    Path pid = file(shop.resolve(".capture-web.pid"), "1", 1_000);
    Path plain = file(shop.resolve("notes.txt"), "x", 1_000);
    assertEquals(List.of(), of("web", List.of(other, suffix, pid, plain)));
  }

  @Test
  void pathsOutsideTheNamespaceFolderAreNeverFilesOfTheCapture() throws IOException {
    Path elsewhere = file(tmp.resolve("capture-web.pcap0"), "x", 1_000);
    Path otherNamespace = file(captureDir.resolve("bank/capture-web.pcap0"), "x", 1_000);
    Path deeper = file(shop.resolve("previous/old/capture-web.pcap0"), "x", 1_000);
    Path sub = file(shop.resolve("sub/capture-web.pcap0"), "x", 1_000);
    file(shop.resolve("capture-web.pcap0"), "x", 1_000);
    Path dotted = shop.resolve("previous/../capture-web.pcap0");
    Path relative = Path.of("shop/capture-web.pcap0");
    assertEquals(
        List.of(), of("web", List.of(elsewhere, otherNamespace, deeper, sub, dotted, relative)));
  }

  @Test
  void symlinksFoldersAndPipesAreNotServed() throws Exception {
    Path secret = file(tmp.resolve("secret"), "root's secret", 1_000);
    Path link = Files.createSymbolicLink(shop.resolve("capture-web.pcap0"), secret);
    Path dir = Files.createDirectories(shop.resolve("capture-web.pcap1"));
    Path fifo = shop.resolve("capture-web.pcap2");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    assertEquals(List.of(), of("web", List.of(link, dir, fifo)));
  }

  @Test
  void aNamespaceOrPreviousFolderThatIsASymlinkServesNothing() throws IOException {
    Path real = Files.createDirectories(tmp.resolve("real"));
    file(real.resolve("capture-web.pcap0"), "x", 1_000);
    Files.createSymbolicLink(captureDir.resolve("bank"), real);
    assertEquals(
        List.of(),
        ServedFiles.of(
            captureDir, "bank", "web", List.of(captureDir.resolve("bank/capture-web.pcap0"))));

    Files.createSymbolicLink(shop.resolve("previous"), real);
    assertEquals(List.of(), of("web", List.of(shop.resolve("previous/capture-web.pcap0"))));
  }

  @Test
  void aFileThatIsGoneIsNotListed() {
    assertEquals(List.of(), of("web", List.of(shop.resolve("capture-web.pcap0"))));
  }

  @Test
  void namesThatAreNoKubernetesNamesServeNothing() throws IOException {
    file(captureDir.resolve("capture-x.pcap0"), "x", 1_000);
    assertEquals(
        List.of(),
        ServedFiles.of(captureDir, "..", "x", List.of(captureDir.resolve("capture-x.pcap0"))));
    assertEquals(
        List.of(),
        ServedFiles.of(captureDir, "shop", "../x", List.of(shop.resolve("capture-../x.pcap0"))));
  }
}
