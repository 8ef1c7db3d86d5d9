package io.podcapture.controller;

/**
 * The parsed value of the {@code tcpdump.antrea.io} annotation: a whole number of files from 1 to
 * the agent's maximum, written in digits only (spaces around it are trimmed). Anything else is an
 * error with a message.
 */
public record AnnotationValue(Integer maxFiles, String error) {
  /** Longer values are not echoed back in full, so a status message stays readable. */
  private static final int ECHO_LIMIT = 40;

  public static AnnotationValue parse(String raw, int limit) {
    String accepted =
        "a whole number of files from 1 to " + limit + ", e.g. tcpdump.antrea.io=\"5\"";
    if (raw == null) {
      return invalid("annotation " + Names.ANNOTATION + " is missing; expected " + accepted);
    }
    String value = raw.strip();
    if (value.isEmpty()) {
      return invalid(
          "annotation " + Names.ANNOTATION + "=" + echo(raw) + " is empty; expected " + accepted);
    }
    boolean digitsOnly = value.length() <= 9 && value.chars().allMatch(c -> c >= '0' && c <= '9');
    if (!digitsOnly) {
      return invalid(
          "annotation "
              + Names.ANNOTATION
              + "="
              + echo(raw)
              + " is not valid; expected "
              + accepted);
    }
    int n = Integer.parseInt(value);
    if (n < 1 || n > limit) {
      return invalid(
          "annotation "
              + Names.ANNOTATION
              + "="
              + echo(raw)
              + " is out of range; expected "
              + accepted);
    }
    return new AnnotationValue(n, null);
  }

  private static AnnotationValue invalid(String message) {
    return new AnnotationValue(null, message);
  }

  public boolean valid() {
    return error == null;
  }

  /**
   * Quotes the value, escaping control characters and cutting it short, so no raw input reaches a
   * message.
   */
  static String echo(String raw) {
    StringBuilder out = new StringBuilder("\"");
    int shown = 0;
    for (int i = 0; i < raw.length() && shown < ECHO_LIMIT; i++, shown++) {
      char c = raw.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\x%02x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (raw.length() > ECHO_LIMIT) {
      out.append("...(").append(raw.length()).append(" chars)");
    }
    return out.append('"').toString();
  }
}
