package io.podcapture.faults;

import io.podcapture.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The agent as a real separate JVM ({@code java -cp <test classpath> io.podcapture.Main}), configured by
 * environment variables and a kubeconfig file as in a DaemonSet, so that a SIGKILL really orphans its tcpdumps.
 */
final class AgentProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  private AgentProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static AgentProcess start(Path kubeconfig, Path captureDir, Path log, Map<String, String> env) throws IOException {
    List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // a quick start matters more here than peak speed
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> environment = builder.environment();
    environment.keySet().removeIf(k -> k.startsWith("KUBERNETES_"));
    environment.put("KUBECONFIG", kubeconfig.toString());
    environment.put("NODE_NAME", Cluster.NODE);
    environment.put("POD_NAME", "agent-a");
    environment.put("CAPTURE_DIR", captureDir.toString());
    environment.put("STATUS_REFRESH_SECONDS", "1");
    environment.put("STOP_GRACE_SECONDS", "2");
    environment.put("HTTP_PORT", "0");
    environment.putAll(env);
    return new AgentProcess(builder.start(), log);
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL, as an OOM kill or a node's crash leaves things: no shutdown hook runs. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM, as kubelet stops a Pod; returns the exit code. */
  int terminate(Duration atMost) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
      kill9();
      throw new IllegalStateException("agent did not stop within " + atMost + " of SIGTERM");
    }
    return process.exitValue();
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }
}
