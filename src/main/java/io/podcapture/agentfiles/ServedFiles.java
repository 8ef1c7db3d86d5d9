package io.podcapture.agentfiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which of the paths a capture claims (the capture layer's snapshot, {@code status.files}) the
 * server may send. A path is kept only if it is, exactly, {@code
 * <captureDir>/<namespace>/capture-<name>.pcap<digits>} or the same below {@code previous/}, and
 * the file there is a regular file and no symlink (read without following links), in folders that
 * are no symlinks either. Anything else, a path a status could claim that points elsewhere
 * included, is left out, so it is as unknown as a file that does not exist.
 */
public final class ServedFiles {
  private static final String PREVIOUS_DIR = "previous";

  private ServedFiles() {}

  /**
   * The capture's files among {@code claimed}, oldest first (by modification time, then name), as
   * tcpdump wrote them.
   */
  public static List<ServedFile> of(
      Path captureDir, String namespace, String name, Collection<Path> claimed) {
    Path root = captureDir.toAbsolutePath().normalize();
    if (!FilesRequest.NAMESPACE.matcher(namespace).matches()
        || name.length() > FilesRequest.MAX_NAME
        || !FilesRequest.NAME.matcher(name).matches()) {
      return List.of();
    }
    Path namespaceDir = root.resolve(namespace);
    Path previousDir = namespaceDir.resolve(PREVIOUS_DIR);
    Pattern ringName = Pattern.compile(Pattern.quote("capture-" + name + ".pcap") + "[0-9]*");
    boolean namespaceOk = isRealDirectory(namespaceDir);
    boolean previousOk = namespaceOk && isRealDirectory(previousDir);
    List<ServedFile> files = new ArrayList<>();
    Set<Path> seen = new LinkedHashSet<>();
    for (Path claim : claimed) {
      if (claim == null || !claim.isAbsolute() || !claim.equals(claim.normalize())) {
        continue;
      }
      Path parent = claim.getParent();
      String fileName = claim.getFileName().toString();
      boolean inRing = namespaceOk && namespaceDir.equals(parent);
      boolean inPrevious = previousOk && previousDir.equals(parent);
      if ((!inRing && !inPrevious) || !ringName.matcher(fileName).matches() || !seen.add(claim)) {
        continue;
      }
      BasicFileAttributes attributes = regularFile(claim);
      if (attributes != null) {
        files.add(
            new ServedFile(
                inPrevious ? FilesRequest.PREVIOUS + fileName : fileName,
                claim,
                attributes.size(),
                attributes.lastModifiedTime().toInstant(),
                inPrevious));
      }
    }
    files.sort(Comparator.comparing(ServedFile::modified).thenComparing(ServedFile::name));
    return files;
  }

  /** The file's attributes if it is a regular file (not a symlink), else null. */
  static BasicFileAttributes regularFile(Path path) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return a.isRegularFile() && !a.isSymbolicLink() ? a : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static boolean isRealDirectory(Path dir) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return a.isDirectory() && !a.isSymbolicLink();
    } catch (IOException e) {
      return false;
    }
  }
}
