package io.podcapture.capture;

import java.util.Locale;

/**
 * An IPv4 or IPv6 address literal, parsed strictly and without any name lookup.
 *
 * <p>Only these are accepted: dotted-quad IPv4 with four decimal parts 0-255 and no leading zeros
 * ({@code 010.0.0.1} means octal to some parsers), and IPv6 text with hex groups, at most one
 * {@code ::} and an optional dotted-quad tail ({@code ::ffff:10.0.0.1}). Zone ids ({@code
 * fe80::1%eth0}), brackets, prefixes, host names and anything with spaces are refused, so the text
 * can go into a BPF filter as is.
 *
 * @param text the literal, IPv6 lowercased
 */
public record IpLiteral(String text, boolean ipv6) {

  /** The longest IPv6 text: eight groups of four, or six groups and a dotted quad. */
  private static final int MAX_IPV6_LENGTH = 45;

  public IpLiteral {
    if (text == null || !(ipv6 ? isIpv6(text) : isIpv4(text))) {
      throw new IllegalArgumentException("not an IP literal: " + Quote.value(text));
    }
  }

  /** Parses {@code text} or refuses it with {@link CaptureException.Reason#InvalidInput}. */
  public static IpLiteral parse(String text) throws CaptureException {
    if (text != null && isIpv4(text)) {
      return new IpLiteral(text, false);
    }
    if (text != null && isIpv6(text)) {
      return new IpLiteral(text.toLowerCase(Locale.ROOT), true);
    }
    throw new CaptureException(
        CaptureException.Reason.InvalidInput,
        "Pod IP "
            + Quote.value(text)
            + " is not an IP address literal; accepted are IPv4 like 10.1.2.3"
            + " or IPv6 like fd00::1a (no host names, zone ids or prefixes)");
  }

  static boolean isIpv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || (part.length() > 1 && part.charAt(0) == '0')) {
        return false;
      }
      for (int i = 0; i < part.length(); i++) {
        // ASCII digits only: Character.isDigit would let other scripts' digits through
        char c = part.charAt(i);
        if (c < '0' || c > '9') {
          return false;
        }
      }
      if (Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }

  static boolean isIpv6(String s) {
    if (s.isEmpty() || s.length() > MAX_IPV6_LENGTH) {
      return false;
    }
    String hexPart = s;
    int groups = 0;
    int lastColon = s.lastIndexOf(':');
    if (lastColon < 0) {
      return false;
    }
    if (s.indexOf('.') >= 0) {
      // an embedded IPv4 tail takes the place of the last two groups
      if (!isIpv4(s.substring(lastColon + 1))) {
        return false;
      }
      groups = 2;
      boolean afterDoubleColon = lastColon > 0 && s.charAt(lastColon - 1) == ':';
      hexPart = afterDoubleColon ? s.substring(0, lastColon + 1) : s.substring(0, lastColon);
    }
    int doubleColon = hexPart.indexOf("::");
    if (doubleColon >= 0 && hexPart.indexOf("::", doubleColon + 1) >= 0) {
      return false;
    }
    if (doubleColon < 0) {
      int count = countGroups(hexPart);
      return count >= 0 && count + groups == 8;
    }
    int head = countGroups(hexPart.substring(0, doubleColon));
    int tail = countGroups(hexPart.substring(doubleColon + 2));
    // "::" stands for at least one zero group
    return head >= 0 && tail >= 0 && head + tail + groups <= 7;
  }

  /** Number of colon-separated hex groups of 1-4 digits, 0 for "", or -1 if malformed. */
  private static int countGroups(String s) {
    if (s.isEmpty()) {
      return 0;
    }
    String[] parts = s.split(":", -1);
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 4) {
        return -1;
      }
      for (int i = 0; i < part.length(); i++) {
        if (!isAsciiHex(part.charAt(i))) {
          return -1;
        }
      }
    }
    return parts.length;
  }

  private static boolean isAsciiHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  @Override
  public String toString() {
    return text;
  }
}
