package io.podcapture.clusterwide;

import io.podcapture.controller.ControllerMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.DoubleSupplier;

/**
 * The cluster controller's Prometheus metrics: whether this replica leads, how many nodes have an
 * agent, leadership changes seen, PodCaptures placed, Events and failed API calls.
 */
final class ClusterMetrics implements ControllerMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter leadershipChanges;
  private final Counter placements;
  private final Counter apiErrors;
  private final Counter events;

  ClusterMetrics(DoubleSupplier leading, DoubleSupplier agentNodes) {
    gauge(
        "podcapture_controller_leading",
        "1 while this replica holds the Lease and runs the cluster-wide duties, else 0",
        leading);
    gauge(
        "podcapture_controller_agent_nodes",
        "nodes with a podcapture agent Pod, as the leading replica sees them (0 on the standby)",
        agentNodes);
    leadershipChanges =
        counter(
            "podcapture_controller_leadership_changes_total",
            "times this replica saw the Lease change hands (itself included)");
    placements =
        counter(
            "podcapture_controller_placements_total",
            "what the controller did for PodCaptures, by action (labelled, corrected, explained)",
            "action");
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

  PrometheusRegistry registry() {
    return registry;
  }

  void leadershipChanged() {
    leadershipChanges.inc();
  }

  void placed(String action) {
    placements.labelValues(action).inc();
  }

  @Override
  public void apiError(int code) {
    apiErrors.labelValues(Integer.toString(code)).inc();
  }

  @Override
  public void event(String type, String reason) {
    events.labelValues(type, reason).inc();
  }
}
