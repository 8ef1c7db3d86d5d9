package io.podcapture.image;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.podcapture.testing.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The podman commands the image test runs (argv, no shell). Settings such as the runtime come from
 * {@code CONTAINERS_CONF}, which {@code deploy/image-test.sh} sets.
 */
final class Podman {
  private static final Duration TIMEOUT = Duration.ofMinutes(2);

  private Podman() {}

  /**
   * Runs {@code podman <args>} and returns its output; a non-zero exit is an exception with the
   * output.
   */
  static String run(String... args) {
    return run(List.of(args));
  }

  static String run(List<String> args) {
    List<String> argv = new ArrayList<>();
    argv.add("podman");
    argv.addAll(args);
    return Command.run(TIMEOUT, argv).orThrow().output().strip();
  }

  /** {@code podman inspect --format <template> <container>}. */
  static String inspect(String container, String template) {
    return run("inspect", "--format", template, container);
  }

  /** A field of an image's configuration that is a list of strings, such as Entrypoint. */
  static List<String> imageConfigList(String image, String field) {
    String json = run("image", "inspect", "--format", "{{json .Config." + field + "}}", image);
    try {
      return new ObjectMapper().readValue(json, new TypeReference<List<String>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("image " + field + " is not a list of strings: " + json, e);
    }
  }

  static String logs(String container) {
    List<String> argv = List.of("podman", "logs", container);
    return Command.run(TIMEOUT, argv).output();
  }

  /** Removes the container whatever its state; harmless if it is gone. */
  static void removeQuietly(String container) {
    Command.run(TIMEOUT, List.of("podman", "rm", "--force", "--ignore", container));
  }
}
