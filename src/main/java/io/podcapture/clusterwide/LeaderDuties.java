package io.podcapture.clusterwide;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the replica holding the Lease runs: started when it gains the Lease, closed when it loses it
 * or stops. Each duty starts its own watches and threads and gives them all back on close, so a
 * replica that lost the Lease writes nothing more.
 *
 * <p>The duties, in order: {@link Placement} (PodCaptures without a node, or with a node label
 * nobody answers to) and the further duties the controller mode is given: {@code Main} passes the
 * PodCaptureSet controller ({@code io.podcapture.sets.SetController}), which this package does not
 * know.
 */
public final class LeaderDuties implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderDuties.class);

  /** A duty: started with the controller's client, settings and clock; closed to stop it. */
  @FunctionalInterface
  public interface Duty {
    AutoCloseable start(KubernetesClient client, ControllerConfig config, Clock clock)
        throws Exception;
  }

  private final Placement placement;
  private final List<AutoCloseable> further;

  private LeaderDuties(Placement placement, List<AutoCloseable> further) {
    this.placement = placement;
    this.further = further;
  }

  static LeaderDuties start(
      KubernetesClient client,
      ControllerConfig config,
      Clock clock,
      ClusterMetrics metrics,
      List<Duty> furtherDuties) {
    Placement placement = Placement.start(client, config, clock, metrics);
    List<AutoCloseable> started = new ArrayList<>();
    for (Duty duty : furtherDuties) {
      try {
        started.add(duty.start(client, config, clock));
      } catch (Exception e) {
        // One duty that cannot start must not keep the others (placement above all) from running.
        LOG.error("a leader duty could not start: {}", e.toString(), e);
      }
    }
    return new LeaderDuties(placement, started);
  }

  /** Nodes with an agent, as placement sees them. */
  int agentNodes() {
    return placement.agentNodes();
  }

  /** Closes every duty, the last started first. */
  @Override
  public void close() {
    for (int i = further.size() - 1; i >= 0; i--) {
      try {
        further.get(i).close();
      } catch (Exception e) {
        LOG.warn("a leader duty did not close cleanly: {}", e.toString());
      }
    }
    placement.close();
  }
}
