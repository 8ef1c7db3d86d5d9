package io.podcapture.monitoring;

import io.podcapture.controller.ControllerMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * The agent's Prometheus metrics: counters the controller reports into, gauges read when scraped.
 */
public final class AgentMetrics implements ControllerMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter starts;
  private final Counter stops;
  private final Counter failures;
  private final Counter restarts;
  private final Counter apiErrors;
  private final Counter events;
  private final Counter podCaptureEvents;
  private final Histogram reconcileDuration;

  /** What the gauges read at scrape time. */
  public record Gauges(
      DoubleSupplier running,
      DoubleSupplier pending,
      DoubleSupplier bytesOnDisk,
      DoubleSupplier queueDepth) {}

  public AgentMetrics(String node, Gauges gauges) {
    starts = counter("podcapture_capture_starts_total", "tcpdump processes started for captures");
    stops =
        counter(
            "podcapture_capture_stops_total",
            "captures stopped and their files deleted, by reason",
            "reason");
    failures =
        counter(
            "podcapture_capture_failures_total",
            "captures that went to Failed or could not start, by reason",
            "reason");
    restarts =
        counter(
            "podcapture_tcpdump_restarts_total",
            "tcpdump processes started again after ending on their own");
    apiErrors =
        counter(
            "podcapture_api_errors_total",
            "failed calls to the Kubernetes API server, by HTTP code (0: no answer)",
            "code");
    events =
        counter(
            "podcapture_events_total",
            "Kubernetes Events recorded, by type and reason",
            "type",
            "reason");
    podCaptureEvents =
        counter(
            "podcapture_podcapture_events_total",
            "PodCapture changes the agent's watch was told of, by the node label of the"
                + " PodCapture (another node than this one means the label selector failed)",
            "node");
    reconcileDuration =
        Histogram.builder()
            .name("podcapture_reconcile_duration_seconds")
            .help("time of one reconcile pass")
            .classicOnly()
            .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .labelNames("result")
            .register(registry);
    gauge(
        "podcapture_captures_running",
        "captures whose tcpdump runs on this node",
        gauges.running());
    gauge(
        "podcapture_captures_pending",
        "captures on this node waiting to start (Pending)",
        gauges.pending());
    GaugeWithCallback.builder()
        .name("podcapture_capture_bytes")
        .help("bytes of capture files on this node's disk")
        .labelNames("node")
        .callback(cb -> cb.call(gauges.bytesOnDisk().getAsDouble(), node))
        .register(registry);
    gauge("podcapture_workqueue_depth", "keys waiting in the work queue", gauges.queueDepth());
  }

  private Counter counter(String name, String help, String... labels) {
    return Counter.builder().name(name).help(help).labelNames(labels).register(registry);
  }

  private void gauge(String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsDouble()))
        .register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  @Override
  public void reconciled(Duration took, boolean failed) {
    reconcileDuration.labelValues(failed ? "error" : "success").observe(took.toNanos() / 1e9);
  }

  @Override
  public void apiError(int code) {
    apiErrors.labelValues(Integer.toString(code)).inc();
  }

  @Override
  public void event(String type, String reason) {
    events.labelValues(type, reason).inc();
  }

  @Override
  public void captureStarted() {
    starts.inc();
  }

  @Override
  public void captureStopped(String reason) {
    stops.labelValues(reason).inc();
  }

  @Override
  public void captureFailed(String reason) {
    failures.labelValues(reason).inc();
  }

  @Override
  public void tcpdumpRestarted() {
    restarts.inc();
  }

  @Override
  public void podCaptureEvent(String node) {
    podCaptureEvents.labelValues(String.valueOf(node)).inc();
  }
}
