package io.podcapture.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The build's test tiers hold: a test class that needs root, a server or a process carries the tag
 * that keeps it out of {@code mvn test} (pom.xml, docs/development.md). Read from the sources, so a
 * new class that forgets its tag fails here, in the unit tier, instead of making {@code mvn test}
 * slow or root-only.
 */
class TiersTest {
  private static final Path TESTS = MockApiServer.projectDir().resolve("src/test/java");
  private static final Pattern REAL_CAPTURE =
      Pattern.compile(
          "Requirements\\.realCapture\\(|NetnsPod\\.create\\(|NetnsNode\\.|extends LocalAgentFaultTest");
  private static final Pattern INTEGRATION =
      Pattern.compile(
          "new MockApiServer\\(|AgentHarness|AgentJvm\\.start\\(|FakeTcpdump\\.|new ProcessBuilder\\(|StandInKubectl"
              + "|RecordedReconcileRun\\.record\\(|Requirements\\.commands\\(");

  private static final Pattern CLUSTER = Pattern.compile("ControlPlane\\.shared\\(");

  @Test
  void everyTestClassThatStartsTheControlPlaneIsTaggedCluster() {
    assertEquals(
        List.of(),
        testClasses()
            .filter(c -> CLUSTER.matcher(c.source).find())
            .filter(c -> !c.tags().contains("cluster"))
            .map(TestClass::name)
            .toList());
  }

  /** The cluster tier needs root and tcpdump as well (its agents capture for real). */
  @Test
  void everyTestClassThatNeedsRootAndTcpdumpIsTaggedRealCaptureOrCluster() {
    assertEquals(
        List.of(),
        testClasses()
            .filter(c -> REAL_CAPTURE.matcher(c.source).find())
            .filter(c -> !c.tags().contains("real-capture") && !c.tags().contains("cluster"))
            .map(TestClass::name)
            .toList());
  }

  @Test
  void everyTestClassThatStartsAServerOrAProcessIsTaggedIntegrationRealCaptureOrCluster() {
    assertEquals(
        List.of(),
        testClasses()
            .filter(c -> INTEGRATION.matcher(c.source).find())
            .filter(
                c ->
                    !c.tags().contains("integration")
                        && !c.tags().contains("real-capture")
                        && !c.tags().contains("cluster"))
            .map(TestClass::name)
            .toList());
  }

  private record TestClass(String name, String source) {
    /** The class's tags as JUnit sees them: its own and those it inherits. */
    Set<String> tags() {
      try {
        Class<?> type = Class.forName(name.replace(".java", "").replace('/', '.'));
        return AnnotationSupport.findRepeatableAnnotations(type, Tag.class).stream()
            .map(Tag::value)
            .collect(Collectors.toSet());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Classes with tests of their own (fixtures and helpers are not run, so they need no tag). */
  private static Stream<TestClass> testClasses() {
    try (Stream<Path> files = Files.walk(TESTS)) {
      return files
          .filter(f -> f.toString().endsWith(".java"))
          .map(TiersTest::read)
          .filter(c -> c.source.contains("@Test") || c.source.contains("@ParameterizedTest"))
          .filter(c -> !c.name.endsWith("TiersTest.java"))
          .toList()
          .stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static TestClass read(Path file) {
    try {
      return new TestClass(TESTS.relativize(file).toString(), Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
