package io.podcapture.agentfiles;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What the file server knows of this node's captures. */
public interface Captures {

  /**
   * The PodCapture {@code namespace/name} if this agent holds it (it is in the agent's cache,
   * labelled for this node), or empty.
   */
  Optional<Capture> find(String namespace, String name);

  /**
   * One capture as it is now.
   *
   * @param node the node it runs on (this agent's)
   * @param running whether its tcpdump runs now
   * @param claimed the paths it says are its files (the capture layer's, then status.files); not
   *     yet checked: {@link ServedFiles} decides which may be sent
   */
  record Capture(String node, boolean running, List<Path> claimed) {}
}
