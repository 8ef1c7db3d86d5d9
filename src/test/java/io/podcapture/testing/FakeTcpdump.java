package io.podcapture.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A bash stand-in for tcpdump, for lifecycle tests that need neither root nor traffic. It takes
 * tcpdump's argv, creates the first ring file under tcpdump's name, and waits until signalled. The
 * interface name ({@code -i}) picks a behaviour:
 *
 * <ul>
 *   <li>{@link #FAIL}: prints tcpdump's "No such device" error and exits 1 without a file;
 *   <li>{@link #DEAF}: ignores SIGTERM, so only SIGKILL stops it;
 *   <li>{@link #MUTE}: runs but never creates a file;
 *   <li>anything else: behaves.
 * </ul>
 *
 * With {@code -c N} it exits 0 a moment after creating its file, as tcpdump does once it has N
 * packets. A filter check ({@code -d}) is handed to the real tcpdump, which compiles without
 * privileges.
 */
public final class FakeTcpdump {

  public static final String FAIL = "fail0";
  public static final String DEAF = "deaf0";
  public static final String MUTE = "mute0";

  private static final String SCRIPT =
      """
      #!/bin/bash
      for arg in "$@"; do
        [ "$arg" = -d ] && exec tcpdump "$@"
        [ "$arg" = -- ] && break
      done
      iface=; ring=; files=1; count=
      while [ $# -gt 0 ]; do
        case "$1" in
          -i) iface=$2; shift ;;
          -c) count=$2; shift ;;
          -w) ring=$2; shift ;;
          -W) files=$2; shift ;;
          --) break ;;
        esac
        shift
      done
      if [ "$iface" = fail0 ]; then
        echo "tcpdump: fail0: No such device exists" >&2
        echo "(No such device exists)" >&2
        exit 1
      fi
      [ "$iface" = deaf0 ] && trap '' TERM
      echo "tcpdump: listening on $iface, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes" >&2
      if [ "$iface" != mute0 ]; then
        if [ "$files" -le 1 ]; then first=$ring; else last=$((files - 1)); first=$(printf '%s%0*d' "$ring" ${#last} 0); fi
        printf 'fake pcap' > "$first"
      fi
      if [ -n "$count" ]; then sleep 0.3; exit 0; fi
      # short sleeps with their own stdio, so a SIGKILLed script leaves nothing holding our stderr pipe
      while :; do sleep 0.05 </dev/null >/dev/null 2>&1; done
      """;

  private FakeTcpdump() {}

  /**
   * Writes the script into {@code dir} and returns its path, to be used as the tcpdump executable.
   */
  public static Path install(Path dir) {
    try {
      Path script = dir.resolve("fake-tcpdump");
      Files.writeString(script, SCRIPT);
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
      return script;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
