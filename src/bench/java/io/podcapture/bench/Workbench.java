package io.podcapture.bench;

import io.podcapture.testing.NetnsPod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * What every phase of one benchmark run shares: the project, a scratch directory, the options, the
 * node's Pods (a few of them real network namespaces) and the notes the results end with.
 */
final class Workbench implements AutoCloseable {
  static final int PODS = 110;
  static final int REAL_PODS = 4;
  static final int ROUNDS = 60;

  final Path project;
  final Path work;
  final Map<String, String> options;

  /**
   * Said at the end of BENCHMARKS.md: how the run differed from a plain one, and what went wrong.
   */
  final List<String> notes = new ArrayList<>();

  final List<NetnsPod> realPods = new ArrayList<>();
  List<List<String>> podIps = List.of();

  /** Bytes of JSON per Pod: as sent until a session reports the size the API server answers. */
  int podJsonBytesSeen;

  Workbench(Map<String, String> options) throws IOException {
    this.options = options;
    this.project = Path.of(options.getOrDefault("project", ".")).toAbsolutePath().normalize();
    this.work = Files.createTempDirectory("podcapture-bench-");
  }

  /** Creates the real Pods and gives every Pod of the node its addresses. */
  void createPods() {
    for (int i = 0; i < REAL_PODS; i++) {
      realPods.add(NetnsPod.create());
    }
    podIps =
        IntStream.range(0, PODS)
            .mapToObj(i -> i < REAL_PODS ? realPods.get(i).ips() : Workload.fakeIps(i))
            .toList();
    podJsonBytesSeen = Workload.jsonBytes(Workload.pod(REAL_PODS, podIps.get(REAL_PODS)));
  }

  /** Agent logs of the last run, kept for a look after it. */
  Path logs() {
    return project.resolve("target/bench/logs");
  }

  /**
   * Single captures of each kind: ROUNDS, or --rounds for a quick look by hand (the results then
   * say so).
   */
  int rounds() {
    return Integer.parseInt(options.getOrDefault("rounds", Integer.toString(ROUNDS)));
  }

  Path jar() {
    return project.resolve(options.getOrDefault("jar", "target/podcapture-agent.jar"));
  }

  static void log(String format, Object... args) {
    System.out.printf(
        Locale.ROOT,
        "[bench %s] %s%n",
        java.time.LocalTime.now(java.time.ZoneOffset.UTC).withNano(0),
        String.format(Locale.ROOT, format, args));
  }

  @Override
  public void close() {
    realPods.forEach(NetnsPod::close);
    Session.deleteTree(work);
  }
}
