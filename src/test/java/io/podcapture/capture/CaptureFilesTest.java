package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CaptureFilesTest {

  @TempDir Path tmp;

  /**
   * Names as tcpdump 4.99.3 really writes them (checked by RotationTest and by hand for 10, 11,
   * 12).
   */
  @ParameterizedTest
  @CsvSource({
    "1, 0, capture-web.pcap",
    "2, 1, capture-web.pcap1",
    "5, 0, capture-web.pcap0",
    "5, 4, capture-web.pcap4",
    "10, 0, capture-web.pcap0",
    "10, 9, capture-web.pcap9",
    "11, 0, capture-web.pcap00",
    "11, 10, capture-web.pcap10",
    "12, 0, capture-web.pcap00",
    "12, 11, capture-web.pcap11",
    "100, 99, capture-web.pcap99",
    "101, 0, capture-web.pcap000",
    "1000, 999, capture-web.pcap999",
  })
  void namesRingFilesLikeTcpdump(int maxFiles, int index, String name) {
    assertEquals(name, CaptureFiles.fileName("web", maxFiles, index));
  }

  @ParameterizedTest
  @CsvSource({
    "web, capture-web.pcap, true",
    "web, capture-web.pcap0, true",
    "web, capture-web.pcap07, true",
    "web, capture-web.pcap999, true",
    "web, capture-web-2.pcap0, false",
    "web, capture-web-2.pcap, false",
    "web, capture-web.pcap1x, false",
    "web, capture-web.pcap.bak, false",
    "web, capture-web.pcap-1, false",
    "web, capture-web.pcap1.pcap2, false",
    "web.pcap1, capture-web.pcap1.pcap2, true",
    "web.pcap1, capture-web.pcap1, false",
    "web, xcapture-web.pcap0, false",
    "web, 'capture-web.pcap0 ', false",
    "web, .capture-web.pid, false",
    "web, capture-we.pcap0, false",
    "we, capture-web.pcap0, false",
    "web, capture-web.pcap\u0661, false",
  })
  void matchesOnlyThePodsOwnRingFiles(String pod, String fileName, boolean matches) {
    assertEquals(matches, CaptureFiles.isRingFile(pod, fileName));
  }

  @Test
  void matchingStopsAtANewline() {
    assertFalse(CaptureFiles.isRingFile("web", "capture-web.pcap0\n"));
  }

  @ParameterizedTest
  @CsvSource({
    "capture-web.pcap, web",
    "capture-web.pcap07, web",
    "capture-web.pcap1.pcap2, web.pcap1",
    ".capture-web-2.pid, web-2",
  })
  void findsThePodOfAFile(String fileName, String pod) {
    assertEquals(pod, CaptureFiles.podOf(fileName));
  }

  @ParameterizedTest
  @CsvSource({
    "capture-Web.pcap0",
    "capture-.pcap0",
    "capture--web.pcap",
    "notes.txt",
    "capture-web.pcap1x",
    ".capture-web.pid.tmp",
    "previous",
    "capture-web.pcap.bak"
  })
  void findsNoPodInOtherFiles(String fileName) {
    assertNull(CaptureFiles.podOf(fileName));
  }

  @Test
  void placesFilesInTheNamespaceFolder() throws CaptureException {
    CaptureFiles files = CaptureFiles.of(tmp, new CaptureKey("default", "web"));
    assertEquals(tmp.resolve("default/capture-web.pcap"), files.ringBase());
    assertEquals(tmp.resolve("default/capture-web.pcap0"), files.firstFile(5));
    assertEquals(tmp.resolve("default/capture-web.pcap"), files.firstFile(1));
    assertEquals(tmp.resolve("default/previous"), files.previousDir());
    assertEquals(tmp.resolve("default/.capture-web.pid"), files.pidFile());
  }

  @Test
  void createsFoldersOwnerOnly() throws Exception {
    Path dir = tmp.resolve("new/capture");
    CaptureFiles.of(dir, new CaptureKey("default", "web")).createFolders();
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("default"))));
  }

  @Test
  void tightensAnExistingNamespaceFolderButNotTheCaptureFolder() throws Exception {
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectory(
        tmp.resolve("default"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    CaptureFiles.of(tmp, new CaptureKey("default", "web")).createFolders();
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp)));
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("default"))));
  }

  @Test
  void listsTheRingInIndexOrder() throws Exception {
    CaptureFiles files = CaptureFiles.of(tmp, new CaptureKey("default", "web"));
    files.createFolders();
    for (String name :
        List.of(
            "capture-web.pcap10",
            "capture-web.pcap2",
            "capture-web.pcap",
            "capture-web-2.pcap0",
            "capture-web.pcap1x")) {
      Files.writeString(tmp.resolve("default").resolve(name), "x");
    }
    assertEquals(
        List.of("capture-web.pcap", "capture-web.pcap2", "capture-web.pcap10"),
        names(files.ring()));
  }

  @Test
  void keepsTheRingAsTheOnlyPreviousGeneration() throws Exception {
    CaptureFiles files = CaptureFiles.of(tmp, new CaptureKey("default", "web"));
    files.createFolders();
    Path ns = tmp.resolve("default");
    Files.createDirectory(ns.resolve("previous"));
    Files.writeString(ns.resolve("previous/capture-web.pcap7"), "older");
    Files.writeString(ns.resolve("previous/capture-web-2.pcap0"), "other pod");
    Files.writeString(ns.resolve("capture-web.pcap0"), "new 0");
    Files.writeString(ns.resolve("capture-web.pcap1"), "new 1");
    Files.writeString(ns.resolve("capture-web-2.pcap0"), "other pod");

    files.keepRingAsPrevious();

    assertEquals(List.of(), files.ring());
    assertEquals(List.of("capture-web.pcap0", "capture-web.pcap1"), names(files.previous()));
    assertEquals("new 1", Files.readString(ns.resolve("previous/capture-web.pcap1")));
    assertTrue(Files.exists(ns.resolve("previous/capture-web-2.pcap0")));
    assertTrue(Files.exists(ns.resolve("capture-web-2.pcap0")));
  }

  @Test
  void deletesEverythingOfThePodAndNothingElse() throws Exception {
    CaptureFiles files = CaptureFiles.of(tmp, new CaptureKey("default", "web"));
    files.createFolders();
    Path ns = tmp.resolve("default");
    Files.createDirectory(ns.resolve("previous"));
    List<String> ours =
        List.of(
            "capture-web.pcap",
            "capture-web.pcap3",
            "previous/capture-web.pcap0",
            ".capture-web.pid");
    List<String> others =
        List.of(
            "capture-web-2.pcap0",
            "capture-web.pcap1x",
            "previous/capture-web-2.pcap0",
            ".capture-web-2.pid",
            "notes.txt");
    for (String name : concat(ours, others)) {
      Files.writeString(ns.resolve(name), "x");
    }

    files.deleteEverything();

    ours.forEach(name -> assertFalse(Files.exists(ns.resolve(name)), name));
    others.forEach(name -> assertTrue(Files.exists(ns.resolve(name)), name));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new java.util.ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static List<String> names(List<Path> paths) {
    return paths.stream().map(p -> p.getFileName().toString()).toList();
  }

  @Test
  void removesNoFileWhenTheFolderIsMissing() throws IOException, CaptureException {
    CaptureFiles files = CaptureFiles.of(tmp.resolve("absent"), new CaptureKey("default", "web"));
    files.deleteEverything();
    assertEquals(List.of(), files.ring());
    assertEquals(List.of(), files.previous());
  }
}
