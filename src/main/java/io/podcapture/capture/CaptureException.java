package io.podcapture.capture;

/**
 * A capture could not be started; the message is fit for a user (it carries tcpdump's own error
 * text).
 */
public class CaptureException extends Exception {
  /** Why, as a CamelCase reason the controller can put into a condition. */
  public enum Reason {
    /** A name or IP was refused before anything ran. */
    InvalidInput,
    /**
     * The user's filter was refused (too long, looks like an option) or does not compile; nothing
     * ran.
     */
    InvalidFilter,
    /** tcpdump exited or failed to create its first file during start. */
    TcpdumpFailed,
    /** The capture folder could not be created or written (includes a full disk). */
    StorageFailed
  }

  private final Reason reason;

  public CaptureException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public CaptureException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
