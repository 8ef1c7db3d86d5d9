package io.podcapture.pcap;

/**
 * One captured packet: its time stamp in nanoseconds since the epoch, its length on the wire, and
 * the bytes captured of it ({@code data.length} may be less than {@code originalLength}).
 */
public record PcapPacket(long timestampNanos, int originalLength, byte[] data) {}
