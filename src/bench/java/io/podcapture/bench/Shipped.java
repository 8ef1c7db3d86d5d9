package io.podcapture.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The JVM flags and environment the image ships, read from the Dockerfile so the benchmark runs
 * what ships.
 */
record Shipped(List<String> flags, Map<String, String> env) {
  /** The flag that names the image's class data archive, made when the image is built. */
  static final String ARCHIVE_FLAG = "-XX:SharedArchiveFile=";

  /** What the image makes its archive from (the Dockerfile's {@code RUN java -Xshare:dump}). */
  static final String CLASS_LIST = "deploy/agent.classlist";

  static Shipped read(Path dockerfile) throws IOException {
    List<String> lines = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(dockerfile)) {
      String s = line.strip();
      if (s.startsWith("#") || (s.isEmpty() && current.length() == 0)) {
        continue;
      }
      boolean more = s.endsWith("\\");
      current.append(more ? s.substring(0, s.length() - 1) : s).append(' ');
      if (!more) {
        lines.add(current.toString().strip());
        current.setLength(0);
      }
    }
    int lastFrom = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).toUpperCase(Locale.ROOT).startsWith("FROM ")) {
        lastFrom = i;
      }
    }
    List<String> flags = null;
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : lines.subList(lastFrom, lines.size())) {
      if (line.startsWith("ENTRYPOINT ")) {
        List<String> argv =
            new ObjectMapper()
                .readValue(
                    line.substring("ENTRYPOINT ".length()), new TypeReference<List<String>>() {});
        int jar = argv.indexOf("-jar");
        flags = List.copyOf(argv.subList(1, jar));
      } else if (line.startsWith("ENV ")) {
        for (String pair : line.substring(4).strip().split("\\s+")) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            env.put(pair.substring(0, eq), pair.substring(eq + 1).replace("\"", ""));
          }
        }
      }
    }
    if (flags == null) {
      throw new IllegalStateException("no ENTRYPOINT in " + dockerfile);
    }
    return new Shipped(flags, env);
  }

  /**
   * The same flags with the image's class data archive made here for {@code jar}, as the image's
   * build makes {@code /app/agent.jsa} from {@link #CLASS_LIST} for its jar: an archive is only
   * used with the very jar it was made for (path and time stamp), and a JVM that cannot use the one
   * it is given goes on without any, silently. Flags without the archive flag are returned as they
   * are.
   */
  Shipped withArchiveFor(Path jar, Path project, Path dir)
      throws IOException, InterruptedException {
    if (flags.stream().noneMatch(f -> f.startsWith(ARCHIVE_FLAG))) {
      return this;
    }
    Files.createDirectories(dir);
    Path archive = dir.resolve("agent.jsa").toAbsolutePath();
    Files.deleteIfExists(archive);
    Path log = dir.resolve("agent.jsa.log");
    Process dump =
        new ProcessBuilder(
                "java",
                "-Xshare:dump",
                "-XX:+UseSerialGC",
                "-XX:SharedClassListFile=" + project.resolve(CLASS_LIST),
                ARCHIVE_FLAG + archive,
                "-cp",
                jar.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (dump.waitFor() != 0 || !Files.exists(archive)) {
      throw new IllegalStateException("java -Xshare:dump failed: see " + log);
    }
    List<String> local =
        flags.stream().map(f -> f.startsWith(ARCHIVE_FLAG) ? ARCHIVE_FLAG + archive : f).toList();
    return new Shipped(local, env);
  }

  /**
   * The flags without the class data archive: for the same classes on another classpath, where the
   * archive made for the jar would not be used.
   */
  List<String> flagsWithoutArchive() {
    return flags.stream().filter(f -> !f.startsWith(ARCHIVE_FLAG)).toList();
  }

  /**
   * The flags as a report shows them: the archive, made in a scratch folder, named as the image
   * names it.
   */
  String shown() {
    String joined =
        String.join(" ", flags)
            .replaceAll(Pattern.quote(ARCHIVE_FLAG) + "\\S+", ARCHIVE_FLAG + "<archive>");
    return flags.stream().anyMatch(f -> f.startsWith(ARCHIVE_FLAG))
        ? "`"
            + joined
            + "` (`<archive>`: the image's /app/agent.jsa, made here for the benchmark's jar from "
            + CLASS_LIST
            + ")"
        : "`" + joined + "`";
  }
}
