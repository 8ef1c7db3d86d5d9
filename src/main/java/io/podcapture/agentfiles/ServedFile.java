package io.podcapture.agentfiles;

import java.nio.file.Path;
import java.time.Instant;

/**
 * One file the server may send: a regular file (not a symlink) directly in the capture's namespace
 * folder or its {@code previous/} folder, named as the capture's ring.
 *
 * @param name as listed and asked for: {@code capture-web.pcap0} or {@code previous/capture-...}
 * @param path where it is; opened only with {@code NOFOLLOW_LINKS}
 */
public record ServedFile(
    String name, Path path, long sizeBytes, Instant modified, boolean previous) {}
