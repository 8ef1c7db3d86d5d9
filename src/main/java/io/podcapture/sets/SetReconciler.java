package io.podcapture.sets;

import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetStatus;
import io.podcapture.controller.EventRecorder;
import io.podcapture.controller.Names;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass over one set, idempotent: read the set and its children from the caches and its Pods
 * from its watch, decide ({@link SetDecision}), make the children, write the status, say what
 * changed in Events. A set being deleted has its children deleted, then loses its finalizer.
 */
final class SetReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(SetReconciler.class);

  /** How soon to look again at a Pod that has no node yet. */
  static final Duration UNSCHEDULED_RETRY = Duration.ofSeconds(2);

  /** How soon to look again at a set whose children are still being deleted. */
  static final Duration DELETION_RETRY = Duration.ofSeconds(2);

  /** The children index: {@code namespace/set} of a child's set label. */
  static final String BY_SET = "bySet";

  private final SharedIndexInformer<PodCaptureSet> sets;
  private final SharedIndexInformer<PodCapture> children;
  private final PodWatches pods;
  private final SetApi api;
  private final EventRecorder events;
  private final SetConfig config;
  private final Clock clock;

  /**
   * Children made per set uid, as this controller counted them: the cache and the status it wrote
   * may not have caught up with a create by the next pass.
   */
  private final Map<String, Integer> made = new ConcurrentHashMap<>();

  SetReconciler(
      SharedIndexInformer<PodCaptureSet> sets,
      SharedIndexInformer<PodCapture> children,
      PodWatches pods,
      SetApi api,
      EventRecorder events,
      SetConfig config,
      Clock clock) {
    this.sets = sets;
    this.children = children;
    this.pods = pods;
    this.api = api;
    this.events = events;
    this.config = config;
    this.clock = clock;
  }

  /** One pass over the set {@code namespace/name}; returns when to look again, or null. */
  Duration reconcile(String key) {
    PodCaptureSet set = sets.getStore().getByKey(key);
    if (set == null) {
      pods.release(key);
      return null;
    }
    if (set.getMetadata().getDeletionTimestamp() != null) {
      return delete(key, set);
    }
    if (!hasFinalizer(set)) {
      set = api.addFinalizer(set);
    }
    Instant now = clock.instant();
    List<MatchedPod> matching = List.of();
    boolean open =
        SetDecision.invalid(set, config.maxPodsCap()) == null
            && SetDecision.window(set, now).open(now);
    if (open && SetSelector.parse(set.getSpec().getSelector()) instanceof SetSelector.Valid valid) {
      String namespace = set.getMetadata().getNamespace();
      matching = pods.use(key, new PodWatches.Key(namespace, valid.query()));
      if (matching == null) {
        // The watch is listing; it queues the set once it has.
        return null;
      }
    } else {
      // Refused, or the window closed: no child will be made, so the set needs no Pod watch.
      pods.release(key);
    }
    String uid = set.getMetadata().getUid();
    List<PodCapture> mine = childrenOf(key, uid);
    int madeBefore = Math.max(made.getOrDefault(uid, 0), capturedPods(set.getStatus()));
    SetInputs in = new SetInputs(set, matching, mine, madeBefore, config.maxPodsCap(), now);
    SetPlan plan = SetDecision.decide(in);

    List<PodCapture> created = new ArrayList<>();
    List<String> unscheduled = new ArrayList<>();
    for (String pod : plan.podsToCapture()) {
      PodCapture child = make(set, plan.window(), pod, unscheduled);
      if (child != null) {
        created.add(child);
      }
    }
    made.put(uid, Math.max(madeBefore, mine.size()) + created.size());
    if (!created.isEmpty()) {
      events.normal(set, SetDecision.EVENT_CHILD_CREATED, createdMessage(created));
      LOG.info("PodCaptureSet({}) made {}", key, names(created));
    }

    PodCaptureSetStatus status = SetDecision.status(in, plan, created, unscheduled);
    PodCaptureSetStatus old = set.getStatus();
    if (!Objects.equals(status, old)) {
      api.writeStatus(set, status);
    }
    for (SetDecision.SetEvent e : SetDecision.events(old, status)) {
      if (e.warning()) {
        events.warning(set, e.reason(), e.message());
      } else {
        events.normal(set, e.reason(), e.message());
      }
    }
    Duration lookAgain = plan.lookAgain();
    if (!unscheduled.isEmpty()
        && (lookAgain == null || lookAgain.compareTo(UNSCHEDULED_RETRY) > 0)) {
      lookAgain = UNSCHEDULED_RETRY;
    }
    return lookAgain;
  }

  /**
   * Makes the Pod's child on the Pod's node (one GET); null if the Pod is gone or has no node yet
   * (then it is added to {@code unscheduled}) or its child exists already.
   */
  private PodCapture make(
      PodCaptureSet set, SetWindow window, String pod, List<String> unscheduled) {
    String namespace = set.getMetadata().getNamespace();
    SetApi.PodNode where = api.podNode(namespace, pod);
    if (!where.exists()) {
      return null;
    }
    if (where.node() == null) {
      unscheduled.add(pod);
      return null;
    }
    String setName = set.getMetadata().getName();
    Integer duration = window.childDuration(clock.instant());
    PodCapture created =
        api.create(Children.child(set, ChildNames.of(setName, pod), pod, where.node(), duration));
    if (created != null) {
      return created;
    }
    // The readable name is taken: by this set's own child (made before, the cache behind), or by
    // another PodCapture (a set whose name and Pod join alike, or a user's), then the hashed name.
    PodCapture taken = api.get(namespace, ChildNames.of(setName, pod));
    if (taken != null && Children.ownedBy(taken, set.getMetadata().getUid())) {
      return null;
    }
    return api.create(
        Children.child(set, ChildNames.hashed(setName, pod), pod, where.node(), duration));
  }

  /** Deletes every child; once none is left, releases the set's finalizer. */
  private Duration delete(String key, PodCaptureSet set) {
    pods.release(key);
    if (!hasFinalizer(set)) {
      return null;
    }
    List<PodCapture> left = childrenOf(key, set.getMetadata().getUid());
    for (PodCapture child : left) {
      if (child.getMetadata().getDeletionTimestamp() == null) {
        api.delete(child);
      }
    }
    if (!left.isEmpty()) {
      // The agents delete the children's files and then release them; their deletion queues the
      // set again, and so does this timer should an event be missed.
      LOG.info("PodCaptureSet({}) is being deleted: {} children left", key, left.size());
      return DELETION_RETRY;
    }
    api.removeFinalizer(set);
    made.remove(set.getMetadata().getUid());
    LOG.info("PodCaptureSet({}) deleted with all its children", key);
    return null;
  }

  /** The set's children in the cache: labelled with it and owned by it. */
  private List<PodCapture> childrenOf(String key, String uid) {
    return children.getIndexer().byIndex(BY_SET, key).stream()
        .filter(c -> Children.ownedBy(c, uid))
        .toList();
  }

  private static boolean hasFinalizer(PodCaptureSet set) {
    List<String> finalizers = set.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains(Names.FINALIZER);
  }

  private static int capturedPods(PodCaptureSetStatus status) {
    return status == null || status.getCapturedPods() == null ? 0 : status.getCapturedPods();
  }

  private static String createdMessage(List<PodCapture> created) {
    List<String> parts = new ArrayList<>();
    for (PodCapture c : created) {
      parts.add(
          c.getMetadata().getName()
              + " (Pod "
              + c.getSpec().getPodName()
              + " on "
              + c.getMetadata().getLabels().get(Names.LABEL_NODE)
              + ")");
    }
    return "created "
        + created.size()
        + (created.size() == 1 ? " child: " : " children: ")
        + String.join(", ", parts);
  }

  private static List<String> names(List<PodCapture> created) {
    return created.stream().map(c -> c.getMetadata().getName()).toList();
  }
}
