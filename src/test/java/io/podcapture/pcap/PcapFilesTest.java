package io.podcapture.pcap;

import static io.podcapture.pcap.PcapBytes.packet;
import static io.podcapture.pcap.PcapReaderTest.assertSamePackets;
import static io.podcapture.pcap.PcapReaderTest.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.pcap.PcapFiles.IoSupplier;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PcapFilesTest {

  /** Files in memory that note when each is opened and closed. */
  private static final class Files {
    final List<String> events = new ArrayList<>();
    final List<IoSupplier<InputStream>> suppliers = new ArrayList<>();

    Files add(byte[] bytes) {
      int index = suppliers.size();
      suppliers.add(
          () -> {
            events.add("open " + index);
            return new ByteArrayInputStream(bytes) {
              @Override
              public void close() {
                events.add("close " + index);
              }
            };
          });
      return this;
    }
  }

  @Test
  void readsTheFilesOneAfterTheOtherOpeningEachWhenThePreviousIsExhausted() throws IOException {
    Files files =
        new Files()
            .add(PcapBytes.file(276, List.of(packet(1, 1), packet(2, 2))))
            .add(PcapBytes.file(276, List.of(packet(3, 3))))
            .add(PcapBytes.file(276, List.of(packet(4, 4))));

    try (PacketSource source = PcapFiles.sequential(files.suppliers)) {
      assertEquals(276, source.linkType());
      assertEquals(List.of("open 0"), files.events);
      source.next();
      source.next();
      assertEquals(List.of("open 0"), files.events);
      assertEquals(3, PcapBytes.id(source.next()));
      assertEquals(List.of("open 0", "close 0", "open 1"), files.events);
      assertEquals(4, PcapBytes.id(source.next()));
      assertNull(source.next());
      assertEquals(
          List.of("open 0", "close 0", "open 1", "close 1", "open 2", "close 2"), files.events);
    }
  }

  @Test
  void emptyFilesAndFilesWithOnlyAHeaderHoldNoPackets() throws IOException {
    Files files =
        new Files()
            .add(new byte[0])
            .add(PcapBytes.header(276))
            .add(PcapBytes.file(276, List.of(packet(1, 1))))
            .add(new byte[0]);
    try (PacketSource source = PcapFiles.sequential(files.suppliers)) {
      assertSamePackets(List.of(packet(1, 1)), readAll(source));
    }
  }

  @Test
  void withoutAnyHeaderTheSourceIsEmptyOfLinkTypeLinuxSll2() throws IOException {
    for (List<IoSupplier<InputStream>> suppliers :
        List.of(List.<IoSupplier<InputStream>>of(), new Files().add(new byte[0]).suppliers)) {
      try (PacketSource source = PcapFiles.sequential(suppliers)) {
        assertEquals(276, source.linkType());
        assertEquals(262_144, source.snapLength());
        assertNull(source.next());
      }
    }
  }

  @Test
  void aFileOfAnotherLinkTypeIsAFormatErrorNamingBoth() throws IOException {
    Files files =
        new Files()
            .add(PcapBytes.file(276, List.of(packet(1, 1))))
            .add(PcapBytes.file(1, List.of(packet(2, 2))));
    try (PacketSource source = PcapFiles.sequential(files.suppliers)) {
      source.next();
      PcapFormatException e = assertThrows(PcapFormatException.class, source::next);
      assertTrue(e.getMessage().contains("file 2 has link type 1"), e.getMessage());
      assertTrue(e.getMessage().contains("file 1 has link type 276"), e.getMessage());
    }
    assertEquals(List.of("open 0", "close 0", "open 1", "close 1"), files.events);
  }

  @Test
  void theSnapLengthIsTheLargestOfTheFilesOpened() throws IOException {
    Files files =
        new Files()
            .add(PcapBytes.header(ByteOrder.LITTLE_ENDIAN, false, 96, 276))
            .add(PcapBytes.header(ByteOrder.BIG_ENDIAN, true, 65535, 276));
    try (PacketSource source = PcapFiles.sequential(files.suppliers)) {
      assertEquals(96, source.snapLength());
      assertNull(source.next());
      assertEquals(65535, source.snapLength());
    }
  }

  @Test
  void filesOfEitherByteOrderAndResolutionReadAsOne() throws IOException {
    Files files =
        new Files()
            .add(PcapBytes.file(ByteOrder.BIG_ENDIAN, true, 276, List.of(packet(1, 1))))
            .add(PcapBytes.file(ByteOrder.LITTLE_ENDIAN, false, 276, List.of(packet(2, 2))));
    try (PacketSource source = PcapFiles.sequential(files.suppliers)) {
      assertSamePackets(List.of(packet(1, 1), packet(2, 2)), readAll(source));
    }
  }

  @Test
  void aBadFirstFileFailsAtOnceAndIsClosed() {
    Files files =
        new Files()
            .add(
                new byte[] {
                  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                  24
                });
    assertThrows(PcapFormatException.class, () -> PcapFiles.sequential(files.suppliers));
    assertEquals(List.of("open 0", "close 0"), files.events);
  }
}
