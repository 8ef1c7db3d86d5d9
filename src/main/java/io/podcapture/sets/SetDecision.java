package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.api.v1alpha1.PodCaptureSetStatus;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.api.v1alpha1.SetChildren;
import io.podcapture.controller.Names;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The set controller's decisions, pure: which Pods get a child ({@link #decide}), then, from what
 * the pass made, the set's status ({@link #status}) and the Events that tell a user what changed
 * ({@link #events}).
 */
public final class SetDecision {
  /** Longest value a label takes: children carry the set's name in {@link Names#LABEL_SET}. */
  static final int MAX_LABEL_VALUE = 63;

  public static final String REASON_WINDOW_OPEN = "WindowOpen";
  public static final String REASON_WINDOW_CLOSED = "WindowClosed";
  public static final String EVENT_STARTED = "SetStarted";
  public static final String EVENT_CHILD_CREATED = "ChildCreated";
  public static final String EVENT_COMPLETED = "SetCompleted";
  public static final String EVENT_MAX_PODS_REACHED = "MaxPodsReached";

  private SetDecision() {}

  /** An Event to record on the set. */
  public record SetEvent(boolean warning, String reason, String message) {}

  /** Which Pods get a child in this pass, and why not the others. */
  public static SetPlan decide(SetInputs in) {
    PodCaptureSet set = in.set();
    String invalid = invalid(set, in.maxPodsCap());
    if (invalid != null) {
      return SetPlan.refused(invalid);
    }
    // Above the admin's cap the set is not refused but bounded by the cap (the CRD's default of 10
    // must work under any cap), and its status says so.
    int maxPods = Math.min(maxPods(set.getSpec()), in.maxPodsCap());
    SetWindow window = window(set, in.now());
    if (!window.open(in.now())) {
      return new SetPlan(null, window, List.of(), 0, maxPods, null);
    }
    Set<String> captured = capturedPods(in.children());
    List<String> candidates =
        in.pods().stream()
            .filter(p -> !p.terminating() && !captured.contains(p.name()))
            .sorted(
                Comparator.comparing(
                        MatchedPod::created, Comparator.nullsLast(Comparator.naturalOrder()))
                    .thenComparing(MatchedPod::name))
            .map(MatchedPod::name)
            .toList();
    int made = Math.max(in.madeBefore(), in.children().size());
    int room = Math.max(0, maxPods - made);
    List<String> toCapture = candidates.subList(0, Math.min(room, candidates.size()));
    Duration lookAgain =
        window.end() == null ? null : Duration.between(in.now(), window.end()).plusMillis(100);
    return new SetPlan(
        null,
        window,
        List.copyOf(toCapture),
        candidates.size() - toCapture.size(),
        maxPods,
        lookAgain);
  }

  /**
   * The set's status after the pass: {@code made} are the children it created, {@code unscheduled}
   * the Pods it could not make one for yet because they have no node.
   */
  public static PodCaptureSetStatus status(
      SetInputs in, SetPlan plan, List<PodCapture> made, List<String> unscheduled) {
    PodCaptureSet set = in.set();
    PodCaptureSetStatus old = set.getStatus();
    PodCaptureSetStatus status = new PodCaptureSetStatus();
    List<PodCapture> children = new ArrayList<>(in.children());
    children.addAll(made);
    count(children, status);
    status.setMatchedPods(in.pods().size());
    if (!plan.isInvalid() && !plan.window().open(in.now()) && old != null) {
      // The Pod watch stops with the window: the count stays as it was when the window closed.
      status.setMatchedPods(old.getMatchedPods());
    }
    status.setCapturedPods(Math.max(in.madeBefore(), in.children().size()) + made.size());
    status.setObservedGeneration(set.getMetadata().getGeneration());
    Instant now = in.now();
    if (plan.isInvalid()) {
      status.setPhase(Names.PHASE_FAILED);
      status.setPodsOverMaxPods(0);
      status.setMessage(plan.invalid());
      status.setConditions(ready(old, false, Names.REASON_INVALID_SPEC, plan.invalid(), now));
      return status;
    }
    SetWindow window = plan.window();
    status.setStartTime(seconds(window.start()));
    status.setWindowEnd(window.end() == null ? null : seconds(window.end()));
    status.setPodsOverMaxPods(plan.podsOverMaxPods());
    int captured = status.getCapturedPods();
    String where = onNodes(status.getNodeCount());
    if (window.open(now)) {
      status.setPhase(Names.PHASE_RUNNING);
      StringBuilder m =
          new StringBuilder(
              captured
                  + " of "
                  + status.getMatchedPods()
                  + " matching Pods captured"
                  + where
                  + " (maxPods "
                  + plan.maxPods()
                  + (maxPods(set.getSpec()) > plan.maxPods()
                      ? ", lowered from "
                          + maxPods(set.getSpec())
                          + " to this cluster's cap, set by the admin in "
                          + SetConfig.ENV_MAX_PODS_CAP
                      : "")
                  + ")");
      if (plan.podsOverMaxPods() > 0) {
        m.append("; maxPods reached: ")
            .append(plan.podsOverMaxPods())
            .append(plan.podsOverMaxPods() == 1 ? " Pod" : " Pods")
            .append(" left out");
      }
      if (!unscheduled.isEmpty()) {
        m.append("; waiting for ")
            .append(String.join(", ", unscheduled))
            .append(" to be scheduled");
      }
      m.append(
          window.end() == null
              ? "; runs until deleted"
              : "; the window closes at " + seconds(window.end()));
      status.setMessage(m.toString());
      status.setConditions(ready(old, true, REASON_WINDOW_OPEN, status.getMessage(), now));
    } else {
      status.setPhase(Names.PHASE_COMPLETED);
      status.setMessage(
          "the window closed at "
              + seconds(window.end())
              + "; "
              + captured
              + (captured == 1 ? " Pod" : " Pods")
              + " captured"
              + where
              + "; children keep their files until they or the set are deleted");
      status.setConditions(ready(old, false, REASON_WINDOW_CLOSED, status.getMessage(), now));
    }
    return status;
  }

  /** The Events that tell a user what changed from {@code old} to {@code now}. */
  public static List<SetEvent> events(PodCaptureSetStatus old, PodCaptureSetStatus now) {
    List<SetEvent> events = new ArrayList<>();
    String oldPhase = old == null ? null : old.getPhase();
    if (Names.PHASE_FAILED.equals(now.getPhase())) {
      if (!Objects.equals(oldPhase, now.getPhase())
          || !Objects.equals(old.getMessage(), now.getMessage())) {
        events.add(new SetEvent(true, Names.REASON_INVALID_SPEC, now.getMessage()));
      }
      return events;
    }
    if ((old == null || old.getStartTime() == null) && now.getStartTime() != null) {
      events.add(
          new SetEvent(
              false,
              EVENT_STARTED,
              now.getWindowEnd() == null
                  ? "capturing matching Pods until the set is deleted"
                  : "capturing matching Pods until " + now.getWindowEnd()));
    }
    int before = old == null || old.getPodsOverMaxPods() == null ? 0 : old.getPodsOverMaxPods();
    if (before == 0 && now.getPodsOverMaxPods() != null && now.getPodsOverMaxPods() > 0) {
      events.add(
          new SetEvent(
              true,
              EVENT_MAX_PODS_REACHED,
              "maxPods reached with "
                  + now.getCapturedPods()
                  + " Pods captured: "
                  + now.getPodsOverMaxPods()
                  + " matching Pods are not captured"));
    }
    if (Names.PHASE_COMPLETED.equals(now.getPhase()) && !Names.PHASE_COMPLETED.equals(oldPhase)) {
      events.add(new SetEvent(false, EVENT_COMPLETED, now.getMessage()));
    }
    return events;
  }

  /** Why the set is refused, or null: every check a user can fix in the spec or the name. */
  static String invalid(PodCaptureSet set, int cap) {
    String name = set.getMetadata().getName();
    if (name.length() > MAX_LABEL_VALUE) {
      return "the set's name is "
          + name.length()
          + " characters long; its children carry it in the label "
          + Names.LABEL_SET
          + ", whose values take at most "
          + MAX_LABEL_VALUE
          + ": use a shorter name";
    }
    PodCaptureSetSpec spec = set.getSpec();
    if (spec == null) {
      return "the set has no spec: give spec.selector";
    }
    if (SetSelector.parse(spec.getSelector()) instanceof SetSelector.Invalid bad) {
      return bad.message();
    }
    int maxPods = maxPods(spec);
    if (maxPods < 1) {
      return "spec.maxPods is " + maxPods + ": at least 1 is needed";
    }
    return null;
  }

  static int maxPods(PodCaptureSetSpec spec) {
    return spec.getMaxPods() == null ? PodCaptureSetSpec.DEFAULT_MAX_PODS : spec.getMaxPods();
  }

  /** The window: it starts when the set was first seen valid (the status keeps that time). */
  static SetWindow window(PodCaptureSet set, Instant now) {
    Instant start = now.truncatedTo(ChronoUnit.SECONDS);
    PodCaptureSetStatus status = set.getStatus();
    if (status != null && status.getStartTime() != null) {
      try {
        start = Instant.parse(status.getStartTime());
      } catch (DateTimeParseException e) {
        // A status someone else wrote: start the window now rather than fail the set.
      }
    }
    Integer duration = set.getSpec().getDurationSeconds();
    return new SetWindow(start, duration == null ? null : start.plusSeconds(duration));
  }

  /** Pods that have a child already. */
  static Set<String> capturedPods(List<PodCapture> children) {
    Set<String> pods = new HashSet<>();
    for (PodCapture child : children) {
      if (child.getSpec() != null && child.getSpec().getPodName() != null) {
        pods.add(child.getSpec().getPodName());
      }
    }
    return pods;
  }

  /** Counts children by phase, nodes, bytes and those waiting on a full node. */
  private static void count(List<PodCapture> children, PodCaptureSetStatus status) {
    int pending = 0;
    int running = 0;
    int completed = 0;
    int failed = 0;
    int onFullNodes = 0;
    long bytes = 0;
    Set<String> nodes = new TreeSet<>();
    for (PodCapture child : children) {
      PodCaptureStatus s = child.getStatus();
      String phase = s == null || s.getPhase() == null ? Names.PHASE_PENDING : s.getPhase();
      switch (phase) {
        case Names.PHASE_RUNNING -> running++;
        case Names.PHASE_COMPLETED -> completed++;
        case Names.PHASE_FAILED -> failed++;
        default -> {
          pending++;
          if (waitingOnFullNode(s)) {
            onFullNodes++;
          }
        }
      }
      if (s != null && s.getTotalBytes() != null) {
        bytes += s.getTotalBytes();
      }
      String node = s != null && s.getNode() != null ? s.getNode() : nodeLabel(child);
      if (node != null) {
        nodes.add(node);
      }
    }
    status.setChildren(new SetChildren(pending, running, completed, failed));
    status.setPodsOnFullNodes(onFullNodes);
    status.setBytes(bytes);
    status.setNodes(List.copyOf(nodes));
    status.setNodeCount(nodes.size());
  }

  private static boolean waitingOnFullNode(PodCaptureStatus s) {
    if (s == null || s.getConditions() == null) {
      return false;
    }
    return s.getConditions().stream()
        .filter(c -> Names.CONDITION_READY.equals(c.getType()))
        .anyMatch(
            c ->
                Names.REASON_WAITING_FOR_SLOT.equals(c.getReason())
                    || Names.REASON_WAITING_FOR_DISK.equals(c.getReason()));
  }

  private static String nodeLabel(PodCapture child) {
    return child.getMetadata().getLabels() == null
        ? null
        : child.getMetadata().getLabels().get(Names.LABEL_NODE);
  }

  private static String onNodes(int nodes) {
    return nodes == 0 ? "" : " on " + nodes + (nodes == 1 ? " node" : " nodes");
  }

  private static String seconds(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /**
   * The Ready condition; its lastTransitionTime is kept unless its status flips (as Keycloak's
   * conditions do), so a status rewritten with new counts does not look like a new transition.
   */
  private static List<Condition> ready(
      PodCaptureSetStatus old, boolean ready, String reason, String message, Instant now) {
    String status = ready ? "True" : "False";
    String since = seconds(now);
    if (old != null && old.getConditions() != null) {
      for (Condition c : old.getConditions()) {
        if (Names.CONDITION_READY.equals(c.getType())
            && status.equals(c.getStatus())
            && c.getLastTransitionTime() != null) {
          since = c.getLastTransitionTime();
        }
      }
    }
    return List.of(
        new ConditionBuilder()
            .withType(Names.CONDITION_READY)
            .withStatus(status)
            .withReason(reason)
            .withMessage(message)
            .withLastTransitionTime(since)
            .build());
  }
}
