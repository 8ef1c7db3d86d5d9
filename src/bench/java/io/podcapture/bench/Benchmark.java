package io.podcapture.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's benchmark (issue 8): start and stop latency, API cost, footprint, capture
 * completeness and tcpdump's CPU time per packet with the old and the new Pod filter, measured on
 * this machine against the mock API server, with the agent as its own JVM process, real tcpdump and
 * network namespace Pods. Writes BENCHMARKS.md. Run it with {@code bench/run.sh}; it is not a test.
 *
 * <p>Each phase is its own class and returns a record of what it measured; {@link ReportWriter}
 * turns the records into Markdown.
 */
public final class Benchmark {

  /** What --phases may name; "agent" stands for "lifecycles" and "load" on one agent. */
  static final List<String> PHASES =
      List.of(
          "completeness",
          "cpu",
          "footprint",
          "agent",
          "lifecycles",
          "load",
          "sets",
          "controller",
          "lease",
          "files");

  private Benchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      if (arg.startsWith("--") && arg.contains("=")) {
        options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
      } else {
        throw new IllegalArgumentException("unknown argument " + arg + " (expected --name=value)");
      }
    }
    if (!"0".equals(AgentProcess.run(List.of("id", "-u")).strip())) {
      System.err.println("the benchmark needs root: real tcpdump and network namespaces");
      System.exit(2);
    }
    try (Workbench bench = new Workbench(options)) {
      run(bench);
    }
    System.exit(0);
  }

  private static void run(Workbench bench) throws Exception {
    long began = System.nanoTime();
    Map<String, String> options = bench.options;
    if (options.containsKey("rounds")) {
      bench.notes.add(
          "run with --rounds="
              + options.get("rounds")
              + ": single captures of each kind, not "
              + Workbench.ROUNDS);
    }
    if ("slim".equals(options.get("pods"))) {
      // for tuning: Pods with only the fields the agent reads, to see what the Pod cache costs
      System.setProperty("bench.pods", "slim");
      bench.notes.add("run with --pods=slim: the Pods carried only name, node, phase and IPs");
    }
    Machine machine = Machine.read();
    Shipped shipped = shipped(bench);
    List<String> phases = phases(options);
    // The files API against the real control plane (FilesPhase), printed and written to
    // target/bench/files.md beside the report, as sets and controller are.
    boolean besideOnly = FilesPhase.runIfAsked(bench, phases);
    boolean setsOnly = SetsPhase.runIfAsked(bench, phases);
    if (ControllerFootprintPhase.runIfAsked(bench, phases) || setsOnly || besideOnly) {
      return;
    }
    Workbench.log(
        "podcapture benchmark: %d cores, %d MiB, load %s; shipped JVM flags %s",
        machine.cores(), machine.memoryMiB(), Machine.loadAverage(), shipped.flags());
    bench.createPods();
    ReportWriter.Results results = measure(bench, shipped, phases);
    if (phases.contains("lease")) {
      // Lease requests per minute against the real control plane (LeasePhase), beside the report.
      String lease = LeasePhase.run(bench.options);
      Files.writeString(bench.project.resolve("target/bench/lease.md"), lease);
      Workbench.log("Lease requests:%n%s", lease);
    }
    double minutes = (System.nanoTime() - began) / 60e9;
    String md =
        ReportWriter.write(
            new ReportWriter.Setting(
                options.getOrDefault("command", "bench/run.sh"),
                machine,
                shipped,
                minutes,
                bench.podJsonBytesSeen),
            results,
            bench.notes);
    Path outFile = bench.project.resolve(options.getOrDefault("out", "BENCHMARKS.md"));
    Files.writeString(outFile, md);
    System.out.println();
    System.out.println(md);
    Workbench.log("wrote %s in %.1f min", outFile, minutes);
  }

  /** Runs the phases asked for, in their fixed order; a phase not asked for is null. */
  private static ReportWriter.Results measure(Workbench bench, Shipped shipped, List<String> phases)
      throws Exception {
    CompletenessPhase.Result completeness =
        phases.contains("completeness") ? new CompletenessPhase(bench).measure() : null;
    CpuPerPacketPhase.Result cpu =
        phases.contains("cpu") ? new CpuPerPacketPhase(bench).measure() : null;
    FootprintPhase.Result footprint =
        phases.contains("footprint") ? new FootprintPhase(bench).measure(shipped) : null;
    // "agent" is both: the single captures of each kind ("lifecycles"), then 100 at once and
    // the steady state ("load")
    boolean lifecycles = phases.contains("agent") || phases.contains("lifecycles");
    boolean load = phases.contains("agent") || phases.contains("load");
    AgentPhases.Result agent =
        lifecycles || load ? new AgentPhases(bench).measure(shipped, lifecycles, load) : null;
    return new ReportWriter.Results(
        completeness, cpu, footprint, agent, lifecycles ? onRealServer(bench, shipped) : null);
  }

  /**
   * The single captures against the real API server bench/run.sh started (--real-kubeconfig), or
   * null, with a note saying why, when there is none.
   */
  private static ReportWriter.RealServer onRealServer(Workbench bench, Shipped shipped)
      throws Exception {
    String kubeconfig = bench.options.get("real-kubeconfig");
    if (kubeconfig == null) {
      bench.notes.add(
          "no real API server: "
              + bench.options.getOrDefault(
                  "real-unavailable", "run without --real-kubeconfig (bench/run.sh gives one)"));
      return null;
    }
    String server = bench.options.getOrDefault("real-server", "a real kube-apiserver");
    RealApiServer real = new RealApiServer(Path.of(kubeconfig), server);
    return new ReportWriter.RealServer(
        server, new AgentPhases(bench).measureOnRealServer(shipped, real));
  }

  /** The Dockerfile's flags and environment, or what --flags and --env put in their place. */
  private static Shipped shipped(Workbench bench) throws Exception {
    Map<String, String> options = bench.options;
    Shipped shipped =
        Shipped.read(bench.project.resolve("Dockerfile"))
            .withArchiveFor(bench.jar(), bench.project, bench.work.resolve("cds"));
    if (options.containsKey("flags")) {
      // for trying flags out: stands in for the Dockerfile's (BENCHMARKS.md then says so)
      shipped = new Shipped(List.of(options.get("flags").strip().split("\\s+")), shipped.env());
      bench.notes.add(
          "run with --flags: the *shipped flags* rows used `"
              + options.get("flags")
              + "`, not the Dockerfile's");
    }
    if (options.containsKey("env")) {
      Map<String, String> env = new LinkedHashMap<>(shipped.env());
      for (String pair : options.get("env").split(",")) {
        env.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
      }
      shipped = new Shipped(shipped.flags(), env);
      bench.notes.add("run with --env: the *shipped flags* rows ran with environment " + env);
    }
    return shipped;
  }

  private static List<String> phases(Map<String, String> options) {
    List<String> phases =
        Arrays.asList(
            options.getOrDefault("phases", "completeness,cpu,footprint,agent").split(","));
    for (String phase : phases) {
      if (!PHASES.contains(phase)) {
        throw new IllegalArgumentException(
            "unknown phase " + phase + ": expected one or more of " + String.join(",", PHASES));
      }
    }
    return phases;
  }
}
