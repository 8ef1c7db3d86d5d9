package io.podcapture.agentfiles;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A request to the file server, parsed from the raw (still percent-encoded) path, or nothing when
 * the path is not one the server answers. The path is never decoded as a whole: namespace and name
 * must be Kubernetes names as they stand, and a file name the characters tcpdump's names are made
 * of ({@code [a-z0-9.-]}), after one documented escape, {@code previous%2F}, for the files kept
 * from an earlier run. So {@code ../}, {@code %2e%2e}, an absolute path or any other encoded slash
 * never reaches the file system; and even a well-formed name is served only if it is one of the
 * capture's own files ({@link ServedFiles}).
 *
 * <pre>
 *   GET /v1/captures/{namespace}/{name}                 the capture's files
 *   GET /v1/captures/{namespace}/{name}/files/{file}    one file ({@code previous%2F<file>} too)
 *   GET /v1/captures/{namespace}/{name}/follow          live packets
 * </pre>
 */
public sealed interface FilesRequest {

  String namespace();

  String name();

  /** The capture's listing. */
  record Listing(String namespace, String name) implements FilesRequest {}

  /** One file, by its name in the listing ({@code capture-web.pcap0}, {@code previous/...}). */
  record Download(String namespace, String name, String file) implements FilesRequest {}

  /** The packets tcpdump writes from now on. */
  record Follow(String namespace, String name) implements FilesRequest {}

  String PREFIX = "/v1/captures/";

  /** Where files kept from an earlier run are listed: {@code previous/<file>}. */
  String PREVIOUS = "previous/";

  /** A namespace: a DNS-1123 label. */
  Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** A PodCapture name: a DNS-1123 subdomain (length checked apart). */
  Pattern NAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** A file name as tcpdump writes them; "." and ".." are refused apart. */
  Pattern FILE = Pattern.compile("[a-z0-9][-a-z0-9.]*");

  int MAX_NAME = 253;

  /** The request {@code rawPath} asks for, or empty for any other path. */
  static Optional<FilesRequest> parse(String rawPath) {
    if (rawPath == null || !rawPath.startsWith(PREFIX)) {
      return Optional.empty();
    }
    String[] parts = rawPath.substring(PREFIX.length()).split("/", -1);
    if (parts.length < 2 || !isNamespace(parts[0]) || !isName(parts[1])) {
      return Optional.empty();
    }
    String ns = parts[0];
    String name = parts[1];
    if (parts.length == 2) {
      return Optional.of(new Listing(ns, name));
    }
    if (parts.length == 3 && parts[2].equals("follow")) {
      return Optional.of(new Follow(ns, name));
    }
    if (parts[2].equals("files")) {
      // previous%2Fx as documented; previous/x (a literal slash) names the same file
      String file =
          parts.length == 4
              ? decodePrevious(parts[3])
              : parts.length == 5 && parts[3].equals("previous") && isFile(parts[4])
                  ? PREVIOUS + parts[4]
                  : null;
      if (file != null) {
        return Optional.of(new Download(ns, name, file));
      }
    }
    return Optional.empty();
  }

  private static String decodePrevious(String raw) {
    String lower = raw.toLowerCase(Locale.ROOT);
    if (lower.startsWith("previous%2f")) {
      String rest = raw.substring("previous%2f".length());
      return isFile(rest) ? PREVIOUS + rest : null;
    }
    return isFile(raw) ? raw : null;
  }

  private static boolean isNamespace(String s) {
    return NAMESPACE.matcher(s).matches();
  }

  private static boolean isName(String s) {
    return s.length() <= MAX_NAME && NAME.matcher(s).matches();
  }

  private static boolean isFile(String s) {
    return s.length() <= MAX_NAME + 32
        && FILE.matcher(s).matches()
        && !s.equals(".")
        && !s.equals("..");
  }
}
