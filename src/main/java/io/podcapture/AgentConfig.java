package io.podcapture;

import io.podcapture.agentfiles.FilesConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The agent's settings, read from environment variables. Every setting but NODE_NAME has a default;
 * the README lists them all.
 */
public record AgentConfig(
    String nodeName,
    String podName,
    String podNamespace,
    Path captureDir,
    int maxFiles,
    int maxCaptures,
    long diskBudgetMB,
    Set<String> denyNamespaces,
    Duration statusRefresh,
    Duration stopGrace,
    int maxRestarts,
    int workers,
    int httpPort,
    String logLevel,
    boolean allowHostNetwork,
    FilesConfig files) {

  /** A setting is missing or malformed; the message names it and says what is accepted. */
  public static final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
      super(message);
    }
  }

  public static AgentConfig fromEnvironment(Map<String, String> env) {
    String node = env.getOrDefault("NODE_NAME", "").strip();
    if (node.isEmpty()) {
      throw new ConfigException(
          "NODE_NAME is not set: set it to the name of the node this agent runs on "
              + "(in the DaemonSet it comes from the downward API, spec.nodeName)");
    }
    String podNamespace = env.getOrDefault("POD_NAMESPACE", "kube-system").strip();
    return new AgentConfig(
        node,
        env.getOrDefault("POD_NAME", "").strip(),
        podNamespace,
        Path.of(env.getOrDefault("CAPTURE_DIR", "/capture")).toAbsolutePath().normalize(),
        intSetting(env, "MAX_FILES", 64, 1, 1000),
        intSetting(env, "MAX_CAPTURES", 16, 1, 10_000),
        intSetting(env, "DISK_BUDGET_MB", 1024, 1, Integer.MAX_VALUE),
        Arrays.stream(env.getOrDefault("DENY_NAMESPACES", "kube-system").split(","))
            .map(String::strip)
            .filter(s -> !s.isEmpty())
            .collect(Collectors.toUnmodifiableSet()),
        Duration.ofSeconds(intSetting(env, "STATUS_REFRESH_SECONDS", 10, 1, 3600)),
        Duration.ofSeconds(intSetting(env, "STOP_GRACE_SECONDS", 5, 0, 300)),
        intSetting(env, "MAX_RESTARTS", 5, 0, 1000),
        intSetting(env, "WORKERS", 4, 1, 64),
        intSetting(env, "HTTP_PORT", 9397, 0, 65535),
        logLevel(env.getOrDefault("LOG_LEVEL", "info")),
        booleanSetting(env, "ALLOW_HOST_NETWORK", false),
        files(env, podNamespace));
  }

  /**
   * The file server's settings: FILES_SERVER (on or off), FILES_PORT (0 = any free port),
   * FILES_TLS_DIR, CONTROLLER_NAMESPACE (default POD_NAMESPACE), CONTROLLER_SERVICE_ACCOUNT and
   * FILES_MAX_REQUEST_SECONDS.
   */
  private static FilesConfig files(Map<String, String> env, String podNamespace) {
    String server =
        env.getOrDefault("FILES_SERVER", "on").strip().toLowerCase(java.util.Locale.ROOT);
    if (!server.equals("on") && !server.equals("off") && !server.isEmpty()) {
      throw new ConfigException(
          "FILES_SERVER=" + env.get("FILES_SERVER") + " is not a switch: expected on or off");
    }
    String namespace =
        nameSetting(env, "CONTROLLER_NAMESPACE", podNamespace, DNS_LABEL, "a namespace name");
    String account =
        nameSetting(
            env,
            "CONTROLLER_SERVICE_ACCOUNT",
            FilesConfig.DEFAULT_SERVICE_ACCOUNT,
            DNS_SUBDOMAIN,
            "a ServiceAccount name");
    String tlsDir = env.getOrDefault("FILES_TLS_DIR", "").strip();
    return new FilesConfig(
        !server.equals("off"),
        intSetting(env, "FILES_PORT", FilesConfig.DEFAULT_PORT, 0, 65535),
        Path.of(tlsDir.isEmpty() ? FilesConfig.DEFAULT_TLS_DIR : tlsDir)
            .toAbsolutePath()
            .normalize(),
        namespace,
        account,
        Duration.ofSeconds(
            intSetting(
                env,
                "FILES_MAX_REQUEST_SECONDS",
                FilesConfig.DEFAULT_MAX_REQUEST_SECONDS,
                1,
                7 * 24 * 3600)));
  }

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile(
          "(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  private static String nameSetting(
      Map<String, String> env, String name, String fallback, Pattern rule, String what) {
    String raw = env.get(name);
    if (raw == null || raw.isBlank()) {
      return fallback;
    }
    String value = raw.strip();
    if (!rule.matcher(value).matches()) {
      throw new ConfigException(
          name
              + "="
              + raw
              + " is not "
              + what
              + ": expected lower-case letters, digits, '-' and '.' (a namespace has no '.')");
    }
    return value;
  }

  private static String logLevel(String raw) {
    String level = raw.strip().toLowerCase(java.util.Locale.ROOT);
    if (!Set.of("trace", "debug", "info", "warn", "error").contains(level)) {
      throw new ConfigException(
          "LOG_LEVEL=" + raw + " is not a level: expected trace, debug, info, warn or error");
    }
    return level;
  }

  /**
   * The agent Pod as {@code namespace/name}, usable directly in {@code kubectl cp}; empty outside a
   * Pod.
   */
  public String agentPod() {
    return podName.isEmpty() ? "" : podNamespace + "/" + podName;
  }

  private static boolean booleanSetting(Map<String, String> env, String name, boolean fallback) {
    String raw = env.get(name);
    if (raw == null || raw.isBlank()) {
      return fallback;
    }
    return switch (raw.strip().toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new ConfigException(name + "=" + raw + " is not a boolean: expected true or false");
    };
  }

  private static int intSetting(
      Map<String, String> env, String name, int fallback, int min, int max) {
    String raw = env.get(name);
    if (raw == null || raw.isBlank()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(raw.strip());
      if (value < min || value > max) {
        throw new ConfigException(
            name + "=" + raw + " is out of range: expected " + min + " to " + max);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new ConfigException(
          name + "=" + raw + " is not a whole number: expected " + min + " to " + max);
    }
  }
}
