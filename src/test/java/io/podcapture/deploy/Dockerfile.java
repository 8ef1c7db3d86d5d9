package io.podcapture.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Dockerfile read as Docker parses it: continuation lines joined, comment lines dropped, one
 * instruction per keyword and arguments. Shared by {@link DockerfileTest}, which reads it, and the
 * image test, which builds and runs what it describes.
 */
public final class Dockerfile {
  /**
   * One instruction: its keyword in capitals and its arguments with runs of white space made one
   * space.
   */
  public record Instruction(String keyword, String arguments) {}

  private final List<Instruction> instructions;

  private Dockerfile(List<Instruction> instructions) {
    this.instructions = List.copyOf(instructions);
  }

  public static Dockerfile read(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  public static Dockerfile parse(String text) {
    List<Instruction> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      String stripped = line.strip();
      if (stripped.startsWith("#") || (stripped.isEmpty() && current.length() == 0)) {
        continue;
      }
      boolean continued = stripped.endsWith("\\");
      current
          .append(continued ? stripped.substring(0, stripped.length() - 1).strip() : stripped)
          .append(' ');
      if (!continued) {
        String joined = current.toString().strip().replaceAll("\\s+", " ");
        int space = joined.indexOf(' ');
        instructions.add(
            new Instruction(
                joined.substring(0, space).toUpperCase(java.util.Locale.ROOT),
                joined.substring(space + 1)));
        current.setLength(0);
      }
    }
    return new Dockerfile(instructions);
  }

  public List<Instruction> instructions() {
    return instructions;
  }

  public List<Instruction> of(String keyword) {
    return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
  }

  /** Everything before the last FROM. */
  public List<Instruction> buildStage() {
    return instructions.subList(0, lastFrom());
  }

  /** The last stage, from its FROM on: what the image is. */
  public List<Instruction> runtimeStage() {
    return instructions.subList(lastFrom(), instructions.size());
  }

  private int lastFrom() {
    for (int i = instructions.size() - 1; i >= 0; i--) {
      if (instructions.get(i).keyword().equals("FROM")) {
        return i;
      }
    }
    throw new IllegalStateException("no FROM");
  }

  /** The one ENTRYPOINT, which must be in exec form (a JSON array of strings). */
  public List<String> entrypoint() {
    List<Instruction> entrypoints = of("ENTRYPOINT");
    if (entrypoints.size() != 1) {
      throw new IllegalStateException("expected one ENTRYPOINT, found " + entrypoints.size());
    }
    String arguments = entrypoints.get(0).arguments();
    if (!arguments.startsWith("[")) {
      throw new IllegalStateException(
          "ENTRYPOINT is in shell form, not exec form (a JSON array): " + arguments);
    }
    try {
      return new ObjectMapper().readValue(arguments, new TypeReference<List<String>>() {});
    } catch (IOException e) {
      throw new IllegalStateException("ENTRYPOINT is not a JSON array of strings: " + arguments, e);
    }
  }
}
