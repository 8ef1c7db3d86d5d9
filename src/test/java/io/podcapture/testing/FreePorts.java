package io.podcapture.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A TCP port for a process the test starts later and tells its port (a Pod's container port must be
 * known before the agent listens on it). Picked as controlplane/up.sh picks its ports: below the
 * kernel's ephemeral range, so that no outgoing connection can be holding it, free at the time of
 * the pick, and never twice in this JVM. Another process can still take it before the bind.
 */
public final class FreePorts {
  private static final Set<Integer> PICKED = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  public static int pick() {
    int below = ephemeralLow();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(10_000, below);
      if (!PICKED.contains(port) && bindable(port) && PICKED.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port found below " + below);
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int ephemeralLow() {
    try {
      // readString reads a single byte of this /proc file (it reports a size of 0); lines do not
      String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).strip();
      int low = Integer.parseInt(range.split("\\s+")[0]);
      return low > 11_000 ? low : 32768;
    } catch (IOException | RuntimeException e) {
      return 32768; // Linux's default
    }
  }
}
