package io.podcapture.capture;

import java.util.regex.Pattern;

/** The DNS-1123 name rules Kubernetes applies to namespaces (labels) and Pods (subdomains). */
final class Dns1123 {

  static final int MAX_LABEL = 63;
  static final int MAX_SUBDOMAIN = 253;

  // Java's [a-z0-9] is ASCII only, and matches() below needs the whole input, so no "$ before \n"
  // gap
  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern LABEL_PATTERN = Pattern.compile(LABEL);
  private static final Pattern SUBDOMAIN_PATTERN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");

  private Dns1123() {}

  static boolean isLabel(String s) {
    return s != null
        && !s.isEmpty()
        && s.length() <= MAX_LABEL
        && LABEL_PATTERN.matcher(s).matches();
  }

  static boolean isSubdomain(String s) {
    return s != null
        && !s.isEmpty()
        && s.length() <= MAX_SUBDOMAIN
        && SUBDOMAIN_PATTERN.matcher(s).matches();
  }
}
