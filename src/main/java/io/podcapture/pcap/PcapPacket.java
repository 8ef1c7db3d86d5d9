package io.podcapture.pcap;

/**
 * One captured packet: its time stamp in nanoseconds since the epoch, its length on the wire, and
 * the bytes captured of it ({@code data.length} may be less than {@code originalLength}).
 */
// an array component compares by identity: fine here, a packet passes through once and is never
// a key; copying every packet to wrap it would cost more than it guards
@SuppressWarnings("ArrayRecordComponent")
public record PcapPacket(long timestampNanos, int originalLength, byte[] data) {}
