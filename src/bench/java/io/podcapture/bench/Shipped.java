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

/**
 * The JVM flags and environment the image ships, read from the Dockerfile so the benchmark runs
 * what ships.
 */
record Shipped(List<String> flags, Map<String, String> env) {

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
}
