package io.podcapture.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Counting and telling apart the agent's requests the mock API server recorded. */
final class ApiCalls {
  private ApiCalls() {}

  /** Requests by "verb resource", with the status code when it was an error. */
  static Map<String, Integer> countByVerb(List<BenchApiServer.Call> calls) {
    Map<String, Integer> counts = new TreeMap<>();
    for (BenchApiServer.Call c : calls) {
      String key = c.verb() + " " + c.resource() + (c.code() >= 400 ? " (" + c.code() + ")" : "");
      counts.merge(key, 1, Integer::sum);
    }
    return counts;
  }

  static boolean isWrite(String verbResource) {
    return !(verbResource.startsWith("get ")
        || verbResource.startsWith("list ")
        || verbResource.startsWith("watch "));
  }

  static String summary(Map<String, Integer> counts) {
    return counts.entrySet().stream()
        .map(e -> e.getValue() + " " + e.getKey())
        .collect(Collectors.joining(", "));
  }

  /** Status writes that changed nothing but the files' sizes since the write before them. */
  static int sizeRefreshes(List<BenchApiServer.Call> calls) {
    int refreshes = 0;
    JsonNode previous = null;
    for (BenchApiServer.Call c : calls) {
      if (!c.isWrite() || !"podcaptures/status".equals(c.resource()) || c.body() == null) {
        continue;
      }
      try {
        ObjectNode status = (ObjectNode) new ObjectMapper().readTree(c.body()).path("status");
        status.remove(List.of("files", "fileCount", "totalBytes"));
        if (status.equals(previous)) {
          refreshes++;
        }
        previous = status;
      } catch (IOException | ClassCastException e) {
        previous = null;
      }
    }
    return refreshes;
  }

  /** One request as a note shows it: method, object, code, and for a status write its status. */
  static String describe(BenchApiServer.Call c) {
    return c.method()
        + " "
        + c.objectPath()
        + " "
        + c.code()
        + (c.resource().endsWith("/status") ? " " + statusOf(c.body()) : "");
  }

  /** The phase, message and file sizes of a status write's body, to tell why it was written. */
  private static String statusOf(String body) {
    if (body == null) {
      return "";
    }
    try {
      JsonNode status = new ObjectMapper().readTree(body).path("status");
      StringBuilder files = new StringBuilder();
      status.path("files").forEach(f -> files.append(f.path("sizeBytes").asText()).append(' '));
      return "("
          + status.path("phase").asText()
          + ", files "
          + files.toString().strip()
          + ", "
          + status.path("conditions").path(0).path("lastTransitionTime").asText()
          + ")";
    } catch (IOException e) {
      return "";
    }
  }
}
