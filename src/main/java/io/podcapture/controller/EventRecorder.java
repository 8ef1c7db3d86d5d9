package io.podcapture.controller;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records Kubernetes Events (core v1) on the objects the agent acts on. Like client-go's recorder,
 * a repeat of the same reason and message on the same object within ten minutes bumps the count of
 * the existing Event instead of creating a new one. Events are sent on a background thread: a slow
 * or failing Event never delays or fails a reconcile.
 */
public final class EventRecorder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  private static final int REMEMBERED = 512;
  private static final long REPEAT_WINDOW_SECONDS = 600;

  private final KubernetesClient client;
  private final String host;
  private final String component;
  private final ExecutorService sender;
  private final ControllerMetrics metrics;
  private final Map<String, Sent> recent =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Sent> eldest) {
          return size() > REMEMBERED;
        }
      };

  private record Sent(String namespace, String name, int count, Instant last) {}

  /** The agent's recorder: Events name {@link Names#COMPONENT} and the node as their source. */
  public EventRecorder(KubernetesClient client, String host, ControllerMetrics metrics) {
    this(client, Names.COMPONENT, host, metrics);
  }

  /**
   * A recorder whose Events name the given component (the agent's, or the cluster controller's).
   */
  public EventRecorder(
      KubernetesClient client, String component, String host, ControllerMetrics metrics) {
    this.client = client;
    this.component = component;
    this.host = host;
    this.metrics = metrics;
    // One thread and a bounded backlog: under an API outage Events are dropped rather than piling
    // up.
    this.sender =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(1000),
            r -> {
              Thread t = new Thread(r, "event-recorder");
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.DiscardPolicy());
  }

  public void normal(HasMetadata about, String reason, String message) {
    record(about, "Normal", reason, message);
  }

  public void warning(HasMetadata about, String reason, String message) {
    record(about, "Warning", reason, message);
  }

  private void record(HasMetadata about, String type, String reason, String message) {
    metrics.event(type, reason);
    // Read now, on the caller's thread: the object may change once the pass goes on.
    ObjectReference ref =
        new ObjectReferenceBuilder()
            .withKind(about.getKind())
            .withApiVersion(about.getApiVersion())
            .withNamespace(about.getMetadata().getNamespace())
            .withName(about.getMetadata().getName())
            .withUid(about.getMetadata().getUid())
            .withResourceVersion(about.getMetadata().getResourceVersion())
            .build();
    sender.execute(() -> send(ref, type, reason, message));
  }

  private void send(ObjectReference ref, String type, String reason, String message) {
    String dedupKey =
        String.join(
            "/",
            ref.getKind(),
            ref.getNamespace(),
            ref.getName(),
            ref.getUid(),
            type,
            reason,
            message);
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    try {
      Sent previous = recent.get(dedupKey);
      if (previous != null && previous.last().plusSeconds(REPEAT_WINDOW_SECONDS).isAfter(now)) {
        recent.put(dedupKey, repeat(previous, now));
      } else {
        recent.put(dedupKey, create(ref, type, reason, message, now));
      }
    } catch (RuntimeException e) {
      recent.remove(dedupKey);
      LOG.warn(
          "could not record event {} on {}({}/{}): {}",
          reason,
          ref.getKind(),
          ref.getNamespace(),
          ref.getName(),
          e.getMessage());
    }
  }

  /** Bumps the count of an Event sent before. */
  private Sent repeat(Sent previous, Instant now) {
    int count = previous.count() + 1;
    String patch = "{\"count\":" + count + ",\"lastTimestamp\":\"" + now + "\"}";
    // resource(stub) rather than withName(): the client then sends the patch without reading the
    // Event first.
    Event stub =
        new EventBuilder()
            .withNewMetadata()
            .withName(previous.name())
            .withNamespace(previous.namespace())
            .endMetadata()
            .build();
    client
        .v1()
        .events()
        .inNamespace(previous.namespace())
        .resource(stub)
        .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    return new Sent(previous.namespace(), previous.name(), count, now);
  }

  private Sent create(
      ObjectReference ref, String type, String reason, String message, Instant now) {
    String namespace = ref.getNamespace();
    String eventName =
        ref.getName()
            + "."
            + Long.toHexString(System.nanoTime() ^ (System.currentTimeMillis() << 20));
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(eventName)
            .withNamespace(namespace)
            .endMetadata()
            .withInvolvedObject(ref)
            .withType(type)
            .withReason(reason)
            .withMessage(message)
            .withNewSource()
            .withComponent(component)
            .withHost(host)
            .endSource()
            .withReportingComponent(component)
            .withReportingInstance(host)
            .withFirstTimestamp(now.toString())
            .withLastTimestamp(now.toString())
            .withCount(1)
            .build();
    client.v1().events().inNamespace(namespace).resource(event).create();
    return new Sent(namespace, eventName, 1, now);
  }

  /** Waits briefly for queued Events to be sent, then stops. */
  @Override
  public void close() {
    sender.shutdown();
    try {
      sender.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
