package io.podcapture.filesapi;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request that ends with an error: its HTTP code, the metav1 Status reason and a message for the
 * user, written as a Status body ({@link #statusJson()}) so that kubectl prints it well.
 */
public final class StatusException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int code;
  private final String reason;

  public StatusException(int code, String reason, String message) {
    super(message);
    this.code = code;
    this.reason = reason;
  }

  public StatusException(int code, String reason, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.reason = reason;
  }

  public static StatusException unauthorized(String message) {
    return new StatusException(401, "Unauthorized", message);
  }

  public static StatusException forbidden(String message) {
    return new StatusException(403, "Forbidden", message);
  }

  public static StatusException notFound(String message) {
    return new StatusException(404, "NotFound", message);
  }

  public static StatusException badRequest(String message) {
    return new StatusException(400, "BadRequest", message);
  }

  public static StatusException tooManyRequests(String message) {
    return new StatusException(429, "TooManyRequests", message);
  }

  public static StatusException unavailable(String message) {
    return new StatusException(503, "ServiceUnavailable", message);
  }

  public static StatusException unavailable(String message, Throwable cause) {
    return new StatusException(503, "ServiceUnavailable", message, cause);
  }

  public int code() {
    return code;
  }

  public String reason() {
    return reason;
  }

  /** The metav1 Status body: {@code {"kind":"Status","apiVersion":"v1",...}}. */
  public String statusJson() {
    ObjectNode status = JsonNodeFactory.instance.objectNode();
    status.put("kind", "Status");
    status.put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure");
    status.put("message", getMessage());
    status.put("reason", reason);
    status.put("code", code);
    return status.toString();
  }
}
