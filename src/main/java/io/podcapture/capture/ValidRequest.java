package io.podcapture.capture;

import static io.podcapture.capture.CaptureException.Reason.InvalidInput;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link CaptureRequest} whose names, IPs and numbers passed every check; nothing builds a path
 * or an argv from a request that is not one of these.
 *
 * @param ips the request's IPs, strictly parsed, duplicates dropped, in the order given
 * @param filter the user's filter, checked but not yet compiled; null for none
 */
record ValidRequest(CaptureRequest request, List<IpLiteral> ips, UserFilter filter) {

  static final int MAX_FILES = 1000;
  static final int MAX_FILE_SIZE_MB = 1024;

  /** A Pod has one IP per family; a few more are tolerated, an unbounded list is not. */
  static final int MAX_IPS = 16;

  /**
   * Longest capture name (the PodCapture's) whose files fit Linux's 255-byte file name limit:
   * {@code capture-<name>.pcap999} adds 16 characters. Kubernetes allows 253, but longer than 63 is
   * rare.
   */
  static final int MAX_POD_NAME = 255 - "capture-.pcap999".length();

  /**
   * tcpdump's own snapshot length: the largest packet {@code any} delivers, so the whole packet.
   */
  static final int MAX_SNAP_LENGTH = 262144;

  static final Duration MIN_DURATION = Duration.ofSeconds(1);

  ValidRequest {
    ips = List.copyOf(ips);
  }

  static ValidRequest of(CaptureRequest request) throws CaptureException {
    if (request == null) {
      throw new CaptureException(InvalidInput, "no capture request");
    }
    checkKey(request.key());
    if (request.maxFiles() < 1 || request.maxFiles() > MAX_FILES) {
      throw new CaptureException(
          InvalidInput,
          "maxFiles "
              + request.maxFiles()
              + " is out of range: a whole number of files from 1 to "
              + MAX_FILES
              + " is accepted");
    }
    if (request.fileSizeMB() < 1 || request.fileSizeMB() > MAX_FILE_SIZE_MB) {
      throw new CaptureException(
          InvalidInput,
          "fileSizeMB "
              + request.fileSizeMB()
              + " is out of range: a whole number of megabytes from 1 to "
              + MAX_FILE_SIZE_MB
              + " is accepted");
    }
    List<IpLiteral> ips = ips(request.ips());
    if (request.packetCount() != null && request.packetCount() < 1) {
      throw new CaptureException(
          InvalidInput,
          "packetCount "
              + request.packetCount()
              + " is out of range: a whole number of packets from 1 is accepted");
    }
    if (request.duration() != null && request.duration().compareTo(MIN_DURATION) < 0) {
      throw new CaptureException(
          InvalidInput,
          "duration "
              + request.duration().toMillis()
              + " ms is too short: at least 1 second is accepted");
    }
    if (request.snapLength() < 0 || request.snapLength() > MAX_SNAP_LENGTH) {
      throw new CaptureException(
          InvalidInput,
          "snapLength "
              + request.snapLength()
              + " is out of range: 0 (whole"
              + " packets) to "
              + MAX_SNAP_LENGTH
              + " bytes are accepted");
    }
    return new ValidRequest(request, ips, UserFilter.parse(request.filter()));
  }

  /** The Pod's IPs parsed, without repeats: at least one, at most {@code MAX_IPS}. */
  private static List<IpLiteral> ips(List<String> given) throws CaptureException {
    if (given.isEmpty()) {
      throw new CaptureException(
          InvalidInput, "the Pod has no IP yet: at least one IP is needed for the filter");
    }
    if (given.size() > MAX_IPS) {
      throw new CaptureException(
          InvalidInput, given.size() + " Pod IPs given: at most " + MAX_IPS + " are accepted");
    }
    Set<IpLiteral> ips = new LinkedHashSet<>();
    for (String ip : given) {
      ips.add(IpLiteral.parse(ip));
    }
    return new ArrayList<>(ips);
  }

  /**
   * Refuses a key whose names are not what Kubernetes allows, before any path is built from them.
   */
  static void checkKey(CaptureKey key) throws CaptureException {
    if (key == null) {
      throw new CaptureException(InvalidInput, "no capture key");
    }
    if (!Dns1123.isLabel(key.namespace())) {
      throw new CaptureException(
          InvalidInput,
          "namespace "
              + Quote.value(key.namespace())
              + " is not a DNS-1123 label; accepted are 1 to "
              + Dns1123.MAX_LABEL
              + " lowercase letters, digits or '-',"
              + " starting and ending with a letter or digit");
    }
    if (!Dns1123.isSubdomain(key.name())) {
      throw new CaptureException(
          InvalidInput,
          "capture name "
              + Quote.value(key.name())
              + " is not a DNS-1123 subdomain; accepted are 1 to "
              + Dns1123.MAX_SUBDOMAIN
              + " lowercase letters, digits, '-'"
              + " or '.', each dot-separated part starting and ending with a letter or digit");
    }
    if (key.name().length() > MAX_POD_NAME) {
      throw new CaptureException(
          InvalidInput,
          "capture name "
              + Quote.value(key.name())
              + " is too long for a"
              + " capture file name: at most "
              + MAX_POD_NAME
              + " characters are accepted");
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

  Integer packetCount() {
    return request.packetCount();
  }

  Duration duration() {
    return request.duration();
  }

  int snapLength() {
    return request.snapLength();
  }

  /**
   * Whether a tcpdump started for {@code other} would capture the same: same ring, IPs, filter,
   * packet count, duration and snap length.
   */
  boolean sameCaptureAs(ValidRequest other) {
    return maxFiles() == other.maxFiles()
        && fileSizeMB() == other.fileSizeMB()
        && Set.copyOf(ips).equals(Set.copyOf(other.ips))
        && Objects.equals(filter, other.filter)
        && Objects.equals(packetCount(), other.packetCount())
        && Objects.equals(duration(), other.duration())
        && snapLength() == other.snapLength();
  }
}
