package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.podcapture.AgentConfig;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.RingFile;
import io.podcapture.controller.CaptureState.BackingOff;
import io.podcapture.controller.CaptureState.Completed;
import io.podcapture.controller.CaptureState.Failed;
import io.podcapture.controller.CaptureState.Running;
import io.podcapture.controller.CaptureState.Waiting;
import io.podcapture.controller.Plan.Action;
import io.podcapture.controller.Plan.Note;
import io.podcapture.testing.AgentEnvironment;
import io.podcapture.testing.PodCaptureBuilder;
import io.podcapture.testing.Pods;
import io.podcapture.testing.SnapshotBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decisions of one pass, called directly: in-memory PodCapture, Pod, state, snapshot and
 * budget, a fixed clock, and the exact actions, state, status and Events each starting point leads
 * to.
 */
class CaptureDecisionTest {
  private static final Instant NOW = Instant.parse("2026-01-01T10:00:00Z");
  private static final CaptureKey WEB = new CaptureKey("default", "web");
  private static final CaptureKey TLS = new CaptureKey("default", "tls-only");
  private static final NodeBudget.View ROOM = (key, files, size) -> NodeBudget.Verdict.FITS;

  private static AgentConfig config(String... env) {
    // The product's status refresh (10 s), not the kit's 1 s: the plans' requeue times are
    // asserted.
    Map<String, String> overrides =
        new HashMap<>(
            Map.of("MAX_FILES", "64", "MAX_RESTARTS", "3", "STATUS_REFRESH_SECONDS", "10"));
    for (int i = 0; i < env.length; i += 2) {
      overrides.put(env[i], env[i + 1]);
    }
    return AgentConfig.fromEnvironment(AgentEnvironment.of(null, overrides));
  }

  private static final CaptureDecision DECIDE = new CaptureDecision(config());

  /** The annotation's PodCapture of Pod web, as the mirror makes it. */
  private static PodCapture annotationCapture(int maxFiles) {
    return PodCaptureBuilder.ofAnnotation("web", "node-a", maxFiles)
        .stored("web-uid", 1L, "10")
        .build();
  }

  /** A PodCapture created directly, labelled with node-a, no finalizer yet. */
  private static PodCapture direct(String name, String pod) {
    return PodCaptureBuilder.direct(name, pod)
        .stored(name + "-uid", 1L, "10")
        .node("node-a")
        .build();
  }

  private static PodCapture withFinalizer(PodCapture cr) {
    cr.getMetadata().setFinalizers(List.of(Names.FINALIZER));
    return cr;
  }

  private static Pod web(String annotation) {
    return Pods.running("default", "web", "node-a", annotation, "10.1.0.5");
  }

  private static Inputs in(PodCapture cr, Pod pod) {
    return new Inputs(cr, pod, null, null, ROOM, false, NOW);
  }

  private static Inputs in(PodCapture cr, Pod pod, CaptureState state, CaptureSnapshot snapshot) {
    return new Inputs(cr, pod, state, snapshot, ROOM, false, NOW);
  }

  private static CaptureRequest request(CaptureKey key, int files) {
    return new CaptureRequest(key, List.of("10.1.0.5"), files, 1);
  }

  private static CaptureSnapshot running(CaptureRequest request) {
    return SnapshotBuilder.of(request)
        .startedAt(NOW.minusSeconds(30))
        .files(files(request.key()))
        .build();
  }

  private static List<RingFile> files(CaptureKey key) {
    String name = "capture-" + key.name() + ".pcap0";
    return List.of(new RingFile(name, Path.of("/capture/default", name), 4096, false));
  }

  private static CaptureSnapshot exited(CaptureRequest request, int restarts) {
    return SnapshotBuilder.of(request)
        .startedAt(NOW.minusSeconds(30))
        .files(files(request.key()))
        .exited(1, "tcpdump: pcap_loop: The interface went down")
        .restarts(restarts)
        .build();
  }

  private static CaptureSnapshot completed(CaptureRequest request) {
    return SnapshotBuilder.of(request)
        .startedAt(NOW.minusSeconds(3))
        .files(files(request.key()))
        .completed()
        .build();
  }

  private static String reason(PodCaptureStatus status) {
    return status.getConditions().get(0).getReason();
  }

  private static PodCapture withStatus(PodCapture cr, PodCaptureStatus status) {
    cr.setStatus(status);
    return cr;
  }

  // --- starting

  @Test
  void directPodCaptureGetsTheFinalizerBeforeItsTcpdumpStarts() {
    PodCapture cr = direct("tls-only", "web");
    cr.getSpec().setFilter("tcp port 443");
    cr.getSpec().setDurationSeconds(60);
    cr.getSpec().setPacketCount(1000);
    cr.getSpec().setSnapLength(96);

    Plan plan = DECIDE.decide(in(cr, web(null)));

    assertEquals(
        List.of(
            new Action.AddFinalizer(),
            new Action.Start(
                new CaptureRequest(
                    TLS,
                    List.of("10.1.0.5"),
                    1,
                    1,
                    "tcp port 443",
                    1000,
                    Duration.ofSeconds(60),
                    96))),
        plan.actions());
    assertNull(plan.status(), "the status is decided again with the started capture");
  }

  @Test
  void annotationCaptureStartsWithTheAnnotationsFileCount() {
    Plan plan = DECIDE.decide(in(annotationCapture(5), web("5")));

    assertEquals(List.of(new Action.Start(request(WEB, 5))), plan.actions());
  }

  @Test
  void runningCaptureReportsRunningAndComesBackAfterTheRefreshInterval() {
    CaptureRequest request = request(WEB, 5);
    Plan plan =
        DECIDE.decide(in(annotationCapture(5), web("5"), new Running(request), running(request)));

    assertEquals(List.of(), plan.actions());
    assertEquals(new Running(request), plan.next());
    assertEquals("Running", plan.status().getPhase());
    assertEquals("node-a", plan.status().getNode());
    assertEquals("kube-system/agent-a", plan.status().getAgentPod());
    assertEquals(1, plan.status().getFileCount());
    assertEquals(Duration.ofSeconds(10), plan.requeueAfter());
    assertEquals(List.of(), plan.notes());
  }

  @Test
  void changedAnnotationRestartsTheCaptureWithTheNewFileCount() {
    CaptureRequest old = request(WEB, 5);
    Plan plan = DECIDE.decide(in(annotationCapture(5), web("7"), new Running(old), running(old)));

    assertEquals(List.of(new Action.Start(request(WEB, 7))), plan.actions());
  }

  @Test
  void biggerFilesInTheSpecRestartTheCaptureWithThem() {
    PodCapture cr = annotationCapture(5);
    cr.getSpec().setFileSizeMB(10);
    CaptureRequest old = request(WEB, 5);

    Plan plan = DECIDE.decide(in(cr, web("5"), new Running(old), running(old)));

    assertEquals(
        List.of(new Action.Start(new CaptureRequest(WEB, List.of("10.1.0.5"), 5, 10))),
        plan.actions());
  }

  @Test
  void theReadyConditionKeepsItsTransitionTimeWhileItStaysTrue() {
    CaptureRequest request = request(WEB, 5);
    PodCapture cr = annotationCapture(5);
    PodCaptureStatus first =
        DECIDE.decide(in(cr, web("5"), new Running(request), running(request))).status();
    withStatus(cr, first);
    CaptureSnapshot grown =
        SnapshotBuilder.of(request)
            .startedAt(NOW.minusSeconds(30))
            .files(
                List.of(
                    new RingFile(
                        "capture-web.pcap0",
                        Path.of("/capture/default/capture-web.pcap0"),
                        8192,
                        false)))
            .build();

    PodCaptureStatus later =
        DECIDE
            .decide(
                new Inputs(
                    cr, web("5"), new Running(request), grown, ROOM, false, NOW.plusSeconds(90)))
            .status();

    assertEquals(NOW.toString(), later.getConditions().get(0).getLastTransitionTime());
    assertEquals(8192L, later.getTotalBytes());
    assertEquals(
        DesiredStatus.Change.SIZES,
        DesiredStatus.compare(first, later),
        "only sizes: written at most once " + "per refresh interval");
  }

  @Test
  void podWithoutAnIpWaitsWithoutStarting() {
    Pod pod = Pods.running("default", "web", "node-a", "3");

    Plan plan = DECIDE.decide(in(annotationCapture(3), pod));

    assertEquals(List.of(), plan.actions());
    assertEquals("Pending", plan.status().getPhase());
    assertEquals(Names.REASON_WAITING_FOR_IP, reason(plan.status()));
  }

  // --- refused input

  @ParameterizedTest
  @ValueSource(
      strings = {
        "abc",
        "0",
        "-1",
        "1.5",
        "",
        "65",
        "+3",
        "5 files",
        "99999999999",
        "-w /etc/passwd",
        "../../etc",
        "\uff15",
        "5\n6",
        "5; rm -rf /"
      })
  void invalidAnnotationFailsWithoutStartingCapture(String value) {
    Plan plan = DECIDE.decide(in(annotationCapture(5), web(value)));

    assertEquals(List.of(), plan.actions());
    assertEquals("Failed", plan.status().getPhase());
    assertEquals(Names.REASON_INVALID_ANNOTATION, reason(plan.status()));
    assertTrue(
        plan.status().getMessage().contains("\"" + value.replace("\n", "\\x0a") + "\""),
        plan.status().getMessage());
    assertTrue(plan.status().getMessage().contains("from 1 to 64"), plan.status().getMessage());
    assertEquals(NOW.toString(), plan.status().getCompletionTime());
    assertEquals(
        List.of(new Note(true, Names.REASON_INVALID_ANNOTATION, plan.status().getMessage())),
        plan.notes());
  }

  @Test
  void validAnnotationTurnedInvalidStopsTheRunningCapture() {
    CaptureRequest request = request(WEB, 2);
    Plan plan =
        DECIDE.decide(in(annotationCapture(2), web("two"), new Running(request), running(request)));

    assertEquals(List.of(new Action.Remove(Names.REASON_INVALID_ANNOTATION)), plan.actions());
    assertNull(plan.next());
    assertEquals("Failed", plan.status().getPhase());
  }

  @Test
  void aWarningIsGivenOnceWhenTheReasonChangesNotOnEveryPass() {
    Plan first = DECIDE.decide(in(annotationCapture(5), web("abc")));
    PodCapture failed = withStatus(annotationCapture(5), first.status());

    Plan again = DECIDE.decide(in(failed, web("abc")));

    assertEquals(1, first.notes().size());
    assertEquals(List.of(), again.notes());
    assertEquals(
        DesiredStatus.Change.NONE, DesiredStatus.compare(failed.getStatus(), again.status()));
  }

  @Test
  void deniedNamespaceIsRefused() {
    PodCapture cr = withFinalizer(direct("dns", "coredns"));
    cr.getMetadata().setNamespace("kube-system");
    Pod pod = Pods.running("kube-system", "coredns", "node-a", null, "10.1.0.7");

    Plan plan = new CaptureDecision(config("DENY_NAMESPACES", "kube-system")).decide(in(cr, pod));

    assertEquals(List.of(), plan.actions());
    assertEquals(Names.REASON_NAMESPACE_DENIED, reason(plan.status()));
    assertTrue(plan.status().getMessage().contains("DENY_NAMESPACES"), plan.status().getMessage());
  }

  @Test
  void hostNetworkPodIsRefusedWithWhyAndHowToAllowIt() {
    Pod pod = web(null);
    pod.getSpec().setHostNetwork(true);

    Plan plan = DECIDE.decide(in(withFinalizer(direct("web", "web")), pod));

    assertEquals(List.of(), plan.actions());
    assertEquals("Failed", plan.status().getPhase());
    assertEquals(Names.REASON_HOST_NETWORK, reason(plan.status()));
    assertTrue(
        plan.status().getMessage().contains("all traffic of node node-a"),
        plan.status().getMessage());
    assertTrue(
        plan.status().getMessage().contains("ALLOW_HOST_NETWORK=true"), plan.status().getMessage());
    assertEquals(
        List.of(new Note(true, Names.REASON_HOST_NETWORK, plan.status().getMessage())),
        plan.notes());
  }

  @Test
  void hostNetworkPodIsCapturedWhenTheAgentAllowsIt() {
    Pod pod = web(null);
    pod.getSpec().setHostNetwork(true);

    Plan plan =
        new CaptureDecision(config("ALLOW_HOST_NETWORK", "true"))
            .decide(in(withFinalizer(direct("web", "web")), pod));

    assertEquals(List.of(new Action.Start(request(WEB, 1))), plan.actions());
  }

  @Test
  void moreFilesThanTheAgentAllowsFailsWithTheRange() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setMaxFiles(65);

    Plan plan = DECIDE.decide(in(cr, web(null)));

    assertEquals(Names.REASON_INVALID_SPEC, reason(plan.status()));
    assertEquals(
        "spec.maxFiles 65 is more than this agent allows: expected 1 to 64 (MAX_FILES)",
        plan.status().getMessage());
  }

  @Test
  void podCaptureWithoutAPodNameFails() {
    PodCapture cr = direct("nameless", "web");
    cr.setSpec(null);

    Plan plan = DECIDE.decide(in(cr, null));

    assertEquals(List.of(), plan.actions());
    assertEquals(Names.REASON_INVALID_SPEC, reason(plan.status()));
    assertTrue(
        plan.status().getMessage().startsWith("spec.podName is required"),
        plan.status().getMessage());
  }

  @Test
  void refusedFilterStaysFailedUntilTheSpecChanges() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setFilter("icmp and and");
    CaptureRequest request =
        new CaptureRequest(WEB, List.of("10.1.0.5"), 1, 1, "icmp and and", null, null, 0);
    Failed failed =
        new Failed(request, Names.REASON_INVALID_FILTER, "tcpdump: syntax error", false);

    Plan plan = DECIDE.decide(in(cr, web(null), failed, null));

    assertEquals(List.of(), plan.actions());
    assertEquals(failed, plan.next());
    assertEquals("Failed", plan.status().getPhase());
    assertEquals(Names.REASON_INVALID_FILTER, reason(plan.status()));
    assertEquals("tcpdump: syntax error", plan.status().getMessage());

    cr.getSpec().setFilter("icmp");
    Plan fixed = DECIDE.decide(in(cr, web(null), failed, null));
    assertEquals(
        List.of(
            new Action.Start(
                new CaptureRequest(WEB, List.of("10.1.0.5"), 1, 1, "icmp", null, null, 0))),
        fixed.actions());
  }

  // --- room on the node

  @Test
  void captureWithoutASlotWaitsAndIsRemembered() {
    NodeBudget.View full =
        (key, files, size) ->
            new NodeBudget.Verdict(
                false, true, Names.REASON_WAITING_FOR_SLOT, "waiting for a capture slot");
    Plan plan =
        DECIDE.decide(new Inputs(annotationCapture(1), web("1"), null, null, full, false, NOW));

    assertEquals(List.of(), plan.actions());
    assertEquals(
        new Waiting(Names.REASON_WAITING_FOR_SLOT, "waiting for a capture slot"), plan.next());
    assertEquals("Pending", plan.status().getPhase());
  }

  @Test
  void ringThatCanNeverFitFails() {
    NodeBudget.View small =
        (key, files, size) ->
            new NodeBudget.Verdict(false, false, Names.REASON_TOO_LARGE, "too large");
    Plan plan =
        DECIDE.decide(new Inputs(annotationCapture(6), web("6"), null, null, small, false, NOW));

    assertEquals(List.of(), plan.actions());
    assertEquals("Failed", plan.status().getPhase());
    assertEquals(Names.REASON_TOO_LARGE, reason(plan.status()));
  }

  // --- tcpdump ends on its own

  @Test
  void crashedTcpdumpIsReportedThenRestartedAfterTheBackoff() {
    CaptureRequest request = request(WEB, 5);
    Plan waiting =
        DECIDE.decide(in(annotationCapture(5), web("5"), new Running(request), exited(request, 0)));

    assertEquals(List.of(), waiting.actions());
    BackingOff backoff = assertInstanceOf(BackingOff.class, waiting.next());
    assertEquals(NOW.plusSeconds(1), backoff.retryAt());
    assertEquals("Pending", waiting.status().getPhase());
    assertEquals(Names.REASON_TCPDUMP_EXITED, reason(waiting.status()));
    assertEquals(
        "tcpdump exited with code 1: tcpdump: pcap_loop: The interface went down; restart 1 of 3 in 1s",
        waiting.status().getMessage());
    assertEquals(Duration.ofSeconds(1), waiting.requeueAfter());
    assertEquals(1, waiting.notes().size());

    Plan restart =
        DECIDE.decide(
            new Inputs(
                annotationCapture(5),
                web("5"),
                backoff,
                exited(request, 0),
                ROOM,
                false,
                NOW.plusSeconds(1)));
    assertEquals(List.of(new Action.Start(request)), restart.actions());
  }

  @Test
  void theBackoffDoublesWithEachRestart() {
    CaptureRequest request = request(WEB, 5);
    Plan plan = DECIDE.decide(in(annotationCapture(5), web("5"), null, exited(request, 2)));

    assertEquals(NOW.plusSeconds(4), ((BackingOff) plan.next()).retryAt());
  }

  @Test
  void crashLoopGivesUpAfterMaxRestartsKeepingTheFiles() {
    CaptureRequest request = request(WEB, 5);
    Plan plan = DECIDE.decide(in(annotationCapture(5), web("5"), null, exited(request, 3)));

    assertEquals(List.of(new Action.Park(5, 1)), plan.actions());
    assertEquals(Names.REASON_GAVE_UP, reason(plan.status()));
    assertTrue(
        plan.status()
            .getMessage()
            .endsWith(
                "gave up after 3 restarts (MAX_RESTARTS); remove and re-add the "
                    + "annotation to try again"),
        plan.status().getMessage());
    assertEquals(1, plan.status().getFileCount());
  }

  @Test
  void failedStartIsNotTriedAgainBeforeItsBackoff() {
    CaptureRequest request = request(WEB, 1);
    BackingOff backoff =
        new BackingOff(
            request,
            1,
            NOW.plusSeconds(2),
            true,
            "tcpdump could not start: x; retrying " + "in 2s (attempt 1 of 4)");

    Plan plan = DECIDE.decide(in(withFinalizer(direct("web", "web")), web(null), backoff, null));

    assertEquals(List.of(), plan.actions());
    assertEquals("Pending", plan.status().getPhase());
    assertEquals(Names.REASON_START_FAILED, reason(plan.status()));
    assertEquals(Duration.ofSeconds(2), plan.requeueAfter());
  }

  @Test
  void fullDiskHaltsTheCaptureAndKeepsItsFiles() {
    CaptureRequest request = request(WEB, 2);
    CaptureSnapshot full =
        SnapshotBuilder.of(request)
            .startedAt(NOW)
            .files(files(WEB))
            .storageProblem("no space left in capture folder /capture/default (0 bytes free)")
            .build();

    Plan plan = DECIDE.decide(in(annotationCapture(2), web("2"), new Running(request), full));

    assertEquals(List.of(new Action.StopKeepingFiles(), new Action.Park(2, 1)), plan.actions());
    assertEquals(Names.REASON_DISK_FULL, reason(plan.status()));
    assertEquals(1, plan.status().getFileCount());
  }

  // --- completion and TTL

  @Test
  void captureThatEndsAsAskedIsCompletedKeepsItsFilesAndFreesItsSlot() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setDurationSeconds(3);
    CaptureRequest request =
        new CaptureRequest(WEB, List.of("10.1.0.5"), 1, 1, null, null, Duration.ofSeconds(3), 0);

    Plan plan = DECIDE.decide(in(cr, web(null), new Running(request), completed(request)));

    assertEquals(List.of(new Action.Park(1, 1)), plan.actions());
    assertEquals(new Completed(1L, NOW.toString()), plan.next());
    assertEquals("Completed", plan.status().getPhase());
    assertEquals(NOW.toString(), plan.status().getCompletionTime());
    assertEquals(
        List.of("/capture/default/capture-web.pcap0"),
        plan.status().getFiles().stream().map(f -> f.getPath()).toList());
    assertEquals(
        List.of(new Note(false, Names.REASON_COMPLETED, plan.status().getMessage())), plan.notes());
    assertTrue(
        plan.status().getMessage().contains("durationSeconds 3"), plan.status().getMessage());
  }

  @Test
  void completedCaptureIsNotStartedAgainByAPodUpdate() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setPacketCount(10);
    Pod moved = Pods.running("default", "web", "node-a", null, "10.1.0.99");

    Plan plan = DECIDE.decide(in(cr, moved, new Completed(1L, NOW.toString()), null));

    assertEquals(List.of(), plan.actions());
    assertEquals("Completed", plan.status().getPhase());
  }

  @Test
  void completedCaptureIsNotStartedAgainAfterAnAgentRestart() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setPacketCount(10);
    CaptureRequest request = new CaptureRequest(WEB, List.of("10.1.0.5"), 1, 1, null, 10, null, 0);
    PodCaptureStatus done = DECIDE.decide(in(cr, web(null), null, completed(request))).status();
    withStatus(cr, done);

    // A new agent: nothing in memory, nothing in the capture layer, only the status and the files
    // on disk.
    Plan plan =
        DECIDE.decide(new Inputs(cr, web(null), null, null, ROOM, false, NOW.plusSeconds(600)));

    assertEquals(
        List.of(new Action.Park(1, 1)), plan.actions(), "its files keep their disk budget");
    assertEquals(new Completed(1L, NOW.toString()), plan.next());
    assertEquals(
        DesiredStatus.Change.NONE, DesiredStatus.compare(done, plan.status()), "nothing to write");
  }

  @Test
  void completedCaptureKeepsItsFilesWhenItsPodGoes() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setDurationSeconds(3);

    Plan plan = DECIDE.decide(in(cr, null, new Completed(1L, NOW.toString()), null));

    assertEquals(List.of(), plan.actions(), "no stop, no hand-back");
    assertEquals("Completed", plan.status().getPhase());
  }

  @Test
  void changingTheSpecOfACompletedCaptureStartsANewRun() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setPacketCount(20);
    cr.getMetadata().setGeneration(2L);

    Plan plan = DECIDE.decide(in(cr, web(null), new Completed(1L, NOW.toString()), null));

    assertEquals(
        List.of(
            new Action.Start(
                new CaptureRequest(WEB, List.of("10.1.0.5"), 1, 1, null, 20, null, 0))),
        plan.actions());
  }

  @Test
  void finishedCaptureWithATtlComesBackWhenItRunsOutAndIsThenDeleted() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setTtlSecondsAfterFinished(60);
    Completed done = new Completed(1L, NOW.minusSeconds(20).toString());

    Plan early = DECIDE.decide(in(cr, web(null), done, null));
    assertEquals(List.of(), early.actions());
    assertEquals(Duration.ofSeconds(40), early.requeueAfter());

    Plan due =
        DECIDE.decide(new Inputs(cr, web(null), done, null, ROOM, false, NOW.plusSeconds(40)));
    assertEquals(List.of(new Action.Delete()), due.actions());
    assertNull(due.status());
  }

  @Test
  void captureCompletingWithAZeroTtlIsDeletedAtOnce() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setPacketCount(10);
    cr.getSpec().setTtlSecondsAfterFinished(0);
    CaptureRequest request = new CaptureRequest(WEB, List.of("10.1.0.5"), 1, 1, null, 10, null, 0);

    Plan plan = DECIDE.decide(in(cr, web(null), new Running(request), completed(request)));

    assertEquals(List.of(new Action.Park(1, 1), new Action.Delete()), plan.actions());
    assertNull(plan.status());
  }

  @Test
  void failedCaptureWithATtlIsDeletedFromItsStatusCompletionTime() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setTtlSecondsAfterFinished(0);
    cr.getSpec().setMaxFiles(65);

    Plan plan = DECIDE.decide(in(cr, web(null)));

    assertEquals(List.of(new Action.Delete()), plan.actions());
  }

  // --- the end of a capture

  @Test
  void podCaptureDeletedByTheUserStopsRemovesTheAnnotationAndReleasesTheFinalizer() {
    PodCapture cr = annotationCapture(5);
    cr.getMetadata().setDeletionTimestamp(NOW.toString());
    CaptureRequest request = request(WEB, 5);

    Plan plan = DECIDE.decide(in(cr, web("5"), new Running(request), running(request)));

    assertEquals(
        List.of(
            new Action.Remove(Names.REASON_CR_DELETED),
            new Action.RemoveAnnotation(),
            new Action.RemoveFinalizer()),
        plan.actions());
    assertNull(plan.status());
  }

  @Test
  void podCaptureTheAgentDeletedLeavesTheAnnotationAlone() {
    PodCapture cr = annotationCapture(5);
    cr.getMetadata().setDeletionTimestamp(NOW.toString());

    Plan plan = DECIDE.decide(new Inputs(cr, web("5"), null, null, ROOM, true, NOW));

    assertEquals(
        List.of(new Action.Remove(Names.REASON_CR_DELETED), new Action.RemoveFinalizer()),
        plan.actions());
  }

  @Test
  void deletedDirectPodCaptureNeverTouchesThePod() {
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getMetadata().setDeletionTimestamp(NOW.toString());

    Plan plan = DECIDE.decide(in(cr, web("5")));

    assertEquals(
        List.of(new Action.Remove(Names.REASON_CR_DELETED), new Action.RemoveFinalizer()),
        plan.actions());
  }

  @Test
  void removedAnnotationStopsTheCaptureAndLeavesTheDeleteToTheMirror() {
    CaptureRequest request = request(WEB, 5);
    Plan plan =
        DECIDE.decide(in(annotationCapture(5), web(null), new Running(request), running(request)));

    assertEquals(List.of(new Action.Remove(Names.STOP_ANNOTATION_REMOVED)), plan.actions());
    assertNull(plan.status());
  }

  @Test
  void directPodCaptureWhosePodIsNotOnThisNodeAndNeverRanHereIsHandedBack() {
    Plan plan = DECIDE.decide(in(direct("web", "web"), null));

    assertEquals(List.of(new Action.Unclaim()), plan.actions());
    assertNull(plan.status(), "the cluster controller writes its status");
    assertNull(plan.next());
  }

  @Test
  void directPodCaptureThatOnlyWaitedForRoomHereIsForgottenAndHandedBack() {
    Plan plan =
        DECIDE.decide(
            in(
                direct("web", "web"),
                null,
                new Waiting(Names.REASON_WAITING_FOR_SLOT, "full"),
                null));

    assertEquals(
        List.of(new Action.Remove(Names.STOP_POD_GONE), new Action.Unclaim()), plan.actions());
  }

  // --- a Pod deleted while its direct or set-child capture runs

  private static final String POD_DELETED_MESSAGE =
      "Pod web was deleted while the capture ran; tcpdump was stopped and its 1 file(s) are kept"
          + " until the PodCapture is deleted";

  @Test
  void directPodCaptureWhosePodIsDeletedWhileItRunsEndsCompletedKeepingItsFiles() {
    CaptureRequest request = request(WEB, 1);
    Plan plan =
        DECIDE.decide(
            in(withFinalizer(direct("web", "web")), null, new Running(request), running(request)));

    assertEquals(List.of(new Action.StopKeepingFiles(), new Action.Park(1, 1)), plan.actions());
    assertEquals(new Completed(1L, NOW.toString(), Names.REASON_POD_DELETED), plan.next());
    assertEquals(Names.PHASE_COMPLETED, plan.status().getPhase());
    assertEquals(Names.REASON_POD_DELETED, reason(plan.status()));
    assertEquals(POD_DELETED_MESSAGE, plan.status().getMessage());
    assertEquals(NOW.toString(), plan.status().getCompletionTime());
    assertEquals(1, plan.status().getFileCount());
    assertEquals(
        List.of(new Note(false, Names.REASON_POD_DELETED, POD_DELETED_MESSAGE)), plan.notes());
    assertNull(plan.requeueAfter(), "kept until the PodCapture is deleted");
  }

  @Test
  void aPodBeingDeletedEndsItsRunningDirectCaptureTheSameWay() {
    Pod pod = web(null);
    pod.getMetadata().setDeletionTimestamp(NOW.minusSeconds(1).toString());
    CaptureRequest request = request(WEB, 1);

    Plan plan =
        DECIDE.decide(
            in(withFinalizer(direct("web", "web")), pod, new Running(request), running(request)));

    assertEquals(List.of(new Action.StopKeepingFiles(), new Action.Park(1, 1)), plan.actions());
    assertEquals(Names.REASON_POD_DELETED, reason(plan.status()));
  }

  @Test
  void aSetChildWhosePodIsDeletedWhileItRunsEndsCompletedKeepingItsFiles() {
    PodCapture child =
        PodCaptureBuilder.direct("web", "web")
            .stored("child-uid", 1L, "10")
            .node("node-a")
            .label(Names.LABEL_SET, "shop")
            .finalizer()
            .build();
    CaptureRequest request = request(WEB, 1);

    Plan plan = DECIDE.decide(in(child, null, new Running(request), running(request)));

    assertEquals(List.of(new Action.StopKeepingFiles(), new Action.Park(1, 1)), plan.actions());
    assertEquals(Names.REASON_POD_DELETED, reason(plan.status()));
  }

  @Test
  void aDirectCaptureBackingOffAfterACrashKeepsItsFilesWhenItsPodIsDeleted() {
    CaptureRequest request = request(WEB, 1);
    Plan plan =
        DECIDE.decide(
            in(
                withFinalizer(direct("web", "web")),
                null,
                new BackingOff(request, 1, NOW.plusSeconds(5), false, "exited"),
                exited(request, 1)));

    assertEquals(List.of(new Action.Park(1, 1)), plan.actions(), "nothing left to stop");
    assertEquals(Names.REASON_POD_DELETED, reason(plan.status()));
  }

  @Test
  void anEndedPodStillStopsADirectCaptureAndDeletesItsFiles() {
    Pod pod = web(null);
    pod.getStatus().setPhase("Succeeded");
    CaptureRequest request = request(WEB, 1);

    Plan plan =
        DECIDE.decide(
            in(withFinalizer(direct("web", "web")), pod, new Running(request), running(request)));

    assertEquals(List.of(new Action.Remove(Names.STOP_POD_TERMINATING)), plan.actions());
    assertEquals(Names.REASON_POD_TERMINATING, reason(plan.status()));
  }

  @Test
  void aCaptureEndedByItsPodsDeletionStaysSoAndTellsNoMore() {
    CaptureRequest request = request(WEB, 1);
    PodCapture cr = withFinalizer(direct("web", "web"));
    Plan first = DECIDE.decide(in(cr, null, new Running(request), running(request)));
    PodCapture written = withStatus(withFinalizer(direct("web", "web")), first.status());

    // The next pass, even with a Pod of that name back on the node.
    Plan again =
        DECIDE.decide(
            in(
                written,
                web(null),
                first.next(),
                SnapshotBuilder.from(running(request)).exited(143, "").build()));

    assertEquals(List.of(), again.actions());
    assertEquals(first.next(), again.next());
    assertEquals(first.status(), again.status());
    assertEquals(List.of(), again.notes());
  }

  @Test
  void afterAnAgentRestartTheStatusStillSaysThePodWasDeleted() {
    CaptureRequest request = request(WEB, 1);
    Plan first =
        DECIDE.decide(
            in(withFinalizer(direct("web", "web")), null, new Running(request), running(request)));
    PodCapture written = withStatus(withFinalizer(direct("web", "web")), first.status());

    Plan restarted = DECIDE.decide(in(written, null));

    assertEquals(List.of(new Action.Park(1, 1)), restarted.actions(), "its disk budget held again");
    assertEquals(first.status(), restarted.status());
    assertEquals(List.of(), restarted.notes());
  }

  @Test
  void aPodDeletedWhileTheAgentWasDownEndsTheCaptureFromItsStatus() {
    PodCaptureStatus runningStatus = new PodCaptureStatus();
    runningStatus.setPhase(Names.PHASE_RUNNING);
    runningStatus.setNode("node-a");
    runningStatus.setStartTime(NOW.minusSeconds(60).toString());
    runningStatus.setFileCount(1);
    runningStatus.setFiles(
        List.of(
            new io.podcapture.api.v1alpha1.CaptureFile(
                "capture-web.pcap", "/capture/default/capture-web.pcap", 10L)));
    PodCapture cr = withStatus(withFinalizer(direct("web", "web")), runningStatus);

    Plan plan = DECIDE.decide(in(cr, null));

    assertEquals(List.of(new Action.Park(1, 1)), plan.actions(), "not handed back: it ran here");
    assertEquals(Names.REASON_POD_DELETED, reason(plan.status()));
    assertEquals(runningStatus.getFiles(), plan.status().getFiles());
    assertEquals(runningStatus.getStartTime(), plan.status().getStartTime());
  }

  @Test
  void aCaptureEndedByItsPodsDeletionIsDeletedWhenItsTtlPasses() {
    CaptureRequest request = request(WEB, 1);
    PodCapture cr = withFinalizer(direct("web", "web"));
    cr.getSpec().setTtlSecondsAfterFinished(60);
    Plan first = DECIDE.decide(in(cr, null, new Running(request), running(request)));
    assertEquals(Duration.ofSeconds(60), first.requeueAfter());
    assertTrue(
        first.status().getMessage().endsWith("or its ttlSecondsAfterFinished (60s) passes"),
        first.status().getMessage());

    PodCapture written = withStatus(cr, first.status());
    Inputs later = new Inputs(written, null, first.next(), null, ROOM, false, NOW.plusSeconds(60));
    Plan expired = new CaptureDecision(config()).decide(later);

    assertTrue(expired.actions().contains(new Action.Delete()), expired.actions().toString());
    assertNull(expired.status());
  }

  @Test
  void annotationPodCaptureWhosePodWentOnlyStops() {
    CaptureRequest request = request(WEB, 5);
    Plan plan =
        DECIDE.decide(in(annotationCapture(5), null, new Running(request), running(request)));

    assertEquals(List.of(new Action.Remove(Names.STOP_POD_GONE)), plan.actions());
  }

  // --- the outcome of a start, decided in the same pass

  private static Inputs after(PodCapture cr, Pod pod, CaptureState state, StartOutcome started) {
    CaptureSnapshot now = started instanceof StartOutcome.Started s ? s.snapshot() : null;
    return new Inputs(cr, pod, state, now, ROOM, false, NOW, started);
  }

  @Test
  void aStartThatWorkedRunsAndTellsTheAnnotationsUserOnThePodOnce() {
    CaptureRequest request = request(WEB, 5);
    Plan plan =
        DECIDE.decide(
            after(
                annotationCapture(5), web("5"), null, new StartOutcome.Started(running(request))));

    assertEquals(new Running(request), plan.next());
    assertEquals(Names.PHASE_RUNNING, plan.status().getPhase());
    assertEquals(List.of(), plan.actions(), "no second start");
    assertEquals(
        List.of(
            new Note(
                false,
                Names.REASON_STARTED,
                "started capture into 5 x 1 MB files, filter: host 10.1.0.5",
                Plan.Where.POD)),
        plan.notes());
  }

  @Test
  void aDirectCapturesStartIsToldOnThePodCapture() {
    CaptureRequest request = request(WEB, 1);
    PodCapture cr = withFinalizer(direct("web", "web"));
    Plan plan =
        DECIDE.decide(
            new Inputs(
                cr,
                web(null),
                null,
                running(request),
                ROOM,
                false,
                NOW,
                new StartOutcome.Started(running(request))));

    assertEquals(Plan.Where.CAPTURE, plan.notes().get(0).where());
    assertEquals(Names.REASON_STARTED, plan.notes().get(0).reason());
  }

  @Test
  void aFilterTheCaptureLayerRefusedFailsAtOnceAndIsNotRetried() {
    Plan plan =
        DECIDE.decide(
            after(
                annotationCapture(5),
                web("5"),
                null,
                new StartOutcome.StartFailed(
                    io.podcapture.capture.CaptureException.Reason.InvalidFilter,
                    "tcpdump: syntax error")));

    assertInstanceOf(Failed.class, plan.next());
    assertEquals(Names.PHASE_FAILED, plan.status().getPhase());
    assertEquals(Names.REASON_INVALID_FILTER, reason(plan.status()));
    assertEquals(List.of(), plan.actions());
    assertNull(plan.requeueAfter());
  }

  @Test
  void aStartThatFailedBacksOffThenGivesUpAfterMaxRestartsPlusOneAttempts() {
    StartOutcome failed =
        new StartOutcome.StartFailed(
            io.podcapture.capture.CaptureException.Reason.TcpdumpFailed, "no such device");

    Plan first = DECIDE.decide(after(annotationCapture(5), web("5"), null, failed));

    BackingOff backoff = assertInstanceOf(BackingOff.class, first.next());
    assertEquals(1, backoff.attempts());
    assertTrue(backoff.startFailed());
    assertEquals(Duration.ofSeconds(1), first.requeueAfter());
    assertEquals(Names.PHASE_PENDING, first.status().getPhase());
    assertEquals(Names.REASON_START_FAILED, reason(first.status()));
    assertTrue(
        first.status().getMessage().contains("retrying in 1s (attempt 1 of 4)"),
        first.status().getMessage());

    BackingOff spent =
        new BackingOff(request(WEB, 5), 3, NOW.minusSeconds(1), true, backoff.message());
    Plan last = DECIDE.decide(after(annotationCapture(5), web("5"), spent, failed));

    Failed gaveUp = assertInstanceOf(Failed.class, last.next());
    assertEquals(Names.REASON_START_FAILED, gaveUp.reason());
    assertTrue(gaveUp.message().contains("gave up after 4 attempts"), gaveUp.message());
    assertEquals(Names.PHASE_FAILED, last.status().getPhase());
  }

  @Test
  void aStartThatFoundTheRoomTakenWaitsForIt() {
    NodeBudget.Verdict taken =
        new NodeBudget.Verdict(false, true, Names.REASON_WAITING_FOR_SLOT, "waiting for a slot");

    Plan plan =
        DECIDE.decide(after(annotationCapture(5), web("5"), null, new StartOutcome.NoRoom(taken)));

    assertEquals(new Waiting(Names.REASON_WAITING_FOR_SLOT, "waiting for a slot"), plan.next());
    assertEquals(Names.PHASE_PENDING, plan.status().getPhase());
    assertEquals(List.of(), plan.actions(), "no second start");
  }

  @Test
  void removingTheAnnotationStopsTheCaptureAndTellsThePod() {
    CaptureRequest request = request(WEB, 5);
    Plan plan =
        DECIDE.decide(in(annotationCapture(5), web(null), new Running(request), running(request)));

    assertEquals(List.of(new Action.Remove(Names.STOP_ANNOTATION_REMOVED)), plan.actions());
    assertNull(plan.next());
    assertEquals(
        List.of(
            new Note(
                false,
                Names.REASON_STOPPED,
                "capture stopped and files deleted: " + Names.STOP_ANNOTATION_REMOVED,
                Plan.Where.POD)),
        plan.notes());
  }
}
