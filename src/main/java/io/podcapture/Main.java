package io.podcapture;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.podcapture.clusterwide.ClusterController;
import io.podcapture.clusterwide.ControllerConfig;
import io.podcapture.filesapi.FilesApi;
import io.podcapture.sets.SetConfig;
import io.podcapture.sets.SetController;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.CertificateException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Entry point of both modes of the jar, chosen by {@code PODCAPTURE_MODE}: {@code agent} (the
 * default; the DaemonSet) or {@code controller} (the Deployment; {@link ClusterController}).
 * Anything else exits 2 with one line saying what is accepted, as does a malformed setting.
 *
 * <p>The agent: reads the settings, starts, and stops cleanly on SIGTERM or SIGINT at any moment,
 * start-up included, exiting 0. If it cannot start (the API server unreachable, credentials
 * refused) it exits 1 with one line naming the API server and the cause; the kubelet restarts it
 * with back-off. The controller: stops its duties and releases its Lease on SIGTERM or SIGINT,
 * exiting 0.
 */
public final class Main {
  /**
   * How long a stop during start-up waits for the start-up to unwind before the JVM exits
   * regardless.
   */
  private static final long ABANDON_START_SECONDS = 10;

  private Main() {}

  public static void main(String[] args) throws Exception {
    CompletableFuture<String> stopRequested = stopOnSignals();
    String mode = System.getenv().getOrDefault("PODCAPTURE_MODE", "").strip();
    switch (mode) {
      case "", "agent" -> runAgent(stopRequested);
      case "controller" -> runController(stopRequested);
      default -> {
        System.err.println(
            "podcapture: PODCAPTURE_MODE="
                + mode
                + " is not a mode: expected agent (the default) or controller");
        System.exit(2);
      }
    }
  }

  /**
   * The cluster controller: it runs for the Lease at once and needs the API server for nothing else
   * at start, so a stop at any moment is answered by closing it (releasing the Lease if held).
   */
  private static void runController(CompletableFuture<String> stopRequested) throws Exception {
    ControllerConfig config;
    try {
      config = ControllerConfig.fromEnvironment(System.getenv());
    } catch (ControllerConfig.ConfigException e) {
      System.err.println("podcapture-controller: " + e.getMessage());
      System.exit(2);
      return;
    }
    configureLogging(config.logLevel());
    Logger log = LoggerFactory.getLogger(Main.class);
    Config clientConfig = clientConfig("podcapture-controller");
    KubernetesClient client = new KubernetesClientBuilder().withConfig(clientConfig).build();
    ClusterController controller;
    try {
      controller =
          ClusterController.start(
              config,
              client,
              Clock.systemUTC(),
              List.of(Main::startSetController),
              List.of(Main::startFilesApi));
    } catch (IOException e) {
      log.error("controller could not start: monitoring port {}: {}", config.httpPort(), e);
      client.close();
      System.exit(1);
      return;
    }
    log.info(
        "controller {} running against {}: Lease {}/{}, agents {} in {}",
        config.podName(),
        clientConfig.getMasterUrl(),
        config.podNamespace(),
        ClusterController.LEASE,
        config.agentSelectorText(),
        config.agentNamespace());
    String signal = stopRequested.join();
    log.info("{}: stopping", signal);
    controller.close();
    client.close();
    log.info("controller stopped");
    System.exit(0);
  }

  /** The PodCaptureSet controller, a leader duty beside placement. */
  private static AutoCloseable startSetController(
      KubernetesClient client, ControllerConfig config, Clock clock) throws Exception {
    return SetController.start(
        client, new SetConfig(config.setMaxPodsCap(), config.podName()), clock);
  }

  /**
   * The aggregated files API (issue 22), on every replica: it answers reads and writes only its
   * certificates' Secrets and the APIService's caBundle, which every replica agrees on.
   */
  private static AutoCloseable startFilesApi(
      KubernetesClient client, ControllerConfig config, Clock clock) {
    return FilesApi.start(
        client,
        new FilesApi.Settings(
            config.podNamespace(),
            config.serviceAccount(),
            config.filesApiPort(),
            config.filesApiMaxConcurrent(),
            Duration.ofSeconds(config.filesApiMaxRequestSeconds())),
        clock);
  }

  private static void runAgent(CompletableFuture<String> stopRequested) throws Exception {
    AgentConfig config;
    try {
      config = AgentConfig.fromEnvironment(System.getenv());
    } catch (AgentConfig.ConfigException e) {
      System.err.println("podcapture-agent: " + e.getMessage());
      System.exit(2);
      return;
    }
    configureLogging(config.logLevel());
    Logger log = LoggerFactory.getLogger(Main.class);
    Config clientConfig = clientConfig("podcapture-agent");
    KubernetesClient client = Agent.client(clientConfig);

    // Start-up runs on its own thread, so that a stop asked for while it waits for the API server
    // is answered.
    CompletableFuture<Agent> started = new CompletableFuture<>();
    Thread starter =
        new Thread(
            () -> {
              try {
                started.complete(Agent.start(config, client));
              } catch (Throwable e) {
                started.completeExceptionally(e);
              }
            },
            "start-up");
    starter.start();
    CompletableFuture.anyOf(started, stopRequested).handle((r, e) -> null).join();

    if (stopRequested.isDone()) {
      abandonStartUp(log, stopRequested.join(), starter, started, client);
      return;
    }
    Agent agent;
    try {
      agent = started.get();
    } catch (ExecutionException e) {
      log.error(
          "agent could not start: {}", startFailure(clientConfig.getMasterUrl(), e.getCause()));
      client.close();
      System.exit(1);
      return;
    }

    log.info("{}: stopping", stopRequested.get());
    agent.close();
    client.close();
    log.info("agent stopped");
    System.exit(0);
  }

  /**
   * First of all: until these handlers are in place the JVM's own answer to SIGTERM is to exit with
   * 143 without running any of the clean-up. They replace it, so the JVM ends only when main says
   * so; the future completes with the signal's name.
   */
  private static CompletableFuture<String> stopOnSignals() {
    CompletableFuture<String> stopRequested = new CompletableFuture<>();
    Signal.handle(new Signal("TERM"), s -> stopRequested.complete("SIGTERM"));
    try {
      Signal.handle(new Signal("INT"), s -> stopRequested.complete("SIGINT"));
    } catch (IllegalArgumentException e) {
      // SIGINT reserved by the VM or the OS (the JVM run with -Xrs): Ctrl-C then ends the JVM the
      // default way.
    }
    return stopRequested;
  }

  /**
   * The client's standard resolution: in-cluster in a Pod, KUBECONFIG (or ~/.kube/config) outside.
   */
  private static Config clientConfig(String component) {
    Config clientConfig = Config.autoConfigure(null);
    clientConfig.setUserAgent(
        component
            + "/"
            + Optional.ofNullable(Main.class.getPackage().getImplementationVersion())
                .orElse("dev"));
    return clientConfig;
  }

  /**
   * A stop asked for during start-up wins over whatever start-up was about to do, failure included.
   * Agent.start closes what it has opened when its wait for the caches is interrupted; an agent
   * that started meanwhile is closed here.
   */
  private static void abandonStartUp(
      Logger log,
      String signal,
      Thread starter,
      CompletableFuture<Agent> started,
      KubernetesClient client)
      throws InterruptedException {
    log.info("{} during start-up: abandoning start-up", signal);
    starter.interrupt();
    try {
      started.get(ABANDON_START_SECONDS, TimeUnit.SECONDS).close();
    } catch (ExecutionException | TimeoutException e) {
      log.debug("start-up ended with {}", e.toString());
    }
    client.close();
    log.info("agent stopped");
    System.exit(0);
  }

  /**
   * What went wrong in one line for {@code kubectl logs}: the API server's URL and the cause in
   * words (host not resolved, connection refused, TLS, credentials refused...), or the innermost
   * exception where none of those fits.
   */
  static String startFailure(String apiServerUrl, Throwable failure) {
    List<Throwable> chain = new ArrayList<>();
    for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
      chain.add(t);
    }
    // The most specific cause anywhere in the chain: the client wraps the network's exceptions in
    // its own.
    String cause =
        networkCause(chain)
            .or(() -> apiCause(chain))
            .or(() -> first(chain, TimeoutException.class).map(e -> "caches not filled in time"))
            .orElseGet(() -> "failed: " + chain.get(chain.size() - 1));
    return "API server " + apiServerUrl + ": " + cause;
  }

  /**
   * Host, route, TLS, timeout or connection. The JDK's HTTP client reports an unknown host as a
   * ConnectException caused by UnresolvedAddressException, and a closed port as a bare
   * ConnectException.
   */
  private static Optional<String> networkCause(List<Throwable> chain) {
    return first(chain, UnknownHostException.class)
        .map(e -> "host not resolved")
        .or(() -> first(chain, UnresolvedAddressException.class).map(e -> "host not resolved"))
        .or(() -> first(chain, NoRouteToHostException.class).map(e -> "no route to host"))
        .or(
            () ->
                first(chain, CertificateException.class)
                    .map(
                        e ->
                            "TLS: the server's certificate is not trusted ("
                                + e.getMessage()
                                + ")"))
        .or(
            () ->
                first(chain, SSLException.class)
                    .map(e -> "TLS handshake failed (" + e.getMessage() + ")"))
        .or(
            () ->
                first(chain, HttpTimeoutException.class)
                    .map(e -> "timed out (" + e.getMessage() + ")"))
        .or(
            () ->
                first(chain, SocketTimeoutException.class)
                    .map(e -> "timed out (" + e.getMessage() + ")"))
        .or(
            () ->
                first(chain, ConnectException.class)
                    .map(
                        e ->
                            e.getMessage() == null
                                ? "connection refused"
                                : "cannot connect (" + e.getMessage() + ")"));
  }

  /** What the API server answered: credentials refused, forbidden, or another HTTP code. */
  private static Optional<String> apiCause(List<Throwable> chain) {
    return first(chain, KubernetesClientException.class)
        .filter(e -> e.getCode() == 401)
        .map(e -> "credentials refused (401 Unauthorized)")
        .or(
            () ->
                first(chain, KubernetesClientException.class)
                    .filter(e -> e.getCode() == 403)
                    .map(e -> "forbidden (403): " + e.getStatus().getMessage()))
        .or(
            () ->
                first(chain, KubernetesClientException.class)
                    .filter(e -> e.getCode() > 0)
                    .map(e -> "answered " + e.getCode() + ": " + e.getMessage()));
  }

  private static <T extends Throwable> Optional<T> first(List<Throwable> chain, Class<T> type) {
    return chain.stream().filter(type::isInstance).map(type::cast).findFirst();
  }

  /**
   * slf4j-simple reads its settings once, from system properties: set them before the first logger
   * exists.
   */
  private static void configureLogging(String level) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.out");
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
    System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "true");
    // The client's own chatter is rarely what an operator wants at info.
    if ("info".equals(level)) {
      System.setProperty("org.slf4j.simpleLogger.log.io.fabric8", "warn");
    }
  }
}
