package io.podcapture.capture;

import java.nio.file.Path;

/**
 * One pcap file on disk; {@code previous} marks a file kept from an earlier run of the same
 * capture.
 */
public record RingFile(String name, Path path, long sizeBytes, boolean previous) {}
