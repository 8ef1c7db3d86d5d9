package io.podcapture.filesapi;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One request's target, parsed from its raw path and query: discovery, or a PodCapture's or
 * PodCaptureSet's files (with a subresource). Names are Kubernetes names and file names the agent's
 * plain names: anything else is refused here, so nothing that reaches the agent names a path of its
 * own.
 *
 * @param kind what is asked for
 * @param namespace the namespace (empty for discovery)
 * @param resource {@value FilesApiNames#CAPTURE_FILES} or {@value FilesApiNames#SET_FILES}
 * @param name the PodCapture's or PodCaptureSet's name
 * @param subresource "", "pcap", "merged" or "log"
 * @param file for "pcap": the file's name as the listing gives it
 */
public record FilesRequest(
    Kind kind, String namespace, String resource, String name, String subresource, String file) {

  /** What a request asks for. */
  public enum Kind {
    DISCOVERY,
    CAPTURE,
    SET
  }

  /** A namespace: DNS-1123 label. */
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** An object name: DNS-1123 subdomain. */
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** A capture file as the agent lists it: a plain name, or one in {@code previous/}. */
  private static final Pattern FILE =
      Pattern.compile("(previous/)?[A-Za-z0-9_][A-Za-z0-9._-]{0,254}");

  private static final Map<String, List<String>> SUBRESOURCES =
      Map.of(
          FilesApiNames.CAPTURE_FILES, List.of("", "pcap", "merged", "log"),
          FilesApiNames.SET_FILES, List.of("", "merged"));

  public static FilesRequest discovery() {
    return new FilesRequest(Kind.DISCOVERY, "", "", "", "", null);
  }

  /**
   * Parses a request's raw (undecoded) path and query. 404 for any path that is not one of the
   * API's, 400 for a pcap request without a valid {@code file}.
   */
  public static FilesRequest parse(String rawPath, String rawQuery) throws StatusException {
    String path = rawPath == null ? "" : rawPath;
    if (path.equals(FilesApiNames.PREFIX) || path.equals(FilesApiNames.PREFIX + "/")) {
      return discovery();
    }
    if (!path.startsWith(FilesApiNames.PREFIX + "/")) {
      throw notFound(path);
    }
    String[] parts = path.substring(FilesApiNames.PREFIX.length() + 1).split("/", -1);
    // namespaces/{ns}/{resource}/{name}[/{subresource}]
    if (parts.length < 4 || parts.length > 5 || !parts[0].equals("namespaces")) {
      throw notFound(path);
    }
    String namespace = parts[1];
    String resource = parts[2];
    String name = parts[3];
    String subresource = parts.length == 5 ? parts[4] : "";
    List<String> allowed = SUBRESOURCES.get(resource);
    if (allowed == null || !allowed.contains(subresource)) {
      throw notFound(path);
    }
    if (!LABEL.matcher(namespace).matches()) {
      throw StatusException.notFound("namespace \"" + namespace + "\" is not a namespace name");
    }
    if (name.length() > 253 || !SUBDOMAIN.matcher(name).matches()) {
      throw StatusException.notFound(
          resource + "." + FilesApiNames.GROUP + " \"" + name + "\" not found (not a valid name)");
    }
    Kind kind = resource.equals(FilesApiNames.CAPTURE_FILES) ? Kind.CAPTURE : Kind.SET;
    String file = null;
    if (subresource.equals("pcap")) {
      file = queryParameter(rawQuery, "file");
      if (file == null || file.isEmpty()) {
        throw StatusException.badRequest(
            "the file to read is missing: ?file=<name>, one of the names "
                + FilesApiNames.CAPTURE_FILES
                + "/"
                + name
                + " lists");
      }
      if (!FILE.matcher(file).matches() || file.contains("..")) {
        throw StatusException.badRequest(
            "file \""
                + file
                + "\" is not a capture file name: expected a name as the listing gives it");
      }
    }
    return new FilesRequest(kind, namespace, resource, name, subresource, file);
  }

  private static StatusException notFound(String path) {
    return StatusException.notFound(
        "the server could not find the requested resource (" + path + ")");
  }

  /** The first value of a query parameter, decoded, or null. */
  static String queryParameter(String rawQuery, String name) {
    if (rawQuery == null) {
      return null;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (decode(key).equals(name)) {
        return eq < 0 ? "" : decode(pair.substring(eq + 1));
      }
    }
    return null;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return "\u0000";
    }
  }

  /** "podcapturefiles/pcap" or "podcapturefiles", for messages. */
  public String resourcePath() {
    return subresource.isEmpty() ? resource : resource + "/" + subresource;
  }
}
