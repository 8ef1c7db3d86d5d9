package io.podcapture.capture;

import static io.podcapture.capture.CaptureException.Reason.InvalidInput;
import static io.podcapture.capture.CaptureException.Reason.StorageFailed;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where one capture's files live and which files are its own.
 *
 * <pre>
 *   &lt;dir&gt;/&lt;ns&gt;/                       mode 0700: the guarantee that captures are not world-readable
 *   &lt;dir&gt;/&lt;ns&gt;/capture-&lt;pod&gt;.pcap&lt;k&gt;   the ring tcpdump writes
 *   &lt;dir&gt;/&lt;ns&gt;/previous/capture-&lt;pod&gt;.pcap&lt;k&gt;   the ring of the run before (one generation)
 *   &lt;dir&gt;/&lt;ns&gt;/.capture-&lt;pod&gt;.pid       pid and start time of the running tcpdump
 * </pre>
 *
 * <p>tcpdump's ring naming (checked against tcpdump 4.99.3): with {@code -W 1} it writes the {@code
 * -w} name itself; with {@code -W N}, N &gt; 1, it appends the index zero-padded to the number of
 * digits of N-1, so N = 10 gives {@code pcap0..pcap9} and N = 11 or 12 give {@code pcap00..}. A
 * file is this Pod's when its name is {@code capture-<pod>.pcap} followed by digits only, so Pod
 * {@code web} never matches the files of Pod {@code web-2} or {@code web.pcap1x}. The files tcpdump
 * creates are 0644 (its umask); the 0700 namespace folder is what keeps them from other users.
 */
final class CaptureFiles {

  static final String PREVIOUS_DIR = "previous";
  private static final Pattern RING_NAME = Pattern.compile("capture-(.+)\\.pcap([0-9]*)");
  private static final Pattern PID_NAME = Pattern.compile("\\.capture-(.+)\\.pid");
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private final Path captureDir;
  private final CaptureKey key;
  private final Path namespaceDir;

  private CaptureFiles(Path captureDir, CaptureKey key) throws CaptureException {
    this.captureDir = captureDir.toAbsolutePath().normalize();
    this.key = key;
    this.namespaceDir = this.captureDir.resolve(key.namespace()).normalize();
    // the names are already DNS-1123 checked; this guards the path itself, whatever the checks miss
    if (!namespaceDir.startsWith(this.captureDir)
        || !namespaceDir.getParent().equals(this.captureDir)
        || !ringBase().normalize().getParent().equals(namespaceDir)) {
      throw new CaptureException(
          InvalidInput, "capture " + key + " would write outside " + this.captureDir);
    }
  }

  /**
   * The files of {@code key} below {@code captureDir}; refuses keys that are not valid Kubernetes
   * names.
   */
  static CaptureFiles of(Path captureDir, CaptureKey key) throws CaptureException {
    ValidRequest.checkKey(key);
    return new CaptureFiles(captureDir, key);
  }

  /**
   * The name tcpdump gives the ring file with index {@code index} of a ring of {@code maxFiles}.
   */
  static String fileName(String pod, int maxFiles, int index) {
    String base = ringBaseName(pod);
    if (maxFiles <= 1) {
      return base;
    }
    int width = Integer.toString(maxFiles - 1).length();
    return base + String.format("%0" + width + "d", index);
  }

  /**
   * Whether {@code fileName} is one of Pod {@code pod}'s ring files: the base name, then digits or
   * nothing.
   */
  static boolean isRingFile(String pod, String fileName) {
    Matcher m = RING_NAME.matcher(fileName);
    return m.matches() && m.group(1).equals(pod);
  }

  /**
   * The Pod whose ring file or pid file {@code fileName} is, or null for any other file. The split
   * is unambiguous because the index holds digits only: {@code capture-a.pcap1.pcap3} is Pod {@code
   * a.pcap1}.
   */
  static String podOf(String fileName) {
    Matcher ring = RING_NAME.matcher(fileName);
    Matcher pid = PID_NAME.matcher(fileName);
    String pod = ring.matches() ? ring.group(1) : pid.matches() ? pid.group(1) : null;
    return pod != null && Dns1123.isSubdomain(pod) && pod.length() <= ValidRequest.MAX_POD_NAME
        ? pod
        : null;
  }

  private static String ringBaseName(String pod) {
    return "capture-" + pod + ".pcap";
  }

  CaptureKey key() {
    return key;
  }

  Path namespaceDir() {
    return namespaceDir;
  }

  /** The {@code -w} name tcpdump is given. */
  Path ringBase() {
    return namespaceDir.resolve(ringBaseName(key.name()));
  }

  Path firstFile(int maxFiles) {
    return namespaceDir.resolve(fileName(key.name(), maxFiles, 0));
  }

  Path previousDir() {
    return namespaceDir.resolve(PREVIOUS_DIR);
  }

  Path pidFile() {
    return namespaceDir.resolve(".capture-" + key.name() + ".pid");
  }

  /** Creates the capture folder (if absent) and the namespace folder, both 0700. */
  void createFolders() throws CaptureException {
    try {
      // an existing capture folder keeps its mode (it may be a host path set up by an admin)
      if (!Files.isDirectory(captureDir)) {
        createOwnerOnly(captureDir);
      }
      createOwnerOnly(namespaceDir);
    } catch (IOException e) {
      throw new CaptureException(
          StorageFailed, "cannot create capture folder " + namespaceDir + ": " + e, e);
    }
  }

  private static void createOwnerOnly(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }
    // also when it existed: the folder mode is what keeps captures private
    if (!Files.getPosixFilePermissions(dir).equals(OWNER_ONLY)) {
      Files.setPosixFilePermissions(dir, OWNER_ONLY);
    }
  }

  /**
   * Refuses a start into a folder that cannot take a capture: one that cannot be written (a
   * read-only file system, say), or whose file system has less than {@code needBytes} free. tcpdump
   * itself would start on a full disk and lose every packet without a word.
   */
  void checkRoom(long needBytes) throws CaptureException {
    try {
      Path probe = Files.createTempFile(namespaceDir, ".write-test-", "");
      Files.delete(probe);
    } catch (IOException e) {
      throw new CaptureException(
          StorageFailed, "capture folder " + namespaceDir + " is not writable: " + reason(e), e);
    }
    long free = freeBytes();
    if (free < needBytes) {
      throw new CaptureException(
          StorageFailed,
          "no space left in capture folder "
              + namespaceDir
              + ": "
              + free
              + " bytes free, a capture needs room for at least one file ("
              + needBytes
              + " bytes)");
    }
  }

  /**
   * Bytes free on the namespace folder's file system, counting blocks reserved for root (tcpdump
   * writes as root); Long.MAX_VALUE if that cannot be read, so an unreadable count never stops a
   * capture.
   */
  long freeBytes() {
    try {
      return Files.getFileStore(namespaceDir).getUnallocatedSpace();
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
  }

  private static String reason(IOException e) {
    return e instanceof FileSystemException fs && fs.getReason() != null
        ? fs.getReason()
        : e.toString();
  }

  /** The current ring, in index order. */
  List<Path> ring() throws IOException {
    return matching(namespaceDir);
  }

  /** The kept ring of the run before, in index order. */
  List<Path> previous() throws IOException {
    return matching(previousDir());
  }

  private List<Path> matching(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return files;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        if (isRingFile(key.name(), entry.getFileName().toString())
            && Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
          files.add(entry);
        }
      }
    } catch (NoSuchFileException e) {
      return files;
    }
    files.sort(
        Comparator.comparing((Path p) -> index(p.getFileName().toString()))
            .thenComparing(p -> p.getFileName().toString()));
    return files;
  }

  /** The ring index as a number (-1 for the bare base name), so pcap2 sorts before pcap10. */
  private static long index(String fileName) {
    Matcher m = RING_NAME.matcher(fileName);
    if (!m.matches() || m.group(2).isEmpty()) {
      return -1;
    }
    String digits = m.group(2);
    return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
  }

  /**
   * Moves the current ring (if any) to {@code previous/}, replacing the ring kept there before, so
   * a new tcpdump cannot overwrite it. Only one generation is kept.
   */
  void keepRingAsPrevious() throws CaptureException {
    try {
      List<Path> ring = ring();
      if (ring.isEmpty()) {
        return;
      }
      deleteAll(previous());
      createOwnerOnly(previousDir());
      for (Path file : ring) {
        Files.move(
            file, previousDir().resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new CaptureException(
          StorageFailed,
          "cannot keep the earlier files of " + key + " in " + previousDir() + ": " + e,
          e);
    }
  }

  void deleteRing() throws IOException {
    deleteAll(ring());
  }

  /**
   * Deletes the ring, the kept ring and the pid file; folders stay (another capture may be creating
   * files).
   */
  void deleteEverything() throws IOException {
    deleteAll(ring());
    deleteAll(previous());
    Files.deleteIfExists(pidFile());
  }

  private static void deleteAll(List<Path> files) throws IOException {
    for (Path file : files) {
      Files.deleteIfExists(file);
    }
  }
}
