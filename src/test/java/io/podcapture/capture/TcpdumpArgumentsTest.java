package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.Command;
import io.podcapture.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pins the tcpdump behaviour {@link TcpdumpCommand} relies on: glibc's getopt permutes arguments,
 * so a filter word that looks like an option is taken as one, unless the filter follows {@code --}.
 */
@Tag("real-capture")
class TcpdumpArgumentsTest {

  @TempDir Path tmp;

  @BeforeEach
  void requirements() {
    Requirements.realCapture();
  }

  @Test
  void withoutDoubleDashAFilterWordIsTakenAsAnOption() {
    Path written = tmp.resolve("written-by-a-filter-word");
    Command.Result result =
        Command.run(
            Duration.ofSeconds(1),
            List.of("tcpdump", "-i", "lo", "-n", "host", "127.0.0.9", "-w" + written));
    assertEquals(-1, result.exitCode(), "it ran, capturing, until killed: " + result.output());
    assertTrue(Files.exists(written), "the filter word -w<path> made tcpdump write a file");
  }

  @Test
  void afterDoubleDashEveryWordIsFilterText() {
    Path written = tmp.resolve("written-by-a-filter-word");
    Command.Result result =
        Command.run(
            Duration.ofSeconds(5),
            List.of("tcpdump", "-i", "lo", "-n", "--", "host", "127.0.0.9", "-w" + written));
    assertEquals(1, result.exitCode(), result.output());
    assertTrue(
        result.output().contains("can't parse filter expression: syntax error"), result.output());
    assertFalse(Files.exists(written));
  }
}
