package io.podcapture.filesapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusAndDiscoveryTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void anErrorIsAMetav1Status() throws Exception {
    JsonNode status =
        JSON.readTree(StatusException.forbidden("User \"bob\" cannot get").statusJson());
    assertEquals("Status", status.path("kind").asText());
    assertEquals("v1", status.path("apiVersion").asText());
    assertEquals("Failure", status.path("status").asText());
    assertEquals("Forbidden", status.path("reason").asText());
    assertEquals(403, status.path("code").asInt());
    assertEquals("User \"bob\" cannot get", status.path("message").asText());
  }

  @Test
  void eachErrorHasItsCodeAndReason() {
    assertEquals(401, StatusException.unauthorized("x").code());
    assertEquals("Unauthorized", StatusException.unauthorized("x").reason());
    assertEquals("NotFound", StatusException.notFound("x").reason());
    assertEquals("BadRequest", StatusException.badRequest("x").reason());
    assertEquals(429, StatusException.tooManyRequests("x").code());
    assertEquals("TooManyRequests", StatusException.tooManyRequests("x").reason());
    assertEquals(503, StatusException.unavailable("x").code());
    assertEquals("ServiceUnavailable", StatusException.unavailable("x").reason());
  }

  @Test
  void discoveryListsTheResourcesAndTheirSubresources() throws Exception {
    JsonNode list = JSON.readTree(Discovery.json());
    assertEquals("APIResourceList", list.path("kind").asText());
    assertEquals("files.tcpdump.antrea.io/v1alpha1", list.path("groupVersion").asText());
    List<String> names = new ArrayList<>();
    for (JsonNode r : list.path("resources")) {
      names.add(r.path("name").asText());
      assertEquals(true, r.path("namespaced").asBoolean());
      assertEquals("[\"get\"]", r.path("verbs").toString());
    }
    assertEquals(
        List.of(
            "podcapturefiles",
            "podcapturefiles/pcap",
            "podcapturefiles/merged",
            "podcapturefiles/log",
            "podcapturesetfiles",
            "podcapturesetfiles/merged"),
        names);
    assertEquals("PodCaptureFiles", list.path("resources").get(0).path("kind").asText());
    assertEquals("PodCaptureSetFiles", list.path("resources").get(4).path("kind").asText());
  }
}
