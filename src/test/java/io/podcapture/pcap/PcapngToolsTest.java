package io.podcapture.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.pcap.PcapFiles.IoSupplier;
import io.podcapture.testing.Command;
import io.podcapture.testing.Requirements;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The merged pcapng, read back by Wireshark's own tools; and a real tcpdump file, read by us. */
@Tag("real-capture")
class PcapngToolsTest {

  /** 2026-12-05 00:00:00 UTC. */
  private static final long T0 = 1_796_428_800L;

  @TempDir Path tmp;

  @Test
  void capinfosAndTsharkReadEveryMergedPacketOnItsInterfaceInTimeOrder() throws IOException {
    Requirements.commands("capinfos", "tshark");
    // web-1: two files, packets at even microseconds (and one nanosecond-exact time); db-0: odd
    List<Expected> expected = new ArrayList<>();
    List<PcapPacket> web = new ArrayList<>();
    List<PcapPacket> db = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      long nanos = T0 * 1_000_000_000L + i * 1_000_000L + (i == 7 ? 123 : 0);
      PcapPacket packet = new PcapPacket(nanos, 60 + i, sll2Udp(i, 60 + i));
      (i % 2 == 0 ? web : db).add(packet);
      expected.add(new Expected(i % 2 == 0 ? "shop/web-1" : "shop/db-0", nanos));
    }
    Path web0 = write("capture-web-1.pcap0", web.subList(0, 4), false);
    Path web1 = write("capture-web-1.pcap1", web.subList(4, 10), false);
    // nanosecond resolution, so that packet 7 keeps its 123 ns
    Path db0 = write("capture-db-0.pcap", db, true);

    Path merged = tmp.resolve("merged.pcapng");
    try (OutputStream out = Files.newOutputStream(merged);
        PacketSource webSource = PcapFiles.sequential(List.of(open(web0), open(web1)));
        PacketSource dbSource = PcapFiles.sequential(List.of(open(db0)))) {
      assertEquals(276, webSource.linkType());
      List<PcapngInterface> interfaces =
          List.of(
              new PcapngInterface(
                  "shop/web-1",
                  "pod shop/web-1 on node n1, PodCapture shop/web",
                  webSource.linkType(),
                  webSource.snapLength()),
              new PcapngInterface(
                  "shop/db-0",
                  "pod shop/db-0 on node n2, PodCapture shop/web",
                  dbSource.linkType(),
                  dbSource.snapLength()));
      try (PcapngWriter writer =
          new PcapngWriter(out, "PodCaptureSet shop/web; filter: udp", interfaces)) {
        assertEquals(20, PcapMerge.merge(List.of(webSource, dbSource), writer));
      }
    }

    Command.Result count = Command.run("capinfos", "-c", "-M", merged.toString()).orThrow();
    assertTrue(
        count.output().matches("(?s).*Number of packets:\\s+20\\s.*"),
        "capinfos -c: " + count.output());

    Command.Result fields =
        Command.run(
                "tshark",
                "-r",
                merged.toString(),
                "-T",
                "fields",
                "-e",
                "frame.interface_name",
                "-e",
                "frame.time_epoch",
                "-e",
                "frame.interface_description")
            .orThrow();
    List<String> lines =
        Arrays.stream(fields.output().split("\n")).filter(l -> l.contains("\t")).toList();
    assertEquals(20, lines.size(), fields.output());
    for (int i = 0; i < 20; i++) {
      String[] columns = lines.get(i).split("\t");
      assertEquals(
          expected.get(i).interfaceName(), columns[0], "packet " + i + ": " + lines.get(i));
      assertEquals(expected.get(i).epoch(), columns[1], "packet " + i + ": " + lines.get(i));
      assertTrue(columns[2].startsWith("pod " + columns[0] + " on node"), lines.get(i));
    }
    assertTrue(
        !fields.output().contains("appears to be damaged")
            && !fields.output().contains("cut short"),
        fields.output());

    Command.Result comment = Command.run("capinfos", "-k", merged.toString()).orThrow();
    assertTrue(comment.output().contains("PodCaptureSet shop/web; filter: udp"), comment.output());
  }

  @Test
  void readsWhatARealTcpdumpWrites() throws Exception {
    Requirements.realCapture();
    Path file = tmp.resolve("real.pcap");
    CompletableFuture<Command.Result> tcpdump =
        CompletableFuture.supplyAsync(
            () ->
                Command.run(
                    Duration.ofSeconds(20),
                    List.of(
                        "tcpdump",
                        "-i",
                        "any",
                        "-n",
                        "-U",
                        "-c",
                        "4",
                        "-w",
                        file.toString(),
                        "icmp",
                        "and",
                        "host",
                        "127.0.0.1")));
    // tcpdump needs a moment to open its socket; ping until it has its four packets
    for (int i = 0; i < 20 && !tcpdump.isDone(); i++) {
      Command.run("ping", "-c", "1", "-W", "1", "127.0.0.1");
      Thread.sleep(200);
    }
    tcpdump.get(30, TimeUnit.SECONDS).orThrow();

    try (PcapReader reader = PcapReader.open(Files.newInputStream(file))) {
      assertEquals(276, reader.linkType(), "tcpdump -i any writes LINUX_SLL2");
      List<PcapPacket> packets = PcapReaderTest.readAll(reader);
      assertEquals(4, packets.size());
      long now = System.currentTimeMillis() * 1_000_000L;
      for (PcapPacket p : packets) {
        assertTrue(Math.abs(now - p.timestampNanos()) < 120_000_000_000L, "recent: " + p);
        // SLL2 protocol type IPv4, then an IPv4 header
        assertEquals(0x0800, ByteBuffer.wrap(p.data()).getShort(0));
        assertEquals(0x45, p.data()[20]);
      }
    }
  }

  private record Expected(String interfaceName, long nanos) {
    String epoch() {
      return String.format("%d.%09d", nanos / 1_000_000_000L, nanos % 1_000_000_000L);
    }
  }

  private Path write(String name, List<PcapPacket> packets, boolean nanosecond) throws IOException {
    Path path = tmp.resolve(name);
    Files.write(path, PcapBytes.file(ByteOrder.LITTLE_ENDIAN, nanosecond, PcapBytes.SLL2, packets));
    return path;
  }

  private static IoSupplier<InputStream> open(Path path) {
    return () -> Files.newInputStream(path);
  }

  /** A LINUX_SLL2 frame holding IPv4/UDP from 10.0.0.1 to 10.0.0.2, {@code length} bytes long. */
  private static byte[] sll2Udp(int id, int length) {
    ByteBuffer b = ByteBuffer.allocate(length);
    b.putShort((short) 0x0800).putShort((short) 0).putInt(2); // protocol, reserved, ifindex
    b.putShort((short) 1).put((byte) 0).put((byte) 6); // ARPHRD_ETHER, to us, address length
    b.put(new byte[] {2, 0, 0, 0, 0, 1, 0, 0}); // address, padded to 8
    int ipLength = length - 20;
    b.put((byte) 0x45).put((byte) 0).putShort((short) ipLength).putShort((short) id);
    b.putShort((short) 0).put((byte) 64).put((byte) 17).putShort((short) 0);
    b.put(new byte[] {10, 0, 0, 1}).put(new byte[] {10, 0, 0, 2});
    b.putShort((short) 40000).putShort((short) 5000).putShort((short) (ipLength - 20));
    b.putShort((short) 0);
    return b.array();
  }
}
