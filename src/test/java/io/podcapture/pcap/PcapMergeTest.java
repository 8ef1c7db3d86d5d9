package io.podcapture.pcap;

import static io.podcapture.pcap.PcapBytes.packet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.pcap.PcapngBlocks.Packet;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PcapMergeTest {

  @Test
  void writesThePacketsOfAllSourcesInTimeOrderEachOnItsInterface() throws IOException {
    List<PacketSource> sources =
        List.of(
            new ListSource(276, List.of(packet(10, 1), packet(40, 4), packet(50, 5))),
            new ListSource(276, List.of(packet(20, 2), packet(30, 3), packet(60, 6))));

    Merged merged = merge(sources);

    assertEquals(6, merged.count());
    assertEquals(List.of(1, 2, 3, 4, 5, 6), ids(merged.packets()));
    assertEquals(
        List.of(0, 1, 1, 0, 0, 1), merged.packets().stream().map(Packet::interfaceId).toList());
  }

  @Test
  void onEqualTimeStampsTheLowerSourceComesFirstAndEachSourceKeepsItsOrder() throws IOException {
    List<PacketSource> sources =
        List.of(
            new ListSource(276, List.of(packet(5, 10), packet(5, 11))),
            new ListSource(276, List.of(packet(5, 20), packet(5, 21))),
            new ListSource(276, List.of(packet(5, 30))));

    assertEquals(List.of(10, 11, 20, 21, 30), ids(merge(sources).packets()));
  }

  @Test
  void aRecordingWhoseTimeStepsBackKeepsItsOrderAndTheOthersWaitForTheirTurn() throws IOException {
    // tcpdump writes packets in the order it reads them; their kernel time stamps may step back
    // by microseconds. The merge neither reorders a recording nor lets another jump ahead.
    List<PacketSource> sources =
        List.of(
            new ListSource(276, List.of(packet(250, 1), packet(228, 2), packet(300, 3))),
            new ListSource(276, List.of(packet(240, 10), packet(229, 11), packet(260, 12))));

    assertEquals(List.of(10, 11, 1, 2, 12, 3), ids(merge(sources).packets()));
  }

  @Test
  void mergesManySourcesHoldingOnePacketOfEach() throws IOException {
    Random random = new Random(22);
    List<ListSource> sources = new ArrayList<>();
    int id = 0;
    for (int s = 0; s < 200; s++) {
      List<PcapPacket> packets = new ArrayList<>();
      long time = random.nextInt(1000);
      for (int i = random.nextInt(30); i > 0; i--) {
        time += random.nextInt(100);
        packets.add(packet(time, id++));
      }
      sources.add(new ListSource(276, packets));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long count;
    try (PcapngWriter writer = new PcapngWriter(out, null, interfaces(sources.size(), 276))) {
      count = PcapMerge.merge(List.copyOf(sources), writer);
    }

    List<Packet> packets = PcapngBlocks.packets(out.toByteArray());
    assertEquals(id, count);
    assertEquals(id, packets.size());
    List<Packet> sorted =
        packets.stream()
            .sorted(Comparator.comparingLong(Packet::timestamp).thenComparing(Packet::interfaceId))
            .toList();
    assertEquals(sorted, packets, "time order, ties by source");
    for (int s = 0; s < sources.size(); s++) {
      int source = s;
      List<Integer> ofSource =
          packets.stream().filter(p -> p.interfaceId() == source).map(PcapMergeTest::id).toList();
      assertEquals(ofSource.stream().sorted().toList(), ofSource, "source " + s + " in its order");
    }
  }

  @Test
  void emptySourcesAndNoSourcesGiveTheInterfacesWithoutPackets() throws IOException {
    Merged none = merge(List.of());
    assertEquals(0, none.count());

    List<PacketSource> sources =
        List.of(
            new ListSource(276, List.of()),
            new ListSource(276, List.of(packet(1, 1))),
            new ListSource(276, List.of()));
    Merged merged = merge(sources);
    assertEquals(1, merged.count());
    assertEquals(1, merged.packets().get(0).interfaceId());
  }

  @Test
  void eachInterfaceCarriesTheLinkTypeOfItsSource() throws IOException {
    List<PacketSource> sources =
        List.of(
            new ListSource(1, List.of(packet(2, 2))), new ListSource(276, List.of(packet(1, 1))));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PcapngWriter writer =
        new PcapngWriter(
            out,
            null,
            List.of(
                new PcapngInterface("a", null, 1, 65535),
                new PcapngInterface("b", null, 276, 0)))) {
      PcapMerge.merge(sources, writer);
    }
    assertEquals(
        List.of(1, 276),
        PcapngBlocks.interfaces(PcapngBlocks.parse(out.toByteArray())).stream()
            .map(PcapngBlocks.Interface::linkType)
            .toList());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            PcapMerge.merge(
                List.of(new ListSource(276, List.of())),
                new PcapngWriter(new ByteArrayOutputStream(), null, interfaces(1, 1))));
  }

  @Test
  void closesNoSource() throws IOException {
    ListSource source = new ListSource(276, List.of(packet(1, 1)));
    merge(List.of(source));
    assertFalse(source.closed);
    assertTrue(source.taken == 1);
  }

  private record Merged(long count, List<Packet> packets) {}

  private static Merged merge(List<PacketSource> sources) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long count;
    try (PcapngWriter writer = new PcapngWriter(out, null, interfaces(sources.size(), 276))) {
      count = PcapMerge.merge(sources, writer);
    }
    return new Merged(count, PcapngBlocks.packets(out.toByteArray()));
  }

  private static List<PcapngInterface> interfaces(int count, int linkType) {
    List<PcapngInterface> interfaces = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      interfaces.add(new PcapngInterface("if" + i, null, linkType, 262_144));
    }
    return interfaces;
  }

  private static int id(Packet packet) {
    return ByteBuffer.wrap(packet.data()).getInt();
  }

  private static List<Integer> ids(List<Packet> packets) {
    return packets.stream().map(PcapMergeTest::id).toList();
  }
}
