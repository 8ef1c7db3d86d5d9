package io.podcapture.pcap;

/**
 * One interface of a pcapng section: the name and description Wireshark shows (either may be null),
 * and the link type and snap length of its packets.
 */
public record PcapngInterface(String name, String description, int linkType, int snapLength) {}
