package io.podcapture.agentfiles;

import io.podcapture.api.v1alpha1.CaptureFile;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.capture.RingFile;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * The agent's captures as the file server sees them: a capture exists if the agent's PodCapture
 * cache has it; its files are those the capture layer lists (read from disk now), and those its
 * status lists, for a capture the capture layer no longer holds (completed before the agent
 * restarted, say).
 */
public final class AgentCaptures implements Captures {
  private final String node;
  private final BiFunction<String, String, Optional<PodCapture>> cache;
  private final PacketCapturer capturer;

  /**
   * @param cache the agent's PodCapture of that namespace and name, read-only
   */
  public AgentCaptures(
      String node,
      BiFunction<String, String, Optional<PodCapture>> cache,
      PacketCapturer capturer) {
    this.node = node;
    this.cache = cache;
    this.capturer = capturer;
  }

  @Override
  public Optional<Capture> find(String namespace, String name) {
    Optional<PodCapture> cr = cache.apply(namespace, name);
    if (cr.isEmpty()) {
      return Optional.empty();
    }
    Optional<CaptureSnapshot> snapshot = capturer.snapshot(new CaptureKey(namespace, name));
    List<Path> claimed = new ArrayList<>();
    snapshot.ifPresent(s -> s.files().stream().map(RingFile::path).forEach(claimed::add));
    if (cr.get().getStatus() != null && cr.get().getStatus().getFiles() != null) {
      for (CaptureFile f : cr.get().getStatus().getFiles()) {
        if (f.getPath() != null) {
          try {
            claimed.add(Path.of(f.getPath()));
          } catch (InvalidPathException e) {
            // not a path at all: not a file of it
          }
        }
      }
    }
    return Optional.of(
        new Capture(node, snapshot.map(CaptureSnapshot::running).orElse(false), claimed));
  }
}
