package io.podcapture.clusterwide;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import io.podcapture.clusterwide.PlacementDecision.Note;
import io.podcapture.clusterwide.PlacementDecision.Plan;
import io.podcapture.controller.EventRecorder;
import io.podcapture.controller.Names;
import io.podcapture.controller.WorkQueue;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leading controller's placement of PodCaptures: it watches every PodCapture (they are few),
 * reads the Pod of one no agent has answered for, and acts on {@link PlacementDecision}'s plan:
 * labels it with the Pod's node (correcting a wrong label, with an Event), or writes why nothing
 * runs (Pod missing, unscheduled, or on a node no agent serves). One worker; the decision decides,
 * this class only acts.
 */
final class Placement implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Placement.class);

  private final KubernetesClient client;
  private final Clock clock;
  private final ClusterMetrics metrics;
  private final EventRecorder events;
  private final AgentNodes agents;
  private final AgentPresence presence;
  private final SharedIndexInformer<PodCapture> informer;
  private final Lister<PodCapture> captures;
  private final WorkQueue<CaptureKey> queue =
      new WorkQueue<>(Duration.ofMillis(200), Duration.ofSeconds(30));
  private final Thread worker;

  /**
   * What this controller last wrote per PodCapture: a pass that runs before the informer has its
   * own write does not act on the older copy.
   */
  private final Map<CaptureKey, PodCapture> written = new ConcurrentHashMap<>();

  /**
   * The node label a PodCapture was created with, while nobody has answered for it: if the agent of
   * that node hands it back (removes the label, its Pod being elsewhere) before this controller
   * corrects it, the correction is still reported from that node to the Pod's.
   */
  private final Map<CaptureKey, String> createdWith = new ConcurrentHashMap<>();

  private Placement(
      KubernetesClient client, ControllerConfig config, Clock clock, ClusterMetrics metrics) {
    this.client = client;
    this.clock = clock;
    this.metrics = metrics;
    this.events = new EventRecorder(client, Names.CONTROLLER_COMPONENT, config.podName(), metrics);
    this.agents = new AgentNodes(clock);
    this.presence = new AgentPresence(client, config, agents, this::agentsChanged);
    this.informer = client.resources(PodCapture.class).inAnyNamespace().runnableInformer(0);
    this.captures = new Lister<>(informer.getIndexer());
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(PodCapture cr) {
            String label = PlacementDecision.nodeLabel(cr);
            if (label != null && cr.getStatus() == null) {
              createdWith.put(key(cr), label);
            }
            queue.add(key(cr));
          }

          @Override
          public void onUpdate(PodCapture old, PodCapture cr) {
            if (cr.getStatus() != null && PlacementDecision.nodeLabel(cr) != null) {
              createdWith.remove(key(cr));
            }
            queue.add(key(cr));
          }

          @Override
          public void onDelete(PodCapture cr, boolean finalStateUnknown) {
            written.remove(key(cr));
            createdWith.remove(key(cr));
          }
        });
    this.worker = new Thread(this::work, "placement");
    worker.setDaemon(true);
  }

  /** Starts the watches and the worker; returns at once. */
  static Placement start(
      KubernetesClient client, ControllerConfig config, Clock clock, ClusterMetrics metrics) {
    Placement placement = new Placement(client, config, clock, metrics);
    placement.presence.start();
    var unused = placement.informer.start();
    placement.worker.start();
    return placement;
  }

  /** Nodes with an agent Pod now. */
  int agentNodes() {
    return agents.nodes();
  }

  boolean synced() {
    return presence.synced() && informer.hasSynced();
  }

  /**
   * Nodes gained or lost their agent: the PodCaptures of those nodes, and those with no node yet,
   * are looked at again now, and once more when a departed agent's grace has run out.
   */
  private void agentsChanged(Set<String> nodes) {
    for (PodCapture cr : captures.list()) {
      String label = PlacementDecision.nodeLabel(cr);
      if (!PlacementDecision.finished(cr) && (label == null || nodes.contains(label))) {
        CaptureKey key = key(cr);
        queue.add(key);
        queue.addAfter(key, AgentNodes.GRACE.plusSeconds(1));
      }
    }
  }

  private void work() {
    while (true) {
      CaptureKey key;
      try {
        key = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (key == null) {
        return;
      }
      try {
        // Nothing is placed before both caches hold what the API server has: an agent not yet
        // seen would read as "no agent on that node".
        if (!synced()) {
          queue.addAfter(key, Duration.ofMillis(200));
          continue;
        }
        Duration again = reconcile(key);
        queue.forget(key);
        if (again != null) {
          queue.addAfter(key, again);
        }
      } catch (KubernetesClientException e) {
        metrics.apiError(e.getCode());
        if (e.getCode() == 404) {
          queue.forget(key);
        } else {
          // 409 or 422: the PodCapture changed meanwhile (an agent took it, a user edited it).
          LOG.debug("PodCapture({}): {}; trying again", key, e.getMessage());
          queue.addRateLimited(key);
        }
      } catch (RuntimeException e) {
        LOG.warn("PodCapture({}): pass failed, trying again: {}", key, e.toString());
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  }

  /** One pass; returns when to pass again, or null. */
  Duration reconcile(CaptureKey key) {
    PodCapture cr = freshest(key, captures.namespace(key.namespace()).get(key.name()));
    if (cr == null) {
      return null;
    }
    Pod pod =
        PlacementDecision.needsPod(cr, agents::serves)
            ? client.pods().inNamespace(key.namespace()).withName(cr.getSpec().getPodName()).get()
            : null;
    String before = PlacementDecision.nodeLabel(cr);
    String handedBackFrom = before == null ? createdWith.get(key) : null;
    Plan plan = PlacementDecision.decide(cr, pod, agents::serves, handedBackFrom, clock.instant());
    if (plan.nothing()) {
      return null;
    }
    if (plan.label() != null) {
      cr = remember(label(cr, before, plan.label()));
      createdWith.remove(key);
      metrics.placed(before == null && handedBackFrom == null ? "labelled" : "corrected");
      LOG.info(
          "PodCapture({}) {} node {} (Pod {})",
          key,
          before == null && handedBackFrom == null
              ? "labelled with"
              : "label corrected from " + (before == null ? handedBackFrom : before) + " to",
          plan.label(),
          cr.getSpec().getPodName());
    }
    if (plan.status() != null) {
      PodCapture copy = Objects.requireNonNull(Serialization.clone(cr));
      copy.setStatus(plan.status());
      cr =
          remember(
              client
                  .resources(PodCapture.class)
                  .inNamespace(key.namespace())
                  .resource(copy)
                  .updateStatus());
      metrics.placed("explained");
      LOG.info("PodCapture({}) {}: {}", key, plan.status().getPhase(), plan.status().getMessage());
    }
    for (Note note : plan.notes()) {
      if (note.warning()) {
        events.warning(cr, note.reason(), note.message());
      } else {
        events.normal(cr, note.reason(), note.message());
      }
    }
    return plan.requeueAfter();
  }

  /**
   * Sets the node label. A label that was there is replaced only if it still has the value the
   * decision saw (a JSON patch with a test), so a concurrent change by its agent or a user wins and
   * the next pass decides again.
   */
  private PodCapture label(PodCapture cr, String before, String node) {
    var resource =
        client
            .resources(PodCapture.class)
            .inNamespace(cr.getMetadata().getNamespace())
            .withName(cr.getMetadata().getName());
    if (before == null) {
      return resource.patch(
          PatchContext.of(PatchType.JSON_MERGE),
          Serialization.asJson(
              Map.of("metadata", Map.of("labels", Map.of(Names.LABEL_NODE, node)))));
    }
    String path = "/metadata/labels/" + Names.LABEL_NODE.replace("~", "~0").replace("/", "~1");
    return resource.patch(
        PatchContext.of(PatchType.JSON),
        Serialization.asJson(
            List.of(
                Map.of("op", "test", "path", path, "value", before),
                Map.of("op", "replace", "path", path, "value", node))));
  }

  private PodCapture remember(PodCapture cr) {
    written.put(key(cr), cr);
    return cr;
  }

  /** The cached PodCapture, or this controller's own last write of it where that is newer. */
  private PodCapture freshest(CaptureKey key, PodCapture cached) {
    PodCapture mine = written.get(key);
    if (cached == null || mine == null) {
      return cached;
    }
    if (!Objects.equals(mine.getMetadata().getUid(), cached.getMetadata().getUid())) {
      written.remove(key);
      return cached;
    }
    try {
      long cachedVersion = Long.parseLong(cached.getMetadata().getResourceVersion());
      long mineVersion = Long.parseLong(mine.getMetadata().getResourceVersion());
      if (cachedVersion >= mineVersion) {
        written.remove(key);
        return cached;
      }
      return mine;
    } catch (NumberFormatException e) {
      return cached;
    }
  }

  private static CaptureKey key(PodCapture cr) {
    return new CaptureKey(cr.getMetadata().getNamespace(), cr.getMetadata().getName());
  }

  @Override
  public void close() {
    queue.close();
    worker.interrupt();
    informer.close();
    presence.close();
    events.close();
  }
}
