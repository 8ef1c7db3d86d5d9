package io.podcapture.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Finds the project's own files: surefire sets PODCAPTURE_PROJECT_DIR, else the working directory.
 */
final class ProjectFiles {
  static final String PROJECT_DIR = "PODCAPTURE_PROJECT_DIR";

  private ProjectFiles() {}

  static Path root() {
    String dir = System.getProperty(PROJECT_DIR, System.getenv(PROJECT_DIR));
    return (dir == null || dir.isBlank() ? Path.of("") : Path.of(dir)).toAbsolutePath().normalize();
  }

  static Path path(String relative) {
    return root().resolve(relative);
  }

  static String read(String relative) {
    Path file = path(relative);
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** The .yaml and .yml files directly in a folder of the project, sorted by name. */
  static List<Path> yamlFiles(String folder) {
    try (Stream<Path> files = Files.list(path(folder))) {
      return files
          .filter(
              f ->
                  f.getFileName().toString().endsWith(".yaml")
                      || f.getFileName().toString().endsWith(".yml"))
          .sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + path(folder), e);
    }
  }

  static String relative(Path file) {
    return root().relativize(file.toAbsolutePath().normalize()).toString();
  }
}
