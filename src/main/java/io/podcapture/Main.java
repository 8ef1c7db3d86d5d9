package io.podcapture;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/** Entry point: reads the settings, starts the agent, and stops it cleanly on SIGTERM. */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) throws Exception {
    AgentConfig config;
    try {
      config = AgentConfig.fromEnvironment(System.getenv());
    } catch (AgentConfig.ConfigException e) {
      System.err.println("podcapture-agent: " + e.getMessage());
      System.exit(2);
      return;
    }
    configureLogging(config.logLevel());

    // The client's standard resolution: in-cluster in a Pod, KUBECONFIG (or ~/.kube/config) outside.
    Config clientConfig = Config.autoConfigure(null);
    clientConfig.setUserAgent("podcapture-agent/" + Optional.ofNullable(Main.class.getPackage()
        .getImplementationVersion()).orElse("dev"));
    KubernetesClient client = new KubernetesClientBuilder().withConfig(clientConfig).build();
    Agent agent;
    try {
      agent = Agent.start(config, client);
    } catch (Exception e) {
      org.slf4j.LoggerFactory.getLogger(Main.class).error("agent could not start: {}", e.toString());
      client.close();
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      client.close();
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
  }

  /** slf4j-simple reads its settings once, from system properties: set them before the first logger exists. */
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
