package io.podcapture.capture;

/**
 * Quotes a refused value for a message: control and non-ASCII characters escaped, long values cut.
 */
final class Quote {

  /** Enough to recognise a value; a 10 kB hostile string must not end up in a CR's status. */
  private static final int MAX_SHOWN = 64;

  private Quote() {}

  static String value(String s) {
    if (s == null) {
      return "(none)";
    }
    StringBuilder out = new StringBuilder("\"");
    int shown = Math.min(s.length(), MAX_SHOWN);
    for (int i = 0; i < shown; i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c >= 0x20 && c < 0x7f) {
        out.append(c);
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    out.append('"');
    if (s.length() > shown) {
      out.append("... (").append(s.length()).append(" characters)");
    }
    return out.toString();
  }
}
