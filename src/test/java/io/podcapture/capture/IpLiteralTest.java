package io.podcapture.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralTest {

  @ParameterizedTest
  @CsvSource({
    "10.1.2.3, 10.1.2.3, false",
    "0.0.0.0, 0.0.0.0, false",
    "255.255.255.255, 255.255.255.255, false",
    "fd00::1a, fd00::1a, true",
    "FD00::1A, fd00::1a, true",
    "::, ::, true",
    "::1, ::1, true",
    "1::, 1::, true",
    "2001:db8:0:0:0:0:0:1, 2001:db8:0:0:0:0:0:1, true",
    "1:2:3:4:5:6:7::, 1:2:3:4:5:6:7::, true",
    "::ffff:10.1.2.3, ::ffff:10.1.2.3, true",
    "::10.1.2.3, ::10.1.2.3, true",
    "1:2:3:4:5:6:10.1.2.3, 1:2:3:4:5:6:10.1.2.3, true",
    "64:ff9b::192.0.2.33, 64:ff9b::192.0.2.33, true",
  })
  void acceptsLiterals(String text, String expected, boolean ipv6) throws CaptureException {
    IpLiteral ip = IpLiteral.parse(text);
    assertEquals(expected, ip.text());
    assertEquals(ipv6, ip.ipv6());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " ",
        "10.1.2",
        "10.1.2.3.4",
        "10.1.2.256",
        "010.1.2.3",
        "10.1.2.03",
        "10.1.2.3 ",
        " 10.1.2.3",
        "10.1.2.-3",
        "+10.1.2.3",
        "1e1.1.2.3",
        "10..2.3",
        "0x0a.1.2.3",
        "\u0661.2.3.4",
        "10.1.2.3/32",
        "10.1.2.3 or host 5.6.7.8",
        "example.com",
        "localhost",
        "-w/etc/x",
        "--help",
        "fe80::1%eth0",
        "[fd00::1]",
        "fd00::1/64",
        ":::",
        "1:::2",
        "1::2::3",
        ":1",
        "1:",
        ":1::",
        "1::2:",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "1:2:3:4:5:6:7",
        "12345::",
        "g::1",
        "fd00::1\n",
        "::ffff:10.1.2",
        "::ffff:10.1.2.300",
        "1:2:3:4:5:6:7:10.1.2.3",
        ":10.1.2.3",
        "10.1.2.3::",
        "\uff10::1",
        "fd00::1 ",
        "fd00:\u00001"
      })
  void refusesAnythingElse(String text) {
    CaptureException e = assertThrows(CaptureException.class, () -> IpLiteral.parse(text));
    assertEquals(CaptureException.Reason.InvalidInput, e.reason());
    assertTrue(e.getMessage().contains("is not an IP address literal"), e.getMessage());
  }

  @Test
  void refusesNull() {
    assertThrows(CaptureException.class, () -> IpLiteral.parse(null));
  }
}
