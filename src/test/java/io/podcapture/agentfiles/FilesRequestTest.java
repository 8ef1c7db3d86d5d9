package io.podcapture.agentfiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FilesRequestTest {

  @Test
  void theThreeRequestsAreParsedFromTheRawPath() {
    assertEquals(
        Optional.of(new FilesRequest.Listing("shop", "web")),
        FilesRequest.parse("/v1/captures/shop/web"));
    assertEquals(
        Optional.of(new FilesRequest.Download("shop", "web.v2", "capture-web.v2.pcap07")),
        FilesRequest.parse("/v1/captures/shop/web.v2/files/capture-web.v2.pcap07"));
    assertEquals(
        Optional.of(new FilesRequest.Follow("shop", "web")),
        FilesRequest.parse("/v1/captures/shop/web/follow"));
  }

  @Test
  void filesKeptFromAnEarlierRunAreNamedWithTheOneDocumentedEscape() {
    FilesRequest expected = new FilesRequest.Download("shop", "web", "previous/capture-web.pcap0");
    assertEquals(
        Optional.of(expected),
        FilesRequest.parse("/v1/captures/shop/web/files/previous%2Fcapture-web.pcap0"));
    assertEquals(
        Optional.of(expected),
        FilesRequest.parse("/v1/captures/shop/web/files/previous%2fcapture-web.pcap0"));
    assertEquals(
        Optional.of(expected),
        FilesRequest.parse("/v1/captures/shop/web/files/previous/capture-web.pcap0"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "/",
        "/v1/captures/",
        "/v1/captures/shop",
        "/v1/captures/shop/",
        "/v1/captures/shop/web/",
        "/v1/captures/shop/web/files",
        "/v1/captures/shop/web/files/",
        "/v1/captures/shop/web/follow/",
        "/v1/captures/shop/web/other",
        "/v2/captures/shop/web",
        "/v1/captures/Shop/web",
        "/v1/captures/shop/Web",
        "/v1/captures/../web",
        "/v1/captures/shop/../files/x",
        "/v1/captures/shop/web/files/../../../etc/passwd",
        "/v1/captures/shop/web/files/..",
        "/v1/captures/shop/web/files/.",
        "/v1/captures/shop/web/files/.hidden",
        "/v1/captures/shop/web/files//etc/passwd",
        "/v1/captures/shop/web/files/%2Fetc%2Fpasswd",
        "/v1/captures/shop/web/files/%2e%2e%2Fcapture-web.pcap0",
        "/v1/captures/shop/web/files/..%2Fcapture-web.pcap0",
        "/v1/captures/shop/web/files/previous%2F..%2Fx",
        "/v1/captures/shop/web/files/previous%2F%2e%2e",
        "/v1/captures/shop/web/files/previous%252Fcapture-web.pcap0",
        "/v1/captures/shop/web/files/previous%2F",
        "/v1/captures/shop/web/files/previous/previous/capture-web.pcap0",
        "/v1/captures/shop/web/files/other%2Fcapture-web.pcap0",
        "/v1/captures/shop/web/files/capture-web.pcap0%00",
        "/v1/captures/shop/web/files/capture web.pcap0",
        "/v1/captures/shop%2Fweb/files/capture-web.pcap0",
        "/v1/captures/shop/web%2Ffiles%2Fcapture-web.pcap0",
        "//v1/captures/shop/web",
      })
  void anyOtherPathIsNoRequest(String path) {
    assertTrue(FilesRequest.parse(path).isEmpty(), path);
  }

  @Test
  void namesLongerThanKubernetesAllowsAreNoRequest() {
    assertTrue(FilesRequest.parse("/v1/captures/" + "a".repeat(64) + "/web").isEmpty());
    assertTrue(FilesRequest.parse("/v1/captures/shop/" + "a".repeat(254)).isEmpty());
    assertEquals(
        Optional.of(new FilesRequest.Listing("a".repeat(63), "b".repeat(253))),
        FilesRequest.parse("/v1/captures/" + "a".repeat(63) + "/" + "b".repeat(253)));
  }
}
