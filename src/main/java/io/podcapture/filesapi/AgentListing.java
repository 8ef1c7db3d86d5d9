package io.podcapture.filesapi;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * An agent's answer to {@code GET /v1/captures/{namespace}/{name}}: the capture's files on that
 * node, oldest first.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AgentListing(
    String namespace, String name, String node, boolean running, List<File> files) {
  public AgentListing {
    files = files == null ? List.of() : List.copyOf(files);
  }

  /** One file: its name as the agent serves it, its size and modification time (RFC 3339). */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record File(String name, long sizeBytes, String modified) {}
}
