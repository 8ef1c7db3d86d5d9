package io.podcapture.testing;

import io.podcapture.Main;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The agent as a real separate JVM ({@code java -cp <test classpath> io.podcapture.Main}),
 * configured by {@link AgentEnvironment} and a {@link Kubeconfig} file as in a DaemonSet, so that a
 * SIGKILL really orphans its tcpdumps and SIGTERM runs the real shutdown hook. Output goes to a log
 * file.
 */
public final class AgentJvm implements AutoCloseable {
  private final Process process;
  private final Path log;

  private AgentJvm(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts the agent; {@code captureDir} may be null for the agent's default, {@code env} overrides
   * the defaults. The test JVM's {@code KUBERNETES_*} variables are dropped, so only the kubeconfig
   * says where the API server is.
   */
  public static AgentJvm start(Path kubeconfig, Path captureDir, Path log, Map<String, String> env)
      throws IOException {
    return start(classpathLaunch(), kubeconfig, captureDir, log, env);
  }

  /**
   * As above, launched by {@code launch}: {@link #classpathLaunch()} or {@code -jar <jar>} (the
   * built jar, as the image runs it).
   */
  public static AgentJvm start(
      List<String> launch, Path kubeconfig, Path captureDir, Path log, Map<String, String> env)
      throws IOException {
    // a quick start matters more here than peak speed
    List<String> argv =
        argv(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m"), launch);
    ProcessBuilder builder =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> environment = new HashMap<>(AgentEnvironment.of(captureDir, env));
    environment.put("KUBECONFIG", kubeconfig.toString());
    return new AgentJvm(withAgentEnvironment(builder, environment).start(), log);
  }

  /**
   * The agent JVM's argv: {@code java <jvmFlags> <launch...>}, where {@code launch} is {@code -jar
   * <jar>} (as the image runs it) or {@link #classpathLaunch()}. The benchmark wraps it further (a
   * memory cgroup) and measures the process; every agent JVM of the tests and the benchmark starts
   * from here.
   */
  public static List<String> argv(List<String> jvmFlags, List<String> launch) {
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(jvmFlags);
    argv.addAll(launch);
    return argv;
  }

  /** {@code -cp <this JVM's classpath> io.podcapture.Main}. */
  public static List<String> classpathLaunch() {
    return List.of("-cp", System.getProperty("java.class.path"), Main.class.getName());
  }

  /**
   * Gives {@code builder} the agent's environment: this JVM's {@code KUBERNETES_*} variables (only
   * the kubeconfig says where the API server is) and JVM option variables (they would change the
   * agent's flags) are dropped, then {@code env} (see {@link AgentEnvironment}) is added; standard
   * input is /dev/null.
   */
  public static ProcessBuilder withAgentEnvironment(
      ProcessBuilder builder, Map<String, String> env) {
    Map<String, String> environment = builder.environment();
    environment
        .keySet()
        .removeIf(
            k ->
                k.startsWith("KUBERNETES_")
                    || k.equals("JAVA_TOOL_OPTIONS")
                    || k.equals("JDK_JAVA_OPTIONS"));
    environment.putAll(env);
    return builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
  }

  public Process process() {
    return process;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL, as an OOM kill or a node's crash leaves things: no shutdown hook runs. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM, as kubelet stops a Pod; returns the exit code. */
  public int terminate(Duration atMost) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
      kill9();
      throw new IllegalStateException("agent did not stop within " + atMost + " of SIGTERM");
    }
    return process.exitValue();
  }

  public String log() {
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
