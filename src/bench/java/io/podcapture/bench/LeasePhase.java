package io.podcapture.bench;

import io.podcapture.testing.AgentJvm;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControlPlane.AgentIdentity;
import io.podcapture.testing.ControllerJvm;
import io.podcapture.testing.CountingApiProxy;
import io.podcapture.testing.CountingApiProxy.Request;
import io.podcapture.testing.MockApiServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Lease requests per minute (issue 21): N agents and the controller's replicas run against the real
 * control plane ({@link ControlPlane}, kube-apiserver v1.37.2), each behind its own {@link
 * CountingApiProxy}; for a window (60 s by default) every request about a Lease is counted per
 * process and method, and the cluster's total is extrapolated to 5,000 nodes.
 *
 * <p>"Before" (every agent a candidate) runs an older build's jar with no controller ({@code
 * --agent-jar=... --controllers=0 --extra-rbac=<that build's deploy/rbac.yaml>}, which still grants
 * the agents their Lease); "after" runs this build's agents and 2 controller replicas. Run on its
 * own with {@link #main} or as phase {@code lease} of {@link Benchmark}.
 */
final class LeasePhase {
  /** The cluster size the figures are extrapolated to. */
  static final int NODES = 5_000;

  /** One process's Lease requests in the window, per method. */
  record Counted(String name, String role, Map<String, Long> byMethod) {
    long total() {
      return byMethod.values().stream().mapToLong(Long::longValue).sum();
    }

    /** It wrote the Lease (created or renewed it): the holder, or one that took it over. */
    boolean wrote() {
      return byMethod.keySet().stream().anyMatch(m -> !m.equals("GET"));
    }
  }

  record Result(String label, Duration window, List<Counted> processes) {
    double perMinute(long count) {
      return count * 60.0 / window.toSeconds();
    }

    List<Counted> agents() {
      return processes.stream().filter(p -> p.role().equals("agent")).toList();
    }

    List<Counted> controllers() {
      return processes.stream().filter(p -> p.role().equals("controller")).toList();
    }

    long total() {
      return processes.stream().mapToLong(Counted::total).sum();
    }

    /**
     * Lease requests per minute on a cluster of {@link #NODES} nodes: the agents' as measured, the
     * holder's once and every other agent's as the mean of this run's non-holders; the controllers'
     * as they are (their number does not grow with the nodes).
     */
    double perMinuteAt(int nodes) {
      List<Counted> agents = agents();
      double perAgentCandidate =
          agents.stream().filter(a -> !a.wrote()).mapToLong(Counted::total).average().orElse(0);
      double holders = agents.stream().filter(Counted::wrote).mapToLong(Counted::total).sum();
      long holderCount = agents.stream().filter(Counted::wrote).count();
      double agentsAtScale = holders + (nodes - holderCount) * perAgentCandidate;
      double controllers = controllers().stream().mapToLong(Counted::total).sum();
      return perMinute(Math.round(agentsAtScale + controllers));
    }
  }

  private final ControlPlane plane;
  private final Path dir;

  LeasePhase(ControlPlane plane, Path dir) {
    this.plane = plane;
    this.dir = dir;
  }

  /** Runs {@code agents} agents of {@code agentJar} and {@code controllers} replicas. */
  Result measure(String label, Path agentJar, int agents, int controllers, Duration window)
      throws Exception {
    List<AutoCloseable> running = new ArrayList<>();
    Map<String, CountingApiProxy> proxies = new TreeMap<>();
    Map<String, String> roles = new HashMap<>();
    try {
      for (int i = 1; i <= agents; i++) {
        String node = label + "-node-" + i;
        AgentIdentity identity = plane.agentIdentity(node, dir);
        CountingApiProxy proxy = new CountingApiProxy(plane.apiServerUrl(), plane.caCert());
        running.add(proxy);
        Path kubeconfig =
            plane.writeKubeconfig(
                dir.resolve("lease-" + node + ".kubeconfig"), proxy.url(), identity.token());
        Path captureDir = Files.createDirectories(dir.resolve("capture-" + node));
        AgentJvm agent = plane.startAgent(identity, kubeconfig, captureDir, Map.of(), agentJar);
        running.add(agent);
        proxies.put(identity.podName(), proxy);
        roles.put(identity.podName(), "agent");
        Workbench.log("lease %s: agent on %s ready", label, node);
      }
      for (int i = 1; i <= controllers; i++) {
        String name = "podcapture-controller-" + label + "-" + i;
        ControllerJvm controller = plane.startController(name, dir, Map.of());
        running.add(controller);
        proxies.put(name, controller.proxy());
        roles.put(name, "controller");
        Workbench.log("lease %s: controller %s running", label, name);
      }
      // Settle: every process past its start-up (the first acquisition of the Lease).
      Thread.sleep(5_000);
      long from = System.nanoTime();
      Thread.sleep(window.toMillis());
      long to = System.nanoTime();
      List<Counted> counted = new ArrayList<>();
      proxies.forEach(
          (name, proxy) -> {
            Map<String, Long> byMethod = new TreeMap<>();
            for (Request r : proxy.leaseRequests()) {
              if (r.atNanos() >= from && r.atNanos() < to) {
                byMethod.merge(r.method(), 1L, Long::sum);
              }
            }
            counted.add(new Counted(name, roles.get(name), byMethod));
          });
      return new Result(label, window, counted);
    } finally {
      for (int i = running.size() - 1; i >= 0; i--) {
        running.get(i).close();
      }
    }
  }

  /** The result as Markdown: one row per process, then the cluster's totals. */
  static String markdown(Result r) {
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            Locale.ROOT,
            "Lease requests per minute, %s: %d agents, %d controller replicas, %d s window%n%n",
            r.label(),
            r.agents().size(),
            r.controllers().size(),
            r.window().toSeconds()));
    md.append("| process | role | GET/min | PATCH/min | other/min | all/min |\n");
    md.append("|---|---|---:|---:|---:|---:|\n");
    for (Counted p : r.processes()) {
      long get = p.byMethod().getOrDefault("GET", 0L);
      long patch = p.byMethod().getOrDefault("PATCH", 0L);
      long other = p.total() - get - patch;
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %s%s | %.1f | %.1f | %.1f | %.1f |%n",
              p.name(),
              p.role(),
              p.wrote() ? " (holder)" : "",
              r.perMinute(get),
              r.perMinute(patch),
              r.perMinute(other),
              r.perMinute(p.total())));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "%nWhole cluster here: %.1f Lease requests/min. At %,d nodes: %,.0f/min (%,.1f/s).%n",
            r.perMinute(r.total()),
            NODES,
            r.perMinuteAt(NODES),
            r.perMinuteAt(NODES) / 60));
    return md.toString();
  }

  /**
   * {@code --label=after --agents=5 --controllers=2 --seconds=60 [--agent-jar=JAR]
   * [--extra-rbac=YAML] [--out=FILE]}.
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("unknown argument " + arg + " (expected --name=value)");
      }
      options.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    String md = run(options);
    System.out.println(md);
    if (options.containsKey("out")) {
      Files.writeString(Path.of(options.get("out")), md);
    }
    System.exit(0);
  }

  /** Starts the control plane (the cluster tier's), measures, returns the Markdown. */
  static String run(Map<String, String> options) throws Exception {
    ControlPlane plane = ControlPlane.shared();
    if (options.containsKey("extra-rbac")) {
      plane.kubectl("apply", "-f", options.get("extra-rbac")).orThrow();
    }
    Path dir = Files.createTempDirectory("podcapture-lease-");
    Result result =
        new LeasePhase(plane, dir)
            .measure(
                options.getOrDefault("label", "after"),
                Path.of(
                    options.getOrDefault(
                        "agent-jar",
                        MockApiServer.projectDir()
                            .resolve("target/podcapture-agent.jar")
                            .toString())),
                Integer.parseInt(options.getOrDefault("agents", "5")),
                Integer.parseInt(options.getOrDefault("controllers", "2")),
                Duration.ofSeconds(Integer.parseInt(options.getOrDefault("seconds", "60"))));
    return markdown(result);
  }
}
