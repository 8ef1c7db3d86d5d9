package io.podcapture.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Comment lines google-java-format leaves behind when it re-wraps a {@code //} comment written
 * wider than its 100 columns: the tail of a cut line alone on a line of its own in the middle of a
 * sentence, and a divider of dashes cut from its title.
 *
 * <p>The formatter wraps greedily: it cuts a line where the next word would pass column 100, and
 * leaves the following lines as they were. Its fragment therefore has a signature a person wrapping
 * by hand does not make: the line before it was cut greedily (the fragment's first word did not fit
 * there), yet the fragment itself is short enough that the next line's first word would have fitted
 * on it, and it ends no sentence. A paragraph's short last line ends the block or a sentence, a
 * list item is indented or marked, and a block wrapped narrower never has a greedy cut at 100
 * before a short line; none of them has the signature (see the tests of the rule below). The last
 * line of a block cannot be told from a paragraph's end and is not judged.
 */
class CommentFragmentsTest {
  static final int WIDTH = 100;

  private static final Pattern DIVIDER = Pattern.compile("\\s*[-=*_#/]{3,}\\s*");
  private static final Pattern SENTENCE_END = Pattern.compile(".*[.:;?!]$");
  private static final Pattern LIST_ITEM = Pattern.compile("^([-*]|\\d+[.)])\\s.*");

  /** One line found, 1-based. */
  record Finding(String file, int line, String why, String text) {
    @Override
    public String toString() {
      return file + ":" + line + ": " + why + ": " + text;
    }
  }

  @Test
  void noJavaSourceHasACommentFragmentOrALoneDivider() throws IOException {
    Path root =
        Path.of(Optional.ofNullable(System.getenv("PODCAPTURE_PROJECT_DIR")).orElse("."))
            .toAbsolutePath()
            .normalize();
    List<Finding> findings = new ArrayList<>();
    int files = 0;
    for (String tree : List.of("src/main/java", "src/test/java", "src/bench/java")) {
      List<Path> sources;
      try (Stream<Path> walk = Files.walk(root.resolve(tree))) {
        sources = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
      }
      for (Path source : sources) {
        String relative = root.relativize(source).toString();
        files++;
        findings.addAll(findings(relative, Files.readAllLines(source)));
      }
    }

    assertTrue(files > 50, "read only " + files + " files under " + root);
    assertEquals(
        "",
        String.join("\n", findings.stream().map(Finding::toString).toList()),
        "mend these comment lines: join a fragment to its sentence, drop a lone divider");
  }

  // ---- the rule, on examples

  @Test
  void aLineTheFormatterCutOffMidSentenceIsAFragment() {
    List<String> lines =
        List.of(
            "    // libpcap hands packets over in blocks, a block once full or after its timeout"
                + " (tcpdump's 1 s):",
            "    // stopping",
            "    // sooner would leave the flood's last packets unread in the kernel ring, which is"
                + " not",
            "    // what this measures",
            "    sleep(2500);");

    assertEquals(List.of(2), lineNumbers(lines));
  }

  @Test
  void aFragmentAfterACutBlockLineIsFoundThoughItHoldsSeveralWords() {
    List<String> lines =
        List.of(
            "    // A pass that went by our own recent write, not the cache, looks again once the"
                + " cache has",
            "    // caught up: the",
            "    // object it saw may be gone by then without an event left to bring this Pod back"
                + " here.",
            "    return again;");

    assertEquals(List.of(2), lineNumbers(lines));
  }

  @Test
  void aParagraphsShortLastLineIsNoFragment() {
    List<String> lines =
        List.of(
            "    // as sent, before the API server adds its fields; a session replaces it with the"
                + " size the",
            "    // server answers",
            "    podJsonBytesSeen = 0;");

    assertEquals(List.of(), lineNumbers(lines));
  }

  @Test
  void aShortLineThatEndsASentenceIsNoFragment() {
    List<String> lines =
        List.of(
            "  // The agent restarts tcpdump when it exits with a code, and only then, because an"
                + " exit by",
            "  // signal is ours.",
            "  // A second paragraph starts here and runs on for a while, as paragraphs do here.",
            "  int x;");

    assertEquals(List.of(), lineNumbers(lines));
  }

  @Test
  void listItemsAndIndentedLinesAreNoFragments() {
    List<String> lines =
        List.of(
            "  // The capture ends in one of these ways, each with its own phase and message in"
                + " the status:",
            "  // - a count",
            "  // - a deadline, after which the agent stops tcpdump and keeps its files for the"
                + " user",
            "  //   indented",
            "  //   continuation of the item",
            "  int x;");

    assertEquals(List.of(), lineNumbers(lines));
  }

  @Test
  void aBlockWrappedNarrowerThanTheFormatterIsNoFragment() {
    List<String> lines =
        List.of(
            "  // A block wrapped by hand at 80 columns has",
            "  // short lines",
            "  // everywhere, and no line was cut at column 100 before any of them.",
            "  int x;");

    assertEquals(List.of(), lineNumbers(lines));
  }

  @Test
  void aShortLineBeforeAWordThatWouldNotFitIsNoFragment() {
    String before =
        "  // the prefix of this comment fills its line up to the formatter's limit of hundred";
    String shortLine = "  // and then";
    String after =
        "  // "
            + "x".repeat(WIDTH - shortLine.length())
            + " is a word too long for the short line before it";

    assertEquals(List.of(), lineNumbers(List.of(before + " columns", shortLine, after, "x();")));
  }

  @Test
  void aLineOfDashesAloneIsADividerButATitledOneIsNot() {
    List<String> lines =
        List.of(
            "  // ---- completeness: flood ping into tcpdump's ring",
            "  // ----------------------------------------------------------",
            "  // ================",
            "",
            "  // ---------------------------------------------------------------- help and usage",
            "  void f() {}");

    assertEquals(List.of(2, 3), lineNumbers(lines));
  }

  @Test
  void linesOfATextBlockAreNotComments() {
    List<String> lines =
        List.of(
            "  static final String JS =",
            "      \"\"\"",
            "      // -----------------",
            "      \"\"\";");

    assertEquals(List.of(), lineNumbers(lines));
  }

  // ---- the rule

  private static List<Integer> lineNumbers(List<String> lines) {
    return findings("example", lines).stream().map(Finding::line).toList();
  }

  /** The fragments and lone dividers among {@code lines}, a Java source file's. */
  static List<Finding> findings(String file, List<String> lines) {
    List<Finding> found = new ArrayList<>();
    boolean inTextBlock = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (countTextBlockQuotes(line) % 2 == 1) {
        inTextBlock = !inTextBlock;
        continue;
      }
      if (inTextBlock || comment(line) == null) {
        continue;
      }
      String text = comment(line);
      if (DIVIDER.matcher(text).matches()) {
        found.add(new Finding(file, i + 1, "a divider on its own", line.strip()));
      } else if (i > 0 && i + 1 < lines.size() && isFragment(lines, i)) {
        found.add(new Finding(file, i + 1, "a fragment of a re-wrapped sentence", line.strip()));
      }
    }
    return found;
  }

  /**
   * Line {@code i} is a fragment: it continues a prose line at its indentation that the formatter
   * cut greedily before it, and the next line at that indentation continues it although its first
   * word would have fitted.
   */
  private static boolean isFragment(List<String> lines, int i) {
    String before = lines.get(i - 1);
    String line = lines.get(i);
    String after = lines.get(i + 1);
    if (!isProse(before, line) || !isProse(after, line)) {
      return false;
    }
    String text = comment(line).strip();
    if (SENTENCE_END.matcher(text).matches() || LIST_ITEM.matcher(text).matches()) {
      return false;
    }
    String nextWord = comment(after).strip().split("\\s+")[0];
    if (LIST_ITEM.matcher(comment(after).strip()).matches()) {
      return false;
    }
    boolean cutGreedilyBefore =
        before.stripTrailing().length() + 1 + text.split("\\s+")[0].length() > WIDTH;
    boolean nextWordWouldFit = line.stripTrailing().length() + 1 + nextWord.length() <= WIDTH;
    return cutGreedilyBefore && nextWordWouldFit;
  }

  /**
   * {@code other} is a comment line of plain prose at the indentation of {@code line}: same leading
   * blanks, {@code //} and one space, not indented further.
   */
  private static boolean isProse(String other, String line) {
    String text = comment(other);
    return text != null
        && indentation(other).equals(indentation(line))
        && text.startsWith(" ")
        && !text.startsWith("  ")
        && !text.isBlank();
  }

  /** The text after {@code //} of a line that is only a line comment, or null. */
  private static String comment(String line) {
    String stripped = line.stripLeading();
    return stripped.startsWith("//") ? stripped.substring(2) : null;
  }

  private static String indentation(String line) {
    return line.substring(0, line.length() - line.stripLeading().length());
  }

  private static int countTextBlockQuotes(String line) {
    int count = 0;
    for (int at = line.indexOf("\"\"\""); at >= 0; at = line.indexOf("\"\"\"", at + 3)) {
      count++;
    }
    return count;
  }
}
