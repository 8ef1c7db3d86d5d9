package io.podcapture.plugin;

import static io.podcapture.plugin.KubectlPluginTest.createCall;
import static io.podcapture.plugin.StandInKubectl.hostExecutable;
import static io.podcapture.plugin.StandInKubectl.writeExecutable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.podcapture.plugin.StandInKubectl.Result;
import io.podcapture.testing.NetnsPod;
import io.podcapture.testing.Pcap;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubectl podcapture stream}: which filter and agent Pod it uses, the capture it creates and
 * deletes, the program it runs in the agent Pod, and that nothing is left running after Ctrl-C or
 * once the reader has gone.
 *
 * <p>The stand-in kubectl runs {@code kubectl exec}'s command on this machine in a session of its
 * own (see {@link StandInKubectl}), with a PATH of its own ("the agent Pod's"): a fake tcpdump that
 * records its argv and writes or stays silent as told, or, in the real-capture tests, the real
 * tcpdump against a {@link NetnsPod}.
 */
@Tag("real-capture")
class KubectlPluginStreamTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AGENT = "kube-system/podcapture-agent-x7k2p";

  /** The watchdog the Dockerfile copies into the agent image. */
  private static final Path WATCHDOG_SOURCE =
      StandInKubectl.SCRIPT.resolveSibling("podcapture-watchdog");

  private static final List<String> EXEC =
      List.of("exec", "-i", "-n", "kube-system", "podcapture-agent-x7k2p", "-c", "agent", "--");
  private static final String FILTER =
      "(inbound and src host 10.244.1.7) or (outbound and dst host 10.244.1.7)";

  /**
   * A pcap file header: little-endian, version 2.4, snap length 262144, link type LINUX_SLL2 (276).
   */
  private static final byte[] PCAP_HEADER = {
    (byte) 0xd4,
    (byte) 0xc3,
    (byte) 0xb2,
    (byte) 0xa1,
    2,
    0,
    4,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    4,
    0,
    0x14,
    1,
    0,
    0
  };

  /**
   * The fake tcpdump: records argv and pid, writes tcpdump.out, then exits as told or stays silent.
   */
  private static final String FAKE_TCPDUMP =
      """
      #!/usr/bin/env bash
      printf '%s\\0' "$#" "$@" >>"$STUB_DIR/tcpdump.calls"
      echo $$ >>"$STUB_DIR/tcpdump.pids"
      cat "$STUB_DIR/tcpdump.out"
      read -r mode code <"$STUB_DIR/tcpdump.mode"
      if [[ $mode == silent ]]; then exec sleep 600; fi
      [[ ! -f $STUB_DIR/tcpdump.err ]] || cat "$STUB_DIR/tcpdump.err" >&2
      exit "$code"
      """;

  @TempDir Path tmp;
  private StandInKubectl kubectl;
  private Path stubDir;
  private Path imageBin;
  private final List<Process> started = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    kubectl = new StandInKubectl(tmp);
    stubDir = kubectl.stubDir;
    Path remote = Files.createDirectories(tmp.resolve("agent-pod-path"));
    for (String tool : List.of("bash", "cat", "perl", "sleep")) {
      Files.createSymbolicLink(remote.resolve(tool), hostExecutable(tool).orElseThrow());
    }
    writeExecutable(remote.resolve("tcpdump"), FAKE_TCPDUMP);
    // The agent image ships the watchdog in /usr/local/bin (see the Dockerfile): here, a folder of
    // its own on the "agent Pod's" PATH, so that the real-capture tests can put the real tcpdump
    // behind it.
    imageBin = Files.createDirectories(tmp.resolve("agent-image-bin"));
    Files.createSymbolicLink(
        imageBin.resolve("podcapture-watchdog"), WATCHDOG_SOURCE.toAbsolutePath());
    kubectl.env.put("REMOTE_PATH", imageBin + ":" + remote);
    Files.write(stubDir.resolve("tcpdump.out"), PCAP_HEADER);
    tcpdumpExits(0);
    kubectl.execRunsLocally(EXEC);
  }

  @AfterEach
  void tearDown() {
    started.forEach(p -> p.descendants().forEach(ProcessHandle::destroyForcibly));
    started.forEach(Process::destroyForcibly);
  }

  // ---------------------------------------------------------------- what runs in the agent Pod

  @Test
  void streamOfARunningCaptureRunsTcpdumpWithItsExactFilterThroughTheWatchdog() throws Exception {
    byte[] packets = pcapWithOnePacket();
    Files.write(stubDir.resolve("tcpdump.out"), packets);
    answerStatus("web", "default", "web", "Running", AGENT, "node-1", FILTER, "tcpdump is running");

    Result r = kubectl.run("stream", "web", "-n", "default");

    assertEquals(0, r.exit(), r.stderr());
    assertArrayEquals(packets, Files.readAllBytes(tmp.resolve("stdout")));
    List<List<String>> calls = kubectl.calls();
    assertEquals(List.of(statusCall("web", "default")), calls.subList(0, 1));
    assertEquals(2, calls.size(), calls.toString());
    assertExecOf(FILTER, calls.get(1));
    assertEquals(
        List.of(
            List.of(
                "-i",
                "any",
                "-n",
                "-U",
                "--immediate-mode",
                "-Z",
                "root",
                "-B",
                "4096",
                "-w",
                "-",
                "--",
                FILTER)),
        kubectl.calls("tcpdump.calls"));
    assertTrue(
        r.stderr()
            .contains(
                "Streaming Pod web from agent Pod " + AGENT + " on node node-1, filter: " + FILTER),
        r.stderr());
  }

  /**
   * The filter travels as one argument to tcpdump: no shell reads it, in the plugin or in the Pod.
   */
  @Test
  void aFilterWithShellSyntaxReachesTcpdumpAsOneUntouchedArgument() throws Exception {
    Path marker = tmp.resolve("marker");
    String filter =
        "host 10.0.0.1 and not port $(touch "
            + marker
            + ") ; touch "
            + marker
            + " `touch "
            + marker
            + "` \"'\n-w /etc/passwd";
    answerStatus("web", null, "web", "Running", AGENT, "node-1", filter, "");

    Result r = kubectl.run("stream", "web");

    assertEquals(0, r.exit(), r.stderr());
    List<String> tcpdump = kubectl.calls("tcpdump.calls").get(0);
    assertEquals(List.of("--", filter), tcpdump.subList(tcpdump.size() - 2, tcpdump.size()));
    assertFalse(Files.exists(marker));
  }

  @Test
  void streamOfAPodCreatesACaptureForItsFilterAndDeletesItBeforeStreaming() throws Exception {
    kubectl.on(statusCall("web", "prod")).prints("");
    kubectl.on(createCall("prod")).prints("podcapture.tcpdump.antrea.io/web-stream-abcde\n");
    answerStatus("web-stream-abcde", "prod", "web", "", "", "", "", "").once();
    answerStatus(
            "web-stream-abcde",
            "prod",
            "web",
            "Pending",
            "",
            "",
            "",
            "waiting for the Pod to get an IP")
        .once();
    answerStatus(
        "web-stream-abcde",
        "prod",
        "web",
        "Running",
        AGENT,
        "node-2",
        FILTER,
        "tcpdump is running");
    List<String> delete = deleteCall("web-stream-abcde", "prod");
    kubectl.on(delete).prints("");

    Result r = kubectl.run("stream", "web", "-n", "prod");

    assertEquals(0, r.exit(), r.stderr());
    List<List<String>> calls = kubectl.calls();
    assertEquals(
        List.of(
            statusCall("web", "prod"),
            createCall("prod"),
            statusCall("web-stream-abcde", "prod"),
            statusCall("web-stream-abcde", "prod"),
            statusCall("web-stream-abcde", "prod"),
            delete),
        calls.subList(0, 6));
    assertExecOf(FILTER, calls.get(6));
    assertEquals(7, calls.size(), calls.toString());
    assertEquals(
        new ObjectMapper()
            .readTree(
                """
        {"apiVersion":"tcpdump.antrea.io/v1alpha1","kind":"PodCapture","metadata":{"generateName":"web-stream-"},
         "spec":{"podName":"web","maxFiles":1,"fileSizeMB":1,"snapLength":96,"durationSeconds":30,
                 "ttlSecondsAfterFinished":60}}
        """),
        new ObjectMapper().readTree(kubectl.manifests().get(0)));
  }

  @Test
  void streamOfAFinishedCaptureStreamsItsPodThroughANewCapture() throws Exception {
    answerStatus(
        "web-x7k2p",
        null,
        "web",
        "Completed",
        AGENT,
        "node-1",
        "(" + FILTER + ") and (udp)",
        "done");
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/web-stream-abcde\n");
    answerStatus("web-stream-abcde", null, "web", "Running", AGENT, "node-1", FILTER, "");
    kubectl.on(deleteCall("web-stream-abcde", null)).prints("");

    Result r = kubectl.run("stream", "web-x7k2p");

    assertEquals(0, r.exit(), r.stderr());
    assertTrue(
        r.stderr()
            .contains(
                "note: capture web-x7k2p is Completed; streaming its Pod web through a new "
                    + "capture (without its --filter)"),
        r.stderr());
    assertEquals(FILTER, last(kubectl.calls("tcpdump.calls").get(0)));
  }

  @Test
  void streamWaitsForAPendingCaptureToRun() throws Exception {
    answerStatus("web-tls", null, "web", "Pending", "", "", "", "").once();
    answerStatus(
        "web-tls",
        null,
        "web",
        "Running",
        AGENT,
        "node-1",
        "(" + FILTER + ") and (tcp port 443)",
        "");

    Result r = kubectl.run("stream", "web-tls");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        "(" + FILTER + ") and (tcp port 443)", last(kubectl.calls("tcpdump.calls").get(0)));
  }

  @Test
  void streamReportsAFailedCaptureAndDeletesTheOneItCreated() throws Exception {
    kubectl.on(statusCall("web", null)).prints("");
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/web-stream-abcde\n");
    answerStatus("web-stream-abcde", null, "web", "Failed", "", "", "", "Pod web does not exist");
    kubectl.on(deleteCall("web-stream-abcde", null)).prints("");

    Result r = kubectl.run("stream", "web");

    assertEquals(1, r.exit());
    assertEquals("error: capture web-stream-abcde Failed: Pod web does not exist\n", r.stderr());
    assertEquals(deleteCall("web-stream-abcde", null), last(kubectl.calls()));
    assertEquals(List.of(), kubectl.calls("tcpdump.calls"));
  }

  @Test
  void streamGivesUpWhenNoAgentAnswersAndDeletesTheCaptureItCreated() throws Exception {
    kubectl.env.put("PODCAPTURE_START_TIMEOUT", "1");
    kubectl.on(statusCall("web", null)).prints("");
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/web-stream-abcde\n");
    answerStatus(
        "web-stream-abcde",
        null,
        "web",
        "Pending",
        "",
        "",
        "",
        "node node-9 runs no podcapture agent");
    kubectl.on(deleteCall("web-stream-abcde", null)).prints("");

    Result r = kubectl.run("stream", "web");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr()
            .startsWith(
                "error: capture web-stream-abcde is still Pending after 1s (node node-9 runs no "
                    + "podcapture agent): is the agent running on the Pod's node?"),
        r.stderr());
    assertEquals(deleteCall("web-stream-abcde", null), last(kubectl.calls()));
  }

  @Test
  void streamSaysWhichPermissionItNeedsWhenItCannotCreateACapture() throws Exception {
    kubectl.on(statusCall("web", null)).prints("");
    kubectl
        .on(createCall(null))
        .exitsWith(1, "Error from server (Forbidden): podcaptures is forbidden\n");

    Result r = kubectl.run("stream", "web");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr()
            .endsWith(
                "error: cannot create a PodCapture for Pod web (see kubectl's error above); "
                    + "stream needs create, get and delete on podcaptures\n"),
        r.stderr());
  }

  @Test
  void streamPassesOnTcpdumpsFailure() throws Exception {
    tcpdumpExits(1);
    Files.writeString(
        stubDir.resolve("tcpdump.err"), "tcpdump: any: You don't have permission to capture\n");
    answerStatus("web", null, "web", "Running", AGENT, "node-1", FILTER, "");

    Result r = kubectl.run("stream", "web");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("tcpdump: any: You don't have permission to capture"), r.stderr());
    assertTrue(
        r.stderr()
            .endsWith(
                "error: the stream from agent Pod "
                    + AGENT
                    + " ended with exit code 1: see "
                    + "tcpdump's or kubectl's message above (kubectl exec needs create on pods/exec in namespace kube-system)\n"),
        r.stderr());
  }

  /**
   * An agent image older than the plugin has no watchdog: the container runtime cannot run it, and
   * stream says why and what to do, after kubectl's own message.
   */
  @Test
  void streamSaysSoWhenTheAgentImageHasNoWatchdog() throws Exception {
    kubectl.env.put("REMOTE_PATH", tmp.resolve("agent-pod-path").toString());
    answerStatus("web", null, "web", "Running", AGENT, "node-1", FILTER, "");

    Result r = kubectl.run("stream", "web");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("exec: \"podcapture-watchdog\": executable file not found"),
        r.stderr());
    assertTrue(
        r.stderr()
            .endsWith(
                "error: agent Pod "
                    + AGENT
                    + " could not run podcapture-watchdog (exit code 126; kubectl's message is "
                    + "above): its image is older than this plugin, which needs the agent image's "
                    + "/usr/local/bin/podcapture-watchdog; update the agent, or use the plugin of the "
                    + "agent's release\n"),
        r.stderr());
    assertTrue(tcpdumpPids().isEmpty(), "no tcpdump ran without its watchdog");
  }

  /**
   * pcap on a terminal garbles it: stream says what to do instead, before asking kubectl anything.
   */
  @Test
  void streamRefusesToWritePcapToATerminal() throws Exception {
    Requirements.commands(
        "script"); // util-linux: runs the plugin with a terminal as its standard output
    ProcessBuilder pb =
        new ProcessBuilder(
                hostExecutable("script").orElseThrow().toString(),
                "-qec",
                "bash " + StandInKubectl.SCRIPT + " stream web",
                "/dev/null")
            .redirectErrorStream(true);
    pb.environment().putAll(kubectl.builder(List.of()).environment());
    pb.environment().put("SHELL", hostExecutable("bash").orElseThrow().toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));

    assertEquals(1, p.exitValue(), out);
    assertTrue(
        out.contains(
            "error: stream writes pcap: pipe it into a reader (| wireshark -k -i -, | tcpdump -nr -) "
                + "or into a file (> capture.pcap)"),
        out);
    assertEquals(List.of(), kubectl.calls());
  }

  /**
   * The canned status answers here have the shape of real kubectl's JSON where the plugin reads it.
   */
  @Test
  void cannedStatusAnswersHaveTheShapeOfRealKubectlJson() throws Exception {
    Requirements.commands(
        "kubectl"); // skips with a reason, fails under CI=true (.ci/run installs it)
    Path full =
        Files.writeString(
            tmp.resolve("full.yaml"),
            """
        apiVersion: tcpdump.antrea.io/v1alpha1
        kind: PodCapture
        metadata: {name: web-tls, namespace: default}
        spec: {podName: web, filter: "tcp port 443"}
        status:
          phase: Running
          node: node-1
          agentPod: kube-system/podcapture-agent-x7k2p
          filter: "((inbound and src host 10.244.1.7) or (outbound and dst host 10.244.1.7)) and (tcp port 443)"
          message: tcpdump is running
        """);
    Path empty =
        Files.writeString(
            tmp.resolve("empty.yaml"),
            """
        apiVersion: tcpdump.antrea.io/v1alpha1
        kind: PodCapture
        metadata: {name: web-stream-abcde, namespace: default}
        spec: {podName: web}
        """);

    List<String> streamReads =
        List.of(
            "/spec/podName",
            "/status/phase",
            "/status/agentPod",
            "/status/node",
            "/status/filter",
            "/status/message");
    KubectlPluginTest.assertSameAt(
        streamReads,
        JSON.readTree(KubectlPluginTest.render(full, "json")),
        streamStatus(
            "web-tls",
            "web",
            "Running",
            AGENT,
            "node-1",
            "((inbound and src host 10.244.1.7) or (outbound and dst host 10.244.1.7)) and (tcp port 443)",
            "tcpdump is running"));
    KubectlPluginTest.assertSameAt(
        streamReads,
        JSON.readTree(KubectlPluginTest.render(empty, "json")),
        streamStatus("web-stream-abcde", "web", "", "", "", "", ""));
  }

  // ---------------------------------------------------------------- nothing left running

  @Test
  void ctrlCWhileStreamingLeavesNothingRunningHereOrInTheAgentPod() throws Exception {
    tcpdumpStaysSilent();
    answerStatus("web", "default", "web", "Running", AGENT, "node-1", FILTER, "");
    Path out = tmp.resolve("stream.pcap");
    Process plugin =
        startStream(ProcessBuilder.Redirect.to(out.toFile()), "stream", "web", "-n", "default");
    await(
        Duration.ofSeconds(15), () -> size(out) == PCAP_HEADER.length, "the stream's first bytes");
    List<Long> remote = remoteProcesses();

    ctrlC(plugin);

    assertTrue(plugin.waitFor(10, TimeUnit.SECONDS), "plugin still running after Ctrl-C");
    assertEquals(130, plugin.exitValue(), stderr());
    assertNothingLeft(plugin.pid(), remote);
  }

  @Test
  void ctrlCWhileWaitingForTheAgentDeletesTheCaptureItCreated() throws Exception {
    kubectl.on(statusCall("web", null)).prints("");
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/web-stream-abcde\n");
    answerStatus("web-stream-abcde", null, "web", "Pending", "", "", "", "");
    kubectl.on(deleteCall("web-stream-abcde", null)).prints("");
    Process plugin =
        startStream(ProcessBuilder.Redirect.to(tmp.resolve("out").toFile()), "stream", "web");
    await(
        Duration.ofSeconds(15),
        () -> callsSoFar().contains(statusCall("web-stream-abcde", null)),
        "the plugin waiting for the agent");

    ctrlC(plugin);

    assertTrue(plugin.waitFor(10, TimeUnit.SECONDS), "plugin still running after Ctrl-C");
    assertEquals(130, plugin.exitValue(), stderr());
    assertEquals(deleteCall("web-stream-abcde", null), last(kubectl.calls()));
    assertNothingLeft(plugin.pid(), List.of());
  }

  @Test
  void sigtermWhileStreamingLeavesNothingRunning() throws Exception {
    tcpdumpStaysSilent();
    answerStatus("web", null, "web", "Running", AGENT, "node-1", FILTER, "");
    Path out = tmp.resolve("stream.pcap");
    Process plugin = startStream(ProcessBuilder.Redirect.to(out.toFile()), "stream", "web");
    await(
        Duration.ofSeconds(15), () -> size(out) == PCAP_HEADER.length, "the stream's first bytes");
    List<Long> remote = remoteProcesses();

    plugin.destroy(); // SIGTERM to the plugin alone, not to its group

    assertTrue(plugin.waitFor(10, TimeUnit.SECONDS), "plugin still running after SIGTERM");
    assertEquals(143, plugin.exitValue(), stderr());
    assertNothingLeft(plugin.pid(), remote);
  }

  /**
   * The reader goes away while the Pod is silent: nothing is written, so nothing would fail on a
   * write. The plugin notices the pipe has no reader and ends the stream, and the watchdog ends
   * tcpdump.
   */
  @Test
  void readerClosingWhileThePodIsSilentLeavesNothingRunning() throws Exception {
    tcpdumpStaysSilent();
    answerStatus("web", null, "web", "Running", AGENT, "node-1", FILTER, "");
    Process plugin = startStream(ProcessBuilder.Redirect.PIPE, "stream", "web");
    InputStream stream = plugin.getInputStream();
    assertArrayEquals(PCAP_HEADER, stream.readNBytes(PCAP_HEADER.length));
    List<Long> remote = remoteProcesses();

    stream.close();

    assertTrue(
        plugin.waitFor(10, TimeUnit.SECONDS), "plugin still running after its reader closed");
    assertEquals(0, plugin.exitValue(), stderr());
    assertTrue(stderr().endsWith("Stream ended: the reader closed it.\n"), stderr());
    assertNothingLeft(plugin.pid(), remote);
  }

  /**
   * The connection may die without closing (a node or network gone): the watchdog in the agent Pod
   * then sees no end of input, only the heartbeats stopping, and ends tcpdump after its limit. Here
   * the program stream sends is run directly, with a limit of 2 s, on an input the test keeps open.
   */
  @Test
  void watchdogEndsTcpdumpWhenHeartbeatsStopThoughTheInputStaysOpen() throws Exception {
    tcpdumpStaysSilent();
    List<String> remoteArgv = remoteArgvOfAStream();
    remoteArgv.set(1, "2");
    ProcessBuilder pb =
        new ProcessBuilder(remoteArgv)
            .redirectOutput(tmp.resolve("watchdog.out").toFile())
            .redirectError(tmp.resolve("watchdog.err").toFile());
    pb.environment().put("PATH", kubectl.env.get("REMOTE_PATH"));
    pb.environment().put("STUB_DIR", stubDir.toString());
    Files.delete(stubDir.resolve("tcpdump.pids"));
    Process watchdog = pb.start();
    started.add(watchdog);
    OutputStream heartbeats = watchdog.getOutputStream();
    await(
        Duration.ofSeconds(10),
        () -> Files.exists(stubDir.resolve("tcpdump.pids")),
        "tcpdump to start");
    long tcpdump = tcpdumpPids().get(0);

    for (int i = 0; i < 8; i++) { // 4 s of heartbeats, twice the limit: tcpdump keeps running
      heartbeats.write('.');
      heartbeats.flush();
      Thread.sleep(500);
    }
    assertTrue(Processes.alive(tcpdump), "tcpdump ended although the heartbeats came");
    long stopped = System.nanoTime();

    assertTrue(watchdog.waitFor(10, TimeUnit.SECONDS), "watchdog still running without heartbeats");
    double after = (System.nanoTime() - stopped) / 1e9;
    await(Duration.ofSeconds(5), () -> !Processes.alive(tcpdump), "tcpdump to end");
    assertTrue(after >= 1.5 && after < 5, "ended " + after + " s after the last heartbeat");
    heartbeats.close();
  }

  @Test
  void watchdogEndsTcpdumpAtTheEndOfItsInput() throws Exception {
    tcpdumpStaysSilent();
    List<String> remoteArgv = remoteArgvOfAStream();
    ProcessBuilder pb =
        new ProcessBuilder(remoteArgv)
            .redirectOutput(tmp.resolve("watchdog.out").toFile())
            .redirectError(tmp.resolve("watchdog.err").toFile());
    pb.environment().put("PATH", kubectl.env.get("REMOTE_PATH"));
    pb.environment().put("STUB_DIR", stubDir.toString());
    Files.delete(stubDir.resolve("tcpdump.pids"));
    Process watchdog = pb.start();
    started.add(watchdog);
    await(
        Duration.ofSeconds(10),
        () -> Files.exists(stubDir.resolve("tcpdump.pids")),
        "tcpdump to start");
    long tcpdump = tcpdumpPids().get(0);

    watchdog.getOutputStream().close();

    assertTrue(
        watchdog.waitFor(3, TimeUnit.SECONDS), "watchdog still running at the end of its input");
    await(Duration.ofSeconds(3), () -> !Processes.alive(tcpdump), "tcpdump to end");
  }

  // ---------------------------------------------------------------- real tcpdump

  /**
   * The whole way with the real tcpdump: the plugin, the stand-in's exec, the watchdog and tcpdump
   * on {@code -i any} with the Pod filter, against a network-namespace Pod pinging its host side.
   * The stream read back with {@code tcpdump -r} holds exactly the Pod's 5 echo requests and 5
   * replies.
   */
  @Test
  void realTcpdumpStreamsAValidPcapWithThePodsPackets() throws Exception {
    Requirements.realCapture();
    try (NetnsPod pod = NetnsPod.create()) {
      useRealTcpdump();
      String filter = podFilter(pod);
      answerStatus("web", null, "web", "Running", AGENT, "node-1", filter, "");
      Process plugin = startStream(ProcessBuilder.Redirect.PIPE, "stream", "web");
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      Thread reader = copyInBackground(plugin.getInputStream(), bytes);
      await(
          Duration.ofSeconds(20), () -> stderr().contains("listening on any"), "tcpdump to listen");

      assertEquals(5, pod.ping(NetnsPod.Ping.count(5).interval(Duration.ofMillis(100))).received());
      Path pcap = tmp.resolve("stream.pcap");
      await(
          Duration.ofSeconds(10),
          () -> echoes(snapshot(bytes, pcap)).size() >= 10,
          "the pings in the stream");
      List<Long> remote = Processes.withArgument(filter);
      assertEquals(
          1,
          remote.stream().filter(pid -> command(pid).startsWith("tcpdump")).count(),
          "tcpdumps: " + remote);
      ctrlC(plugin);
      assertTrue(plugin.waitFor(10, TimeUnit.SECONDS), "plugin still running after Ctrl-C");
      reader.join(5000);

      List<String> echoes = echoes(snapshot(bytes, pcap));
      assertEquals(10, echoes.size(), String.join("\n", Pcap.packets(pcap)));
      assertEquals(
          5,
          echoes.stream()
              .filter(
                  l ->
                      l.contains(pod.ipv4() + " > " + pod.hostIpv4()) && l.contains("echo request"))
              .count(),
          String.join("\n", echoes));
      assertEquals(
          5,
          echoes.stream()
              .filter(
                  l -> l.contains(pod.hostIpv4() + " > " + pod.ipv4()) && l.contains("echo reply"))
              .count(),
          String.join("\n", echoes));
      assertNothingLeft(plugin.pid(), remote);
      assertEquals(List.of(), Processes.withArgument(filter));
    }
  }

  /**
   * A silent Pod and a reader that leaves: the real tcpdump, which would notice only at a next
   * packet, ends. The filter is that of a capture with {@code --filter 'tcp port 9'}: nothing in
   * this test sends such a packet, while the Pod filter alone matches the neighbour discovery and
   * ARP a namespace does now and then.
   */
  @Test
  void realTcpdumpOfASilentPodEndsWhenTheReaderCloses() throws Exception {
    Requirements.realCapture();
    try (NetnsPod pod = NetnsPod.create()) {
      useRealTcpdump();
      String filter = "(" + podFilter(pod) + ") and (tcp port 9)";
      answerStatus("web", null, "web", "Running", AGENT, "node-1", filter, "");
      Process plugin = startStream(ProcessBuilder.Redirect.PIPE, "stream", "web");
      await(
          Duration.ofSeconds(20), () -> stderr().contains("listening on any"), "tcpdump to listen");
      List<Long> remote = Processes.withArgument(filter);
      assertEquals(
          1,
          remote.stream().filter(pid -> command(pid).startsWith("tcpdump")).count(),
          "tcpdumps: " + remote);

      plugin.getInputStream().close();

      assertTrue(
          plugin.waitFor(10, TimeUnit.SECONDS), "plugin still running after its reader closed");
      assertEquals(0, plugin.exitValue(), stderr());
      assertNothingLeft(plugin.pid(), remote);
      assertEquals(List.of(), Processes.withArgument(filter));
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The Pod filter as DESIGN.md describes it: each packet once, on the Pod's side of the node. */
  private static String podFilter(NetnsPod pod) {
    return "(inbound and src host "
        + pod.ipv4()
        + ") or (outbound and dst host "
        + pod.ipv4()
        + ") or (inbound and "
        + "src host "
        + pod.ipv6()
        + ") or (outbound and dst host "
        + pod.ipv6()
        + ")";
  }

  private void useRealTcpdump() {
    kubectl.env.put("REMOTE_PATH", imageBin + ":" + System.getenv("PATH"));
  }

  private void assertExecOf(String filter, List<String> call) {
    assertEquals(EXEC, call.subList(0, EXEC.size()), call.toString());
    List<String> remote = call.subList(EXEC.size(), call.size());
    assertEquals("podcapture-watchdog", remote.get(0), "the watchdog the agent image ships");
    assertFalse(remote.contains("-e"), "no program text sent to the agent Pod: " + remote);
    assertEquals(
        List.of(
            "10",
            "tcpdump",
            "-i",
            "any",
            "-n",
            "-U",
            "--immediate-mode",
            "-Z",
            "root",
            "-B",
            "4096",
            "-w",
            "-",
            "--",
            filter),
        remote.subList(1, remote.size()));
  }

  /**
   * The command stream runs in the agent Pod, as the stand-in kubectl received it, with the
   * watchdog's path as the agent container's PATH finds it.
   */
  private List<String> remoteArgvOfAStream() throws Exception {
    answerStatus("web", null, "web", "Running", AGENT, "node-1", FILTER, "");
    tcpdumpExits(0);
    assertEquals(0, kubectl.run("stream", "web").exit(), stderr());
    tcpdumpStaysSilent();
    List<String> exec = last(kubectl.calls());
    List<String> remote = new ArrayList<>(exec.subList(EXEC.size(), exec.size()));
    remote.set(0, imageBin.resolve(remote.get(0)).toString());
    return remote;
  }

  private Process startStream(ProcessBuilder.Redirect stdout, String... args) throws IOException {
    Process p =
        kubectl
            .builder(List.of(setsid()), args)
            .redirectOutput(stdout)
            .redirectError(tmp.resolve("err").toFile())
            .start();
    started.add(p);
    return p;
  }

  /**
   * setsid makes the plugin the leader of a process group of its own, as a shell does for a
   * command.
   */
  private static String setsid() {
    return hostExecutable("setsid").orElseThrow().toString();
  }

  /** Ctrl-C: SIGINT to the plugin's whole process group, as a terminal sends it. */
  private static void ctrlC(Process plugin) throws Exception {
    // bash's kill: procps' may not be installed
    Process kill =
        new ProcessBuilder(
                hostExecutable("bash").orElseThrow().toString(),
                "-c",
                "kill -s INT -- -$0",
                Long.toString(plugin.pid()))
            .inheritIO()
            .start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
    assertEquals(0, kill.exitValue());
  }

  /**
   * Nothing left: no process in the plugin's process group (kubectl, the heartbeat, sleeps), and
   * none of the given "agent Pod" processes (the watchdog, tcpdump).
   */
  private void assertNothingLeft(long pgid, List<Long> remote) throws IOException {
    List<Long> all = new ArrayList<>(remote);
    all.addAll(tcpdumpPids());
    all.addAll(kubectl.remotePids());
    // within 5 s: half the watchdog's limit, so it is the end of input that ended tcpdump, not the
    // heartbeats stopping; and more than the 2 s of the heartbeat's last sleep
    await(
        Duration.ofSeconds(5),
        () -> Processes.inGroup(pgid).isEmpty() && all.stream().noneMatch(Processes::alive),
        "no process left");
  }

  private List<Long> remoteProcesses() throws IOException {
    List<Long> pids = new ArrayList<>(kubectl.remotePids());
    pids.addAll(tcpdumpPids());
    assertFalse(pids.isEmpty());
    assertTrue(
        pids.stream().allMatch(Processes::alive), "agent Pod processes not running: " + pids);
    return pids;
  }

  private List<Long> tcpdumpPids() throws IOException {
    Path file = stubDir.resolve("tcpdump.pids");
    return Files.exists(file)
        ? Files.readAllLines(file).stream().filter(s -> !s.isBlank()).map(Long::parseLong).toList()
        : List.of();
  }

  private static String command(long pid) {
    List<String> argv = Processes.argv(pid);
    return argv.isEmpty() ? "" : Path.of(argv.get(0)).getFileName().toString();
  }

  private static Thread copyInBackground(InputStream in, ByteArrayOutputStream to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[65536];
              try {
                int n;
                while ((n = in.read(buf)) > 0) {
                  synchronized (to) {
                    to.write(buf, 0, n);
                  }
                }
              } catch (IOException e) {
                // closed
              }
            },
            "stream-reader");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static Path snapshot(ByteArrayOutputStream bytes, Path file) {
    try {
      synchronized (bytes) {
        Files.write(file, bytes.toByteArray());
      }
      return file;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<String> echoes(Path pcap) {
    return Pcap.packets(pcap).stream().filter(l -> l.contains("ICMP echo")).toList();
  }

  private void tcpdumpExits(int code) throws IOException {
    Files.writeString(stubDir.resolve("tcpdump.mode"), "exit " + code + "\n");
  }

  private void tcpdumpStaysSilent() throws IOException {
    Files.write(stubDir.resolve("tcpdump.out"), PCAP_HEADER);
    Files.writeString(stubDir.resolve("tcpdump.mode"), "silent 0\n");
  }

  /** The header and one 42-byte packet record (contents do not matter to the plugin). */
  private static byte[] pcapWithOnePacket() {
    byte[] packet = new byte[16 + 42];
    packet[8] = 42;
    packet[12] = 42;
    byte[] all = Arrays.copyOf(PCAP_HEADER, PCAP_HEADER.length + packet.length);
    System.arraycopy(packet, 0, all, PCAP_HEADER.length, packet.length);
    return all;
  }

  private StandInKubectl.Answer answerStatus(
      String name,
      String namespace,
      String pod,
      String phase,
      String agent,
      String node,
      String filter,
      String message)
      throws IOException {
    return kubectl
        .on(statusCall(name, namespace))
        .prints(streamStatus(name, pod, phase, agent, node, filter, message));
  }

  /** The PodCapture stream reads, as kubectl -o json prints it. */
  static String streamStatus(
      String name,
      String pod,
      String phase,
      String agent,
      String node,
      String filter,
      String message) {
    ObjectNode capture = KubectlPluginTest.podCapture("default", name, pod);
    ObjectNode status = capture.putObject("status");
    KubectlPluginTest.putIfAny(status, "phase", phase);
    KubectlPluginTest.putIfAny(status, "agentPod", agent);
    KubectlPluginTest.putIfAny(status, "node", node);
    KubectlPluginTest.putIfAny(status, "filter", filter);
    KubectlPluginTest.putIfAny(status, "message", message);
    return capture.toString();
  }

  static List<String> statusCall(String name, String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcapture", name));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--ignore-not-found", "-o", KubectlPluginTest.JSON_OUTPUT));
    return call;
  }

  private static List<String> deleteCall(String name, String namespace) {
    List<String> call = new ArrayList<>(List.of("delete", "podcapture", name));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--ignore-not-found", "--wait=false"));
    return call;
  }

  private List<List<String>> callsSoFar() {
    try {
      return kubectl.calls();
    } catch (IOException e) {
      return List.of();
    }
  }

  private String stderr() {
    try {
      Path err = tmp.resolve("err");
      return Files.exists(err) ? Files.readString(err) : Files.readString(tmp.resolve("stderr"));
    } catch (IOException e) {
      return "(no stderr: " + e + ")";
    }
  }

  private static long size(Path file) {
    try {
      return Files.exists(file) ? Files.size(file) : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  private static <T> T last(List<T> list) {
    return list.get(list.size() - 1);
  }

  private static void await(Duration timeout, BooleanSupplier condition, String what) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        fail("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted");
      }
    }
  }
}
