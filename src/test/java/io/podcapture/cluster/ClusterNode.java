package io.podcapture.cluster;

import io.podcapture.testing.AgentJvm;
import io.podcapture.testing.ControlPlane;
import io.podcapture.testing.ControlPlane.AgentIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One node of the cluster tier: its Node object, its agent's Pod and bound token, a capture folder,
 * and the real agent jar running for it.
 */
final class ClusterNode implements AutoCloseable {
  final ControlPlane plane;
  final AgentIdentity identity;
  final Path captureDir;
  private final Path kubeconfig;
  private final Map<String, String> env;
  private AgentJvm agent;

  private ClusterNode(
      ControlPlane plane,
      AgentIdentity identity,
      Path captureDir,
      Path kubeconfig,
      Map<String, String> env) {
    this.plane = plane;
    this.identity = identity;
    this.captureDir = captureDir;
    this.kubeconfig = kubeconfig;
    this.env = env;
  }

  /** The node's objects and token, and its agent started with the token's own kubeconfig. */
  static ClusterNode start(ControlPlane plane, String node, Path dir) throws IOException {
    AgentIdentity identity = plane.agentIdentity(node, dir);
    return start(plane, identity, identity.kubeconfig(), dir);
  }

  /** As above, with a kubeconfig of the test's (e.g. through a proxy). */
  static ClusterNode start(ControlPlane plane, AgentIdentity identity, Path kubeconfig, Path dir)
      throws IOException {
    Path captureDir = Files.createDirectories(dir.resolve("capture-" + identity.node()));
    ClusterNode node = new ClusterNode(plane, identity, captureDir, kubeconfig, Map.of());
    node.startAgent();
    return node;
  }

  String name() {
    return identity.node();
  }

  void startAgent() throws IOException {
    agent = plane.startAgent(identity, kubeconfig, captureDir, env);
  }

  AgentJvm agent() {
    return agent;
  }

  /**
   * SIGTERM, as kubelet stops the agent's Pod. Prints the warnings and errors the agent logged:
   * what the real API server refused or the agent retried shows there first.
   */
  void stopAgent() throws InterruptedException {
    if (agent != null) {
      agent.terminate(Duration.ofSeconds(30));
      agent
          .log()
          .lines()
          .filter(l -> l.contains("[WARN]") || l.contains("[ERROR]"))
          .filter(l -> !l.contains("unstable version"))
          .forEach(l -> System.out.println("agent on " + name() + ": " + l));
      agent = null;
    }
  }

  /** SIGKILL, as a crash leaves things: the agent gives nothing back. */
  void killAgent() throws InterruptedException {
    if (agent != null) {
      agent.kill9();
      agent = null;
    }
  }

  /** The files of one capture in this node's folder. */
  List<Path> files(String namespace, String capture) throws IOException {
    Path folder = captureDir.resolve(namespace);
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .filter(f -> f.getFileName().toString().startsWith("capture-" + capture + ".pcap"))
          .sorted()
          .toList();
    }
  }

  String log() {
    return agent == null ? "(agent stopped)" : agent.log();
  }

  @Override
  public void close() throws InterruptedException {
    // SIGTERM, not SIGKILL: the agent then gives the Lease back, and the next class's agent need
    // not wait for it to expire
    stopAgent();
  }
}
