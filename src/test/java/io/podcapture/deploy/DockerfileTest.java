package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Quantity;
import io.podcapture.deploy.Dockerfile.Instruction;
import java.math.BigDecimal;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Dockerfile and .dockerignore, read as Docker reads them (no engine here to build with). */
class DockerfileTest {
  /**
   * The JVM flags, in the order the Dockerfile's comment explains them, as bench/run.sh measured
   * them.
   */
  private static final List<String> JVM_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-XX:CICompilerCount=1",
          "-XX:CompileThresholdScaling=5",
          "-Xss512k",
          "-XX:MaxRAM=192m",
          "-Xmx32m",
          "-Xmn3m",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=20",
          "-XX:MaxMetaspaceSize=64m",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:SharedArchiveFile=/app/agent.jsa");

  private static final String JAR = "/app/podcapture-agent.jar";
  private static final String WATCHDOG = "/usr/local/bin/podcapture-watchdog";

  @Test
  void buildsTheJarWithMavenAndRunsItOnDebianSlim() {
    List<String> stages =
        of("FROM").stream().map(Instruction::arguments).collect(Collectors.toList());

    assertEquals(List.of("maven:3.9-eclipse-temurin-17 AS build", "debian:bookworm-slim"), stages);
  }

  @Test
  void buildStageFetchesDependenciesBeforeTheSourcesAreCopied() {
    List<String> build =
        buildStage().stream()
            .map(i -> i.keyword() + " " + i.arguments())
            .filter(line -> line.startsWith("COPY") || line.startsWith("RUN"))
            .collect(Collectors.toList());

    assertEquals(
        List.of(
            "COPY pom.xml .",
            "RUN mvn -B -q dependency:go-offline",
            "COPY src ./src",
            "RUN mvn -B -q package -DskipTests"),
        build,
        "pom first, so the dependency layer is cached");
  }

  @Test
  void runtimeGetsTheJreTcpdumpAndTarWithoutRecommendsOrAptLists() {
    List<Instruction> installs =
        runtimeStage().stream()
            .filter(i -> i.keyword().equals("RUN") && i.arguments().contains("apt-get install"))
            .collect(Collectors.toList());
    assertEquals(1, installs.size(), "one apt layer");
    String run = installs.get(0).arguments();

    assertTrue(run.contains("apt-get update"), "update in the same layer as install");
    assertTrue(run.contains("--no-install-recommends"), run);
    for (String pkg : List.of("openjdk-17-jre-headless", "tcpdump", "tar")) {
      assertTrue(run.matches(".*\\s" + Pattern.quote(pkg) + "(\\s.*|$)"), pkg + " installed");
    }
    assertTrue(run.endsWith("rm -rf /var/lib/apt/lists/*"), "apt lists removed in the same layer");
  }

  @Test
  void jarIsCopiedFromTheBuildStageToWhereTheEntrypointRunsIt() {
    List<String> copies =
        runtimeStage().stream()
            .filter(i -> i.keyword().equals("COPY"))
            .map(Instruction::arguments)
            .collect(Collectors.toList());

    assertEquals("--from=build /src/target/podcapture-agent.jar " + JAR, copies.get(0));
    List<String> entrypoint = entrypoint();
    assertEquals(
        List.of("-jar", JAR), entrypoint.subList(entrypoint.size() - 2, entrypoint.size()));
  }

  @Test
  void runtimeCopiesOnlyTheJarTheStreamWatchdogAndTheClassList() {
    List<String> copies =
        runtimeStage().stream()
            .filter(i -> i.keyword().equals("COPY"))
            .map(Instruction::arguments)
            .collect(Collectors.toList());

    assertEquals(
        List.of(
            "--from=build /src/target/podcapture-agent.jar " + JAR,
            "plugin/podcapture-watchdog " + WATCHDOG,
            "deploy/agent.classlist /app/agent.classlist"),
        copies);
  }

  @Test
  void streamWatchdogIsAnExecutableFileOnThePluginsPathInTheImage() {
    // The plugin runs it by name in the agent container, whose PATH has /usr/local/bin; the COPY
    // keeps the file's mode, so the file itself must be executable.
    assertTrue(
        ProjectFiles.read("plugin/kubectl-podcapture")
            .contains("readonly WATCHDOG=" + WATCHDOG.substring(WATCHDOG.lastIndexOf('/') + 1)),
        "the plugin runs the watchdog by the name the image ships it under");
    assertTrue(
        java.nio.file.Files.isExecutable(ProjectFiles.path("plugin/podcapture-watchdog")),
        "plugin/podcapture-watchdog is executable");
    assertTrue(
        ProjectFiles.read("plugin/podcapture-watchdog").startsWith("#!/usr/bin/perl\n"),
        "the image's perl runs it");
  }

  @Test
  void theJarsCopyIsOneLineWhereTheImageTestCanHandInAJarBuiltOutside() {
    // deploy/image-test.sh reads this line (with sed) to lay the jar Maven built out as the build
    // stage would.
    List<String> lines =
        ProjectFiles.read("Dockerfile")
            .lines()
            .filter(line -> line.matches("COPY --from=build /src/target/[^ /]+\\.jar \\S+"))
            .toList();

    assertEquals(1, lines.size(), "one plain 'COPY --from=build /src/target/<jar> <dest>' line");
    assertTrue(
        lines.get(0).contains("/src/target/podcapture-agent.jar "),
        "the name mvn -B package gives the jar");
  }

  /**
   * The archive the ENTRYPOINT names is made in the runtime stage, from the class list, for the jar
   * the ENTRYPOINT runs (an archive is used only with that jar) and with its garbage collector.
   */
  @Test
  void theClassDataArchiveIsMadeFromTheClassListForTheJarTheEntrypointRuns() {
    String archive = flag("-XX:SharedArchiveFile=");
    List<String> dumps =
        runtimeStage().stream()
            .filter(i -> i.keyword().equals("RUN") && i.arguments().contains("-Xshare:dump"))
            .map(Instruction::arguments)
            .toList();

    assertEquals(1, dumps.size(), "one RUN java -Xshare:dump: " + dumps);
    List<String> words = List.of(dumps.get(0).split("\\s+"));
    assertTrue(words.contains("-XX:SharedArchiveFile=" + archive), dumps.get(0));
    assertTrue(words.contains("-XX:SharedClassListFile=/app/agent.classlist"), dumps.get(0));
    assertEquals(JAR, words.get(words.indexOf("-cp") + 1), dumps.get(0));
    assertTrue(words.contains("-XX:+UseSerialGC"), "dumped with the ENTRYPOINT's collector");
  }

  @Test
  void entrypointIsExecFormSoTheJvmIsPid1() {
    List<String> entrypoint = entrypoint();

    assertEquals(
        "java",
        entrypoint.get(0),
        "no shell in front of the JVM: it must get SIGTERM and reap tcpdump");
    assertEquals(List.of(), of("CMD"), "no CMD to append to the JVM's arguments");
    assertEquals(List.of(), of("USER"), "root, as deploy/daemonset.yaml explains");
  }

  @Test
  void jvmFlagsAreTheDecidedOnes() {
    List<String> entrypoint = entrypoint();

    assertEquals(JVM_FLAGS, entrypoint.subList(1, entrypoint.size() - 2));
  }

  @Test
  void jvmFitsInTheAgentsMemoryLimit() {
    BigDecimal limit =
        Quantity.getAmountInBytes(ManifestsTest.agent().getResources().getLimits().get("memory"));
    BigDecimal maxRam = bytes(flag("-XX:MaxRAM="));
    BigDecimal heapAndMetaspace = bytes(flag("-Xmx")).add(bytes(flag("-XX:MaxMetaspaceSize=")));

    assertTrue(
        maxRam.compareTo(limit) <= 0, "MaxRAM " + maxRam + " above the container limit " + limit);
    assertTrue(
        heapAndMetaspace.compareTo(limit) < 0,
        "heap + metaspace leave nothing for tcpdump under " + limit);
  }

  @Test
  void imageCarriesOciLabels() {
    String labels =
        of("LABEL").stream().map(Instruction::arguments).collect(Collectors.joining(" "));

    for (String label :
        List.of(
            "org.opencontainers.image.title",
            "org.opencontainers.image.description",
            "org.opencontainers.image.version")) {
      assertTrue(labels.contains(label + "="), label);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "target/podcapture-agent.jar",
        "target/classes/io/podcapture/Main.class",
        ".git/HEAD",
        "deploy/daemonset.yaml",
        "podcapture-agent.iml",
        ".idea/workspace.xml",
        "plugin/kubectl-podcapture"
      })
  void buildContextLeavesOut(String path) {
    assertTrue(dockerIgnores(path), path + " should not be sent to the Docker daemon");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "pom.xml",
        "src/main/java/io/podcapture/api/v1alpha1/PodCapture.java",
        "src/test/java/io/podcapture/deploy/DockerfileTest.java",
        "plugin/podcapture-watchdog",
        "deploy/agent.classlist"
      })
  void buildContextKeeps(String path) {
    assertFalse(dockerIgnores(path), path + " is needed by the build stage");
  }

  // ---- reading the Dockerfile

  private static Dockerfile dockerfile() {
    return Dockerfile.parse(ProjectFiles.read("Dockerfile"));
  }

  private static List<Instruction> of(String keyword) {
    return dockerfile().of(keyword);
  }

  private static List<Instruction> buildStage() {
    return dockerfile().buildStage();
  }

  private static List<Instruction> runtimeStage() {
    return dockerfile().runtimeStage();
  }

  private static List<String> entrypoint() {
    try {
      return dockerfile().entrypoint();
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  private static String flag(String prefix) {
    return entrypoint().stream()
        .filter(f -> f.startsWith(prefix))
        .map(f -> f.substring(prefix.length()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + prefix + " flag"));
  }

  /** A JVM size (k, m, g are powers of 1024) in bytes. */
  private static BigDecimal bytes(String size) {
    Matcher m = Pattern.compile("(\\d+)([kKmMgG]?)").matcher(size);
    assertTrue(m.matches(), size);
    long unit =
        switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
          case "k" -> 1024L;
          case "m" -> 1024L * 1024;
          case "g" -> 1024L * 1024 * 1024;
          default -> 1L;
        };
    return BigDecimal.valueOf(Long.parseLong(m.group(1)) * unit);
  }

  /**
   * Docker's .dockerignore rule: the last pattern that matches the path or one of its parent
   * folders wins, and a pattern starting with ! keeps what earlier ones left out. Patterns are
   * globs per path segment.
   */
  static boolean dockerIgnores(String path) {
    boolean ignored = false;
    for (String line : ProjectFiles.read(".dockerignore").split("\n")) {
      String pattern = line.strip();
      if (pattern.isEmpty() || pattern.startsWith("#")) {
        continue;
      }
      boolean keep = pattern.startsWith("!");
      String glob = (keep ? pattern.substring(1) : pattern).replaceAll("^/+|/+$", "");
      if (matchesItselfOrAParent(glob, path)) {
        ignored = !keep;
      }
    }
    return ignored;
  }

  private static boolean matchesItselfOrAParent(String glob, String path) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        regex.append(".*");
        i++;
      } else if (c == '*') {
        regex.append("[^/]*");
      } else if (c == '?') {
        regex.append("[^/]");
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    String[] segments = path.split("/");
    for (int n = 1; n <= segments.length; n++) {
      if (String.join("/", List.of(segments).subList(0, n)).matches(regex.toString())) {
        return true;
      }
    }
    return false;
  }
}
