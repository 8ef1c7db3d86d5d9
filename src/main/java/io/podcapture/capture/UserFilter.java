package io.podcapture.capture;

import static io.podcapture.capture.CaptureException.Reason.InvalidFilter;

/**
 * A user's pcap-filter expression that passed the checks made before anything compiles or runs it:
 * at most {@link #MAX_LENGTH} characters, only printable ASCII and whitespace (space, tab, line
 * breaks, which libpcap's scanner skips like spaces). A NUL cannot be passed in an argv at all,
 * other control characters and non-ASCII have no place in a pcap filter and would end up in status
 * messages and logs. Blank means no filter. Whether the expression compiles is {@link
 * FilterCompiler}'s part.
 *
 * @param text the expression without leading and trailing whitespace
 */
record UserFilter(String text) {

  static final int MAX_LENGTH = 1024;

  /**
   * The filter in {@code raw}, or null when it is null or blank; refuses what tcpdump must not get.
   */
  static UserFilter parse(String raw) throws CaptureException {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    if (raw.length() > MAX_LENGTH) {
      throw new CaptureException(
          InvalidFilter,
          "filter "
              + Quote.value(raw)
              + " is too long: at most "
              + MAX_LENGTH
              + " characters are accepted");
    }
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      boolean printable = c >= 0x20 && c < 0x7f;
      boolean whitespace = c == '\t' || c == '\n' || c == '\r';
      if (!printable && !whitespace) {
        throw new CaptureException(
            InvalidFilter,
            "filter "
                + Quote.value(raw)
                + " contains the character "
                + String.format("U+%04X", (int) c)
                + " at position "
                + (i + 1)
                + "; accepted are printable ASCII"
                + " characters, spaces, tabs and line breaks");
      }
    }
    return new UserFilter(raw.strip());
  }
}
