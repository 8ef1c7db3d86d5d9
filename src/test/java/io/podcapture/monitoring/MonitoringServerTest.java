package io.podcapture.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class MonitoringServerTest {

  private static HttpResponse<String> get(MonitoringServer server, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + server.port() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void probesAnswer503UntilTheirCheckHolds() throws Exception {
    AtomicBoolean healthy = new AtomicBoolean(true);
    AtomicBoolean ready = new AtomicBoolean(false);
    AgentMetrics metrics =
        new AgentMetrics("n1", new AgentMetrics.Gauges(() -> 0, () -> 0, () -> 0, () -> 0));
    try (MonitoringServer server =
        new MonitoringServer(0, metrics.registry(), healthy::get, ready::get)) {
      assertEquals(200, get(server, "/healthz").statusCode());
      assertEquals(503, get(server, "/readyz").statusCode());
      ready.set(true);
      healthy.set(false);
      assertEquals(200, get(server, "/readyz").statusCode());
      assertEquals(503, get(server, "/healthz").statusCode());
    }
  }

  @Test
  void metricsAreServedInPrometheusTextFormatWithEveryDocumentedName() throws Exception {
    AgentMetrics metrics =
        new AgentMetrics("n1", new AgentMetrics.Gauges(() -> 2, () -> 1, () -> 4096, () -> 3));
    metrics.captureStarted();
    metrics.captureStarted();
    metrics.captureStopped("AnnotationRemoved");
    metrics.captureFailed("InvalidAnnotation");
    metrics.tcpdumpRestarted();
    metrics.apiError(409);
    metrics.event("Normal", "CaptureStarted");
    metrics.reconciled(Duration.ofMillis(3), false);
    try (MonitoringServer server =
        new MonitoringServer(0, metrics.registry(), () -> true, () -> true)) {
      HttpResponse<String> response = get(server, "/metrics");
      assertEquals(200, response.statusCode());
      assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
      String body = response.body();
      for (String line :
          new String[] {
            "podcapture_captures_running 2.0",
            "podcapture_captures_pending 1.0",
            "podcapture_capture_bytes{node=\"n1\"} 4096.0",
            "podcapture_workqueue_depth 3.0",
            "podcapture_capture_starts_total 2.0",
            "podcapture_capture_stops_total{reason=\"AnnotationRemoved\"} 1.0",
            "podcapture_capture_failures_total{reason=\"InvalidAnnotation\"} 1.0",
            "podcapture_tcpdump_restarts_total 1.0",
            "podcapture_api_errors_total{code=\"409\"} 1.0",
            "podcapture_events_total{reason=\"CaptureStarted\",type=\"Normal\"} 1.0",
            "podcapture_reconcile_duration_seconds_count{result=\"success\"} 1"
          }) {
        assertTrue(body.lines().anyMatch(l -> l.equals(line)), "missing: " + line + "\n" + body);
      }
    }
  }
}
