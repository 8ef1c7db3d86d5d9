package io.podcapture.filesapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FilesRequestTest {
  private static final String P = FilesApiNames.PREFIX;

  @Test
  void theGroupVersionIsDiscovery() throws Exception {
    assertEquals(FilesRequest.Kind.DISCOVERY, FilesRequest.parse(P, null).kind());
    assertEquals(FilesRequest.Kind.DISCOVERY, FilesRequest.parse(P + "/", null).kind());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "/namespaces/shop/podcapturefiles/web,CAPTURE,podcapturefiles,''",
    "/namespaces/shop/podcapturefiles/web/merged,CAPTURE,podcapturefiles,merged",
    "/namespaces/shop/podcapturefiles/web/log,CAPTURE,podcapturefiles,log",
    "/namespaces/shop/podcapturesetfiles/web,SET,podcapturesetfiles,''",
    "/namespaces/shop/podcapturesetfiles/web/merged,SET,podcapturesetfiles,merged",
  })
  void eachResourceIsParsed(String path, String kind, String resource, String sub)
      throws Exception {
    FilesRequest r = FilesRequest.parse(P + path, null);
    assertEquals(FilesRequest.Kind.valueOf(kind), r.kind());
    assertEquals("shop", r.namespace());
    assertEquals("web", r.name());
    assertEquals(resource, r.resource());
    assertEquals(sub, r.subresource());
    assertNull(r.file());
  }

  @Test
  void aFileIsNamedInTheQueryDecodedOnce() throws Exception {
    FilesRequest r =
        FilesRequest.parse(
            P + "/namespaces/shop/podcapturefiles/web/pcap", "file=previous%2Fcapture-web.pcap1");
    assertEquals("previous/capture-web.pcap1", r.file());
    assertEquals("pcap", r.subresource());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "/apis/other.group/v1alpha1/namespaces/shop/podcapturefiles/web",
        "/apis/files.tcpdump.antrea.io/v1/namespaces/shop/podcapturefiles/web",
        P + "/namespaces/shop/podcapturefiles",
        P + "/namespaces/shop/podcaptures/web",
        P + "/namespaces/shop/podcapturefiles/web/files",
        P + "/namespaces/shop/podcapturesetfiles/web/pcap",
        P + "/namespaces/shop/podcapturesetfiles/web/log",
        P + "/namespaces/shop/podcapturefiles/web/merged/x",
        P + "/namespaces/Shop/podcapturefiles/web",
        P + "/namespaces/shop/podcapturefiles/..",
        P + "/namespaces/shop/podcapturefiles/%2e%2e",
        P + "/namespaces/shop/podcapturefiles/web%2F..%2F..",
        P + "/namespaces/../podcapturefiles/web",
        P + "/namespaces//podcapturefiles/web",
        P + "/namespaces/shop/podcapturefiles/Web",
        P + "/podcapturefiles/web",
        "/",
        "/healthz",
      })
  void anythingElseIsNotFound(String path) {
    StatusException e = assertThrows(StatusException.class, () -> FilesRequest.parse(path, null));
    assertEquals(404, e.code());
    assertEquals("NotFound", e.reason());
  }

  @ParameterizedTest(name = "file={0}")
  @ValueSource(
      strings = {
        "",
        "..",
        "../x",
        "%2e%2e%2fetc%2fpasswd",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "previous/../x",
        "a/b",
        "previous/previous/x",
        ".hidden",
        "x%00",
        "capture..pcap",
      })
  void aFileThatIsNotAPlainNameIsABadRequest(String file) {
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                FilesRequest.parse(
                    P + "/namespaces/shop/podcapturefiles/web/pcap", "file=" + file));
    assertEquals(400, e.code());
    assertEquals("BadRequest", e.reason());
  }

  @Test
  void aPcapRequestWithoutAFileIsABadRequest() {
    assertEquals(
        400,
        assertThrows(
                StatusException.class,
                () -> FilesRequest.parse(P + "/namespaces/shop/podcapturefiles/web/pcap", "x=1"))
            .code());
  }
}
