package io.podcapture.capture;

import static io.podcapture.capture.CaptureException.Reason.InvalidInput;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A {@link CaptureRequest} whose names, IPs and numbers passed every check; nothing builds a path or an
 * argv from a request that is not one of these.
 *
 * @param ips the request's IPs, strictly parsed, duplicates dropped, in the order given
 */
record ValidRequest(CaptureRequest request, List<IpLiteral> ips) {

  static final int MAX_FILES = 1000;
  static final int MAX_FILE_SIZE_MB = 1024;
  /** A Pod has one IP per family; a few more are tolerated, an unbounded list is not. */
  static final int MAX_IPS = 16;
  /**
   * Longest Pod name whose files fit Linux's 255-byte file name limit: {@code capture-<pod>.pcap999}
   * adds 16 characters. Kubernetes allows 253, but Pod names longer than 63 are rare in practice.
   */
  static final int MAX_POD_NAME = 255 - "capture-.pcap999".length();

  ValidRequest {
    ips = List.copyOf(ips);
  }

  static ValidRequest of(CaptureRequest request) throws CaptureException {
    if (request == null) {
      throw new CaptureException(InvalidInput, "no capture request");
    }
    checkKey(request.key());
    if (request.maxFiles() < 1 || request.maxFiles() > MAX_FILES) {
      throw new CaptureException(InvalidInput, "maxFiles " + request.maxFiles()
          + " is out of range: a whole number of files from 1 to " + MAX_FILES + " is accepted");
    }
    if (request.fileSizeMB() < 1 || request.fileSizeMB() > MAX_FILE_SIZE_MB) {
      throw new CaptureException(InvalidInput, "fileSizeMB " + request.fileSizeMB()
          + " is out of range: a whole number of megabytes from 1 to " + MAX_FILE_SIZE_MB + " is accepted");
    }
    if (request.ips().isEmpty()) {
      throw new CaptureException(InvalidInput, "the Pod has no IP yet: at least one IP is needed for the filter");
    }
    if (request.ips().size() > MAX_IPS) {
      throw new CaptureException(InvalidInput, request.ips().size() + " Pod IPs given: at most " + MAX_IPS
          + " are accepted");
    }
    Set<IpLiteral> ips = new LinkedHashSet<>();
    for (String ip : request.ips()) {
      ips.add(IpLiteral.parse(ip));
    }
    return new ValidRequest(request, new ArrayList<>(ips));
  }

  /** Refuses a key whose names are not what Kubernetes allows, before any path is built from them. */
  static void checkKey(CaptureKey key) throws CaptureException {
    if (key == null) {
      throw new CaptureException(InvalidInput, "no capture key");
    }
    if (!Dns1123.isLabel(key.namespace())) {
      throw new CaptureException(InvalidInput, "namespace " + Quote.value(key.namespace())
          + " is not a DNS-1123 label; accepted are 1 to " + Dns1123.MAX_LABEL + " lowercase letters, digits or '-',"
          + " starting and ending with a letter or digit");
    }
    if (!Dns1123.isSubdomain(key.name())) {
      throw new CaptureException(InvalidInput, "Pod name " + Quote.value(key.name())
          + " is not a DNS-1123 subdomain; accepted are 1 to " + Dns1123.MAX_SUBDOMAIN + " lowercase letters, digits, '-'"
          + " or '.', each dot-separated part starting and ending with a letter or digit");
    }
    if (key.name().length() > MAX_POD_NAME) {
      throw new CaptureException(InvalidInput, "Pod name " + Quote.value(key.name()) + " is too long for a"
          + " capture file name: at most " + MAX_POD_NAME + " characters are accepted");
    }
  }

  CaptureKey key() {
    return request.key();
  }

  int maxFiles() {
    return request.maxFiles();
  }

  int fileSizeMB() {
    return request.fileSizeMB();
  }

  /** Whether a tcpdump started for {@code other} would capture the same: same ring and the same IPs. */
  boolean sameCaptureAs(ValidRequest other) {
    return maxFiles() == other.maxFiles() && fileSizeMB() == other.fileSizeMB()
        && Set.copyOf(ips).equals(Set.copyOf(other.ips));
  }
}
