package io.podcapture.clusterwide;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The cluster controller's settings ({@code PODCAPTURE_MODE=controller}), read from environment
 * variables. POD_NAME is required (it is the controller's identity in the Lease); every other
 * setting has a default.
 *
 * @param podName this replica's Pod, its identity in the Lease
 * @param podNamespace the namespace of the Lease (the controller's own)
 * @param httpPort the port of /healthz, /readyz and /metrics (0: any free port)
 * @param agentNamespace where the node agents' Pods run
 * @param agentSelector the labels that pick out the node agents' Pods
 * @param setMaxPodsCap the cluster admin's hard cap on a PodCaptureSet's maxPods
 * @param logLevel trace, debug, info, warn or error
 * @param filesApiPort the port of the aggregated files API (0: any free port)
 * @param filesApiMaxConcurrent requests the files API serves at once; beyond, 429
 * @param filesApiMaxRequestSeconds the longest a files API request may last (a download, a stream)
 * @param serviceAccount the controller's own ServiceAccount, whose tokens the agents accept
 */
public record ControllerConfig(
    String podName,
    String podNamespace,
    int httpPort,
    String agentNamespace,
    Map<String, String> agentSelector,
    int setMaxPodsCap,
    String logLevel,
    int filesApiPort,
    int filesApiMaxConcurrent,
    int filesApiMaxRequestSeconds,
    String serviceAccount) {

  /** The label selector the DaemonSet's Pods carry in deploy/daemonset.yaml. */
  public static final String DEFAULT_AGENT_SELECTOR = "app.kubernetes.io/name=podcapture-agent";

  /** A label key: an optional DNS prefix and a name of at most 63 characters. */
  private static final Pattern LABEL_KEY =
      Pattern.compile(
          "([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
              + "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");

  /** A label value: empty, or at most 63 characters of alphanumerics, '-', '_' and '.'. */
  private static final Pattern LABEL_VALUE =
      Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");

  /** A namespace name (DNS-1123 label). */
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** A setting is missing or malformed; the message names it and says what is accepted. */
  public static final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
      super(message);
    }
  }

  public ControllerConfig {
    agentSelector = Map.copyOf(agentSelector);
  }

  public static ControllerConfig fromEnvironment(Map<String, String> env) {
    String podName = env.getOrDefault("POD_NAME", "").strip();
    if (podName.isEmpty()) {
      throw new ConfigException(
          "POD_NAME is not set: set it to this controller replica's Pod name, its identity in"
              + " the Lease (in the Deployment it comes from the downward API, metadata.name)");
    }
    String podNamespace = namespace(env, "POD_NAMESPACE", "kube-system");
    return new ControllerConfig(
        podName,
        podNamespace,
        intSetting(env, "HTTP_PORT", 9397, 0, 65535),
        namespace(env, "AGENT_NAMESPACE", podNamespace),
        selector(env.getOrDefault("AGENT_SELECTOR", DEFAULT_AGENT_SELECTOR)),
        intSetting(env, "SET_MAX_PODS_CAP", 100, 1, 1000),
        logLevel(env.getOrDefault("LOG_LEVEL", "info")),
        intSetting(env, "FILES_API_PORT", 8443, 0, 65535),
        intSetting(env, "FILES_API_MAX_CONCURRENT", 16, 1, 1024),
        intSetting(env, "FILES_API_MAX_REQUEST_SECONDS", 3600, 1, 86_400),
        serviceAccount(env.getOrDefault("SERVICE_ACCOUNT", "podcapture-controller")));
  }

  /** A ServiceAccount name (DNS-1123 subdomain). */
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  private static String serviceAccount(String raw) {
    String value = raw.strip();
    if (value.isEmpty()) {
      return "podcapture-controller";
    }
    if (value.length() > 253 || !SUBDOMAIN.matcher(value).matches()) {
      throw new ConfigException(
          "SERVICE_ACCOUNT="
              + raw
              + " is not a ServiceAccount name: expected lower-case letters, digits, '-' and '.'");
    }
    return value;
  }

  /** The agent selector as the label selector string the API takes. */
  public String agentSelectorText() {
    return String.join(
        ",",
        agentSelector.entrySet().stream()
            .sorted(Map.Entry.comparingByKey())
            .map(e -> e.getKey() + "=" + e.getValue())
            .toList());
  }

  private static String namespace(Map<String, String> env, String name, String fallback) {
    String raw = env.get(name);
    if (raw == null || raw.isBlank()) {
      return fallback;
    }
    String value = raw.strip();
    if (!NAMESPACE.matcher(value).matches()) {
      throw new ConfigException(
          name
              + "="
              + raw
              + " is not a namespace name: expected at most 63 lower-case letters, digits and"
              + " '-', starting and ending with a letter or digit");
    }
    return value;
  }

  /**
   * {@code key=value[,key=value...]}: equality only, which is what a DaemonSet's matchLabels say.
   */
  static Map<String, String> selector(String raw) {
    Map<String, String> labels = new LinkedHashMap<>();
    for (String part : raw.split(",", -1)) {
      String term = part.strip();
      int eq = term.indexOf('=');
      String key = eq < 0 ? term : term.substring(0, eq).strip();
      String value = eq < 0 ? "" : term.substring(eq + 1).strip();
      if (eq < 0
          || value.startsWith("=")
          || !LABEL_KEY.matcher(key).matches()
          || key.length() > 253
          || !LABEL_VALUE.matcher(value).matches()
          || labels.containsKey(key)) {
        throw new ConfigException(
            "AGENT_SELECTOR="
                + raw
                + " is not a label selector: expected key=value pairs separated by commas, e.g. "
                + DEFAULT_AGENT_SELECTOR);
      }
      labels.put(key, value);
    }
    return labels;
  }

  private static String logLevel(String raw) {
    String level = raw.strip().toLowerCase(Locale.ROOT);
    if (!Set.of("trace", "debug", "info", "warn", "error").contains(level)) {
      throw new ConfigException(
          "LOG_LEVEL=" + raw + " is not a level: expected trace, debug, info, warn or error");
    }
    return level;
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
