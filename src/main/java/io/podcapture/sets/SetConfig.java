package io.podcapture.sets;

import java.util.Map;

/**
 * The set controller's settings.
 *
 * @param maxPodsCap the cluster admin's hard cap on a set's {@code maxPods}: a set asking for more
 *     is refused (status message and Warning Event), so no user can make a set larger than this
 * @param identity who runs the controller (the replica's Pod name), shown as the Events' host and
 *     in logs
 */
public record SetConfig(int maxPodsCap, String identity) {
  public static final int DEFAULT_MAX_PODS_CAP = 100;

  /** The environment variable the admin sets the cap with. */
  public static final String ENV_MAX_PODS_CAP = "SET_MAX_PODS_CAP";

  public SetConfig {
    if (maxPodsCap < 1) {
      throw new IllegalArgumentException(
          ENV_MAX_PODS_CAP + " must be at least 1, got " + maxPodsCap);
    }
    if (identity == null || identity.isBlank()) {
      throw new IllegalArgumentException("the controller's identity must not be empty");
    }
  }

  /** The default cap, for the given identity. */
  public static SetConfig of(String identity) {
    return new SetConfig(DEFAULT_MAX_PODS_CAP, identity);
  }

  /**
   * Reads {@value #ENV_MAX_PODS_CAP} (default {@value #DEFAULT_MAX_PODS_CAP}) from the environment;
   * a value that is not a positive whole number is refused with a message naming the variable.
   */
  public static SetConfig fromEnv(Map<String, String> env, String identity) {
    String raw = env.get(ENV_MAX_PODS_CAP);
    if (raw == null || raw.isBlank()) {
      return new SetConfig(DEFAULT_MAX_PODS_CAP, identity);
    }
    int cap;
    try {
      cap = Integer.parseInt(raw.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          ENV_MAX_PODS_CAP + " must be a whole number of Pods (at least 1), got \"" + raw + "\"",
          e);
    }
    return new SetConfig(cap, identity);
  }
}
