package io.podcapture.bench;

import io.podcapture.testing.AgentJvm;
import io.podcapture.testing.Processes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent as its own JVM process, as the image runs it: started with given JVM flags and
 * classpath, its output kept in a log file, its readiness seen on {@code /readyz} (once the agent
 * serves it) or else in its {@code agent ready on node} log line, and its footprint read from
 * {@code /proc} and {@code jcmd}.
 */
final class AgentProcess implements AutoCloseable {
  static final String READY_LINE = "agent ready on node";

  private final Process process;
  private final long startedNanos;
  private final AtomicLong readyNanos = new AtomicLong();
  private volatile String readySource = "";
  private volatile boolean readyzAnswered;
  private final CountDownLatch ready = new CountDownLatch(1);
  private final int httpPort;
  private final PrintWriter log;
  private final MemoryCgroup cgroup;

  private AgentProcess(
      Process process, long startedNanos, int httpPort, PrintWriter log, MemoryCgroup cgroup) {
    this.process = process;
    this.startedNanos = startedNanos;
    this.httpPort = httpPort;
    this.log = log;
    this.cgroup = cgroup;
  }

  /**
   * Starts {@code java <jvmFlags> <launch...>} with the agent's environment. {@code launch} is
   * either {@code -jar <jar>} or {@code -cp <classpath> io.podcapture.Main}.
   */
  static AgentProcess start(
      List<String> jvmFlags, List<String> launch, Map<String, String> env, Path logFile)
      throws IOException {
    List<String> argv = AgentJvm.argv(jvmFlags, launch);
    MemoryCgroup cgroup = MemoryCgroup.create().orElse(null);
    if (cgroup != null) {
      argv = cgroup.wrap(argv);
    }
    ProcessBuilder builder =
        AgentJvm.withAgentEnvironment(new ProcessBuilder(argv).redirectErrorStream(true), env);
    int port = Integer.parseInt(env.getOrDefault("HTTP_PORT", "9397"));
    PrintWriter log =
        new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8), true);
    log.println("# " + String.join(" ", argv));
    long t0 = System.nanoTime();
    Process process = builder.start();
    AgentProcess agent = new AgentProcess(process, t0, port, log, cgroup);
    agent.follow(process.getInputStream());
    agent.pollReadyz();
    return agent;
  }

  private void follow(InputStream out) {
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(out, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.contains(READY_LINE) && !readyzAnswered) {
                    markReady("log line '" + READY_LINE + "'");
                  }
                  log.println(line);
                }
              } catch (IOException e) {
                log.println("# output not read to its end: " + e);
              }
            },
            "agent-output");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Asks /readyz every 20 ms until it says 200; an agent without the endpoint refuses the
   * connection.
   */
  private void pollReadyz() {
    Thread poller =
        new Thread(
            () -> {
              while (process.isAlive() && ready.getCount() > 0) {
                try {
                  HttpURLConnection c =
                      (HttpURLConnection)
                          new URL("http://127.0.0.1:" + httpPort + "/readyz").openConnection();
                  c.setConnectTimeout(200);
                  c.setReadTimeout(500);
                  int code = c.getResponseCode();
                  readyzAnswered = true;
                  c.disconnect();
                  if (code == 200) {
                    markReady("/readyz");
                    return;
                  }
                } catch (IOException e) {
                  // not listening (yet): the log line decides
                }
                sleepMillis(20);
              }
            },
            "agent-readyz");
    poller.setDaemon(true);
    poller.start();
  }

  private synchronized void markReady(String source) {
    if (ready.getCount() > 0) {
      readyNanos.set(System.nanoTime());
      readySource = source;
      ready.countDown();
    }
  }

  /** Waits until ready; returns the time from process start to ready in ms. */
  double awaitReady(long timeoutSeconds) throws InterruptedException {
    if (!ready.await(timeoutSeconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException(
          "agent not ready within "
              + timeoutSeconds
              + " s (alive: "
              + process.isAlive()
              + "); see its log");
    }
    return (readyNanos.get() - startedNanos) / 1e6;
  }

  String readySource() {
    return readySource;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** One reading of the process's memory and threads. */
  record Footprint(
      long rssKiB,
      long hwmKiB,
      long rssAnonKiB,
      int threads,
      long heapUsedKiB,
      long heapCommittedKiB,
      long metaspaceUsedKiB,
      long cgroupKiB,
      long cgroupPeakKiB) {}

  /**
   * RSS and threads from /proc first (jcmd attaches a thread of its own), then the heap via jcmd.
   */
  Footprint footprint() {
    Map<String, Long> status = procStatus(pid());
    long[] heap = heapInfo(pid());
    long cg = cgroup == null ? -1 : cgroup.usageKiB();
    long cgPeak = cgroup == null ? -1 : cgroup.peakKiB();
    return new Footprint(
        status.getOrDefault("VmRSS", -1L),
        status.getOrDefault("VmHWM", -1L),
        status.getOrDefault("RssAnon", -1L),
        status.getOrDefault("Threads", -1L).intValue() - attachListeners(pid()),
        heap[0],
        heap[1],
        heap[2],
        cg,
        cgPeak);
  }

  /**
   * The JVM's "Attach Listener" thread (0 or 1): the first jcmd starts it and it stays, so without
   * this the reading after the first jcmd would count one thread more than the one before it.
   */
  static int attachListeners(long pid) {
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      return (int)
          tasks
              .filter(
                  t -> {
                    try {
                      return Files.readString(t.resolve("comm")).strip().equals("Attach Listener");
                    } catch (IOException e) {
                      return false; // the thread ended meanwhile
                    }
                  })
              .count();
    } catch (IOException e) {
      return 0;
    }
  }

  /** CPU time (user + system) the process has used so far, in ms. */
  long cpuMillis() {
    return cpuMillis(pid());
  }

  static long cpuMillis(long pid) {
    List<String> f = Processes.stat(pid);
    if (f.size() < 13) {
      return -1;
    }
    long ticks = Long.parseLong(f.get(11)) + Long.parseLong(f.get(12));
    return ticks * 10; // USER_HZ is 100 on Linux
  }

  /** The numeric fields of /proc/<pid>/status (sizes in KiB). */
  static Map<String, Long> procStatus(long pid) {
    Map<String, Long> values = new java.util.HashMap<>();
    for (String line : Processes.read(pid, "status").lines().toList()) {
      Matcher m = Pattern.compile("^(\\w+):\\s+(\\d+)").matcher(line);
      if (m.find()) {
        values.put(m.group(1), Long.parseLong(m.group(2)));
      }
    }
    return values;
  }

  /** Proportional set size: private pages plus a share of the shared ones, KiB (-1 if unknown). */
  static long pssKiB(long pid) {
    String pss = Processes.statusField(pid, "Pss", "smaps_rollup");
    return pss == null ? -1 : Long.parseLong(pss.replaceAll("\\D", ""));
  }

  private static final Pattern HEAP_LINE =
      Pattern.compile("(?m)^\\s+\\S.*?\\s+total (\\d+)K, used (\\d+)K");
  private static final Pattern METASPACE = Pattern.compile("(?m)^\\s*Metaspace\\s+used (\\d+)K");

  /**
   * {used, committed} heap KiB summed over the generations, and metaspace used KiB, from jcmd
   * GC.heap_info.
   */
  static long[] heapInfo(long pid) {
    String out = run(List.of("jcmd", Long.toString(pid), "GC.heap_info"));
    long used = 0;
    long committed = 0;
    Matcher m = HEAP_LINE.matcher(out);
    boolean found = false;
    while (m.find()) {
      found = true;
      committed += Long.parseLong(m.group(1));
      used += Long.parseLong(m.group(2));
    }
    Matcher meta = METASPACE.matcher(out);
    long metaUsed = meta.find() ? Long.parseLong(meta.group(1)) : -1;
    return found ? new long[] {used, committed, metaUsed} : new long[] {-1, -1, metaUsed};
  }

  /** The agent's child processes (its tcpdumps). */
  List<Long> children() {
    return process.toHandle().children().map(ProcessHandle::pid).toList();
  }

  static String run(List<String> argv) {
    try {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      p.waitFor(30, TimeUnit.SECONDS);
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /** SIGTERM, as the kubelet stops it; SIGKILL after 20 s. Returns the ms it took to exit. */
  double stop() throws InterruptedException {
    long t0 = System.nanoTime();
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    log.flush();
    return (System.nanoTime() - t0) / 1e6;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    log.close();
    if (cgroup != null) {
      cgroup.close();
    }
  }

  static void sleepMillis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
