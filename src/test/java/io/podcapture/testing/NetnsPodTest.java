package io.podcapture.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("real-capture")
class NetnsPodTest {

  @BeforeAll
  static void requirements() {
    Requirements.realCapture();
  }

  @Test
  void podsReachTheirHostSideOverBothFamiliesAndCloseCleanly() {
    NetnsPod a = NetnsPod.create();
    NetnsPod b = NetnsPod.create();
    try {
      assertNotEquals(a.ipv4(), b.ipv4());
      assertNotEquals(a.ipv6(), b.ipv6());
      assertEquals(3, a.ping(NetnsPod.Ping.count(3)).received());
      assertEquals(3, a.ping(NetnsPod.Ping.count(3).overIpv6()).received());
      NetnsPod.PingResult flood = b.ping(200, 1400, true);
      assertEquals(200, flood.received(), flood.output());
    } finally {
      a.close();
      b.close();
    }
    a.close();
    assertTrue(
        Command.run("ip", "netns", "list")
            .output()
            .lines()
            .map(line -> line.split(" ")[0])
            .noneMatch(a.netns()::equals));
    assertFalse(Command.run("ip", "link", "show", a.hostInterface()).ok());
    assertFalse(Command.run("ip", "-o", "addr").output().contains(" " + a.hostIpv4() + "/"));
  }
}
