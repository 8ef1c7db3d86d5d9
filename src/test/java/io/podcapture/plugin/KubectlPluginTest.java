package io.podcapture.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.testing.Requirements;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the real {@code plugin/kubectl-podcapture} with bash, a stand-in {@code kubectl} (and sometimes
 * {@code mergecap}) first on PATH. The stand-ins record every argv and answer from rules the test writes.
 * PATH holds nothing else but links to bash, cat, mkdir and rm, which also pins what the plugin needs.
 */
class KubectlPluginTest {
  private static final Path SCRIPT = Path.of(
      Optional.ofNullable(System.getenv("PODCAPTURE_PROJECT_DIR")).orElse(""), "plugin", "kubectl-podcapture")
      .toAbsolutePath();
  /** The tools the plugin (and the stand-ins) may use besides kubectl and mergecap. */
  private static final List<String> TOOLS = List.of("bash", "cat", "mkdir", "rm");

  /** What the plugin asks kubectl for; {@link #status} renders an answer the way kubectl's jsonpath does. */
  private static final String STATUS_JSONPATH = "jsonpath={.metadata.namespace}{\"\\n\"}{.status.phase}{\"\\n\"}"
      + "{.status.node}{\"\\n\"}{.status.agentPod}{\"\\n\"}{range .status.files[*]}{.path}{\"\\n\"}{end}"
      + "{\"message:\\n\"}{.status.message}";
  private static final String AGENT = "kube-system/podcapture-agent-x7k2p";
  private static final String RING0 = "/capture/default/capture-web.pcap0";
  private static final String RING1 = "/capture/default/capture-web.pcap1";
  private static final String OLD0 = "/capture/default/previous/capture-web.pcap0";

  private static final String KUBECTL_STUB = """
      #!/usr/bin/env bash
      # Stand-in kubectl: records its argv (count, then each argument, NUL-terminated) and answers from
      # the first rule whose argv file (NUL-separated) equals its own.
      printf '%s\\0' "$#" "$@" >>"$STUB_DIR/kubectl.calls"
      for rule in "$STUB_DIR"/kubectl-rules/*; do
        [[ -f $rule/argv ]] || continue
        mapfile -d '' -t want <"$rule/argv"
        ((${#want[@]} == $#)) || continue
        i=0 same=1
        for arg in "$@"; do
          [[ ${want[i]} == "$arg" ]] || { same=0; break; }
          i=$((i + 1))
        done
        ((same)) || continue
        if [[ -f $rule/stdout ]]; then IFS= read -r -d '' out <"$rule/stdout"; printf '%s' "$out"; fi
        if [[ -f $rule/stderr ]]; then IFS= read -r -d '' err <"$rule/stderr"; printf '%s' "$err" >&2; fi
        if [[ -f $rule/writes ]]; then IFS= read -r -d '' data <"$rule/writes"; printf '%s' "$data" >"${!#}"; fi
        code=0
        [[ -f $rule/exit ]] && read -r code <"$rule/exit"
        exit "$code"
      done
      printf 'stand-in kubectl: no answer for:' >&2
      printf ' [%s]' "$@" >&2
      exit 97
      """;

  private static final String MERGECAP_STUB = """
      #!/usr/bin/env bash
      # Stand-in mergecap: records its argv; for -w OUT IN... writes the inputs' contents, in argument order, to OUT.
      printf '%s\\0' "$#" "$@" >>"$STUB_DIR/mergecap.calls"
      if [[ -f $STUB_DIR/mergecap.fail ]]; then
        echo 'mergecap: The file "x" appears to have been cut short in the middle of a packet.' >&2
        exit 2
      fi
      [[ $1 == -w ]] || exit 64
      out=$2
      shift 2
      merged=""
      for f in "$@"; do IFS= read -r -d '' part <"$f"; merged+=$part; done
      printf '%s' "$merged" >"$out"
      """;

  @TempDir
  Path tmp;
  private Path stubDir;
  private Path bin;
  private Path tools;
  private Path work;
  private int rules;

  @BeforeEach
  void setUp() throws IOException {
    stubDir = Files.createDirectories(tmp.resolve("stub"));
    Files.createDirectories(stubDir.resolve("kubectl-rules"));
    bin = Files.createDirectories(tmp.resolve("bin"));
    tools = Files.createDirectories(tmp.resolve("tools"));
    work = Files.createDirectories(tmp.resolve("work"));
    for (String tool : TOOLS) {
      Files.createSymbolicLink(tools.resolve(tool), hostExecutable(tool)
          .orElseThrow(() -> new IllegalStateException(tool + " is not on PATH")));
    }
    writeExecutable(bin.resolve("kubectl"), KUBECTL_STUB);
  }

  // ---------------------------------------------------------------- help and usage errors

  @ParameterizedTest
  @ValueSource(strings = {"help", "-h", "--help", "start -h", "download web --help"})
  void helpPrintsUsageAndCallsNoKubectl(String args) throws Exception {
    Result r = run(args.split(" "));

    assertEquals(0, r.exit, r.stderr);
    for (String usage : List.of("Usage:", "kubectl podcapture start POD [N] [-n NS]", "kubectl podcapture stop POD",
        "kubectl podcapture list [-n NS | -A]", "kubectl podcapture download POD [-n NS] [-o DIR]")) {
      assertTrue(r.stdout.contains(usage), "usage lacks \"" + usage + "\":\n" + r.stdout);
    }
    assertEquals(List.of(), kubectlCalls());
  }

  static Stream<Arguments> badInput() {
    return Stream.of(
        Arguments.of(List.of(), "missing subcommand"),
        Arguments.of(List.of("frobnicate", "web"), "unknown subcommand \"frobnicate\""),
        Arguments.of(List.of("start"), "start needs a POD"),
        Arguments.of(List.of("start", ""), "start needs a POD"),
        Arguments.of(List.of("start", "web", "0"), "N must be a whole number of files, 1 or more (got \"0\")"),
        Arguments.of(List.of("start", "web", "abc"), "N must be a whole number of files, 1 or more (got \"abc\")"),
        Arguments.of(List.of("start", "web", "1.5"), "N must be a whole number"),
        Arguments.of(List.of("start", "web", "05"), "N must be a whole number"),
        Arguments.of(List.of("start", "web", ""), "N must be a whole number"),
        Arguments.of(List.of("start", "web", " 5"), "N must be a whole number"),
        Arguments.of(List.of("start", "web", "-3"), "unknown option: -3"),
        Arguments.of(List.of("start", "Web"), "invalid pod name \"Web\""),
        Arguments.of(List.of("start", "web;rm -rf /"), "invalid pod name \"web;rm -rf /\""),
        Arguments.of(List.of("start", "$(id)"), "invalid pod name \"$(id)\""),
        Arguments.of(List.of("start", "web-"), "invalid pod name"),
        Arguments.of(List.of("start", "a".repeat(254)), "invalid pod name"),
        Arguments.of(List.of("start", "--context=prod", "web"), "unknown option: --context=prod"),
        Arguments.of(List.of("start", "web", "--dry-run"), "unknown option: --dry-run"),
        Arguments.of(List.of("start", "web", "-n"), "-n needs a namespace"),
        Arguments.of(List.of("start", "web", "-n", "Bad_NS"), "invalid namespace \"Bad_NS\""),
        Arguments.of(List.of("start", "web", "-n", ""), "invalid namespace \"\""),
        Arguments.of(List.of("start", "web", "-n", "-A"), "invalid namespace \"-A\""),
        Arguments.of(List.of("start", "web", "--namespace="), "invalid namespace \"\""),
        Arguments.of(List.of("start", "web", "-n", "a".repeat(64)), "invalid namespace"),
        Arguments.of(List.of("start", "web", "5", "extra"), "too many arguments for start: extra"),
        Arguments.of(List.of("start", "web", "-A"), "start does not take -A"),
        Arguments.of(List.of("start", "web", "-o", "out"), "start does not take -o"),
        Arguments.of(List.of("stop"), "stop needs a POD"),
        Arguments.of(List.of("stop", "web", "3"), "too many arguments for stop: 3"),
        Arguments.of(List.of("stop", "web", "-A"), "stop does not take -A"),
        Arguments.of(List.of("list", "web"), "too many arguments for list: web"),
        Arguments.of(List.of("list", "-A", "-n", "prod"), "use either -n or -A, not both"),
        Arguments.of(List.of("list", "-o", "out"), "list does not take -o"),
        Arguments.of(List.of("download"), "download needs a POD"),
        Arguments.of(List.of("download", "web", "extra"), "too many arguments for download: extra"),
        Arguments.of(List.of("download", "web", "-o"), "-o needs a directory"),
        Arguments.of(List.of("download", "web", "-o", ""), "-o needs a directory"),
        Arguments.of(List.of("download", "web", "-o", "out:x"), "the directory must not contain ':'"),
        Arguments.of(List.of("download", "web", "-A"), "download does not take -A"));
  }

  @ParameterizedTest
  @MethodSource("badInput")
  void badInputIsAUsageErrorAndCallsNoKubectl(List<String> args, String error) throws Exception {
    Result r = run(args.toArray(String[]::new));

    assertEquals(2, r.exit, r.stderr);
    assertTrue(r.stderr.contains("error: " + error), r.stderr);
    assertTrue(r.stderr.contains("Run \"kubectl podcapture help\" for usage."), r.stderr);
    assertEquals(List.of(), kubectlCalls());
  }

  // ---------------------------------------------------------------- start, stop, list

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      start web -n default             | annotate pod web -n default tcpdump.antrea.io=5 --overwrite
      start web                        | annotate pod web tcpdump.antrea.io=5 --overwrite
      start web 12 -n prod             | annotate pod web -n prod tcpdump.antrea.io=12 --overwrite
      start -n prod web 3              | annotate pod web -n prod tcpdump.antrea.io=3 --overwrite
      start web --namespace prod 1     | annotate pod web -n prod tcpdump.antrea.io=1 --overwrite
      start web --namespace=prod       | annotate pod web -n prod tcpdump.antrea.io=5 --overwrite
      start db-0.db 64 -n team-a       | annotate pod db-0.db -n team-a tcpdump.antrea.io=64 --overwrite
      start web 1000                   | annotate pod web tcpdump.antrea.io=1000 --overwrite
      """)
  void startAnnotatesThePod(String args, String expectedKubectl) throws Exception {
    List<String> expected = words(expectedKubectl);
    kubectl(expected).prints("pod/" + expected.get(2) + " annotated\n");

    Result r = run(words(args).toArray(String[]::new));

    assertEquals(0, r.exit, r.stderr);
    assertEquals(List.of(expected), kubectlCalls());
    assertTrue(r.stdout.contains(" annotated"), r.stdout);
    assertTrue(r.stdout.contains("Follow it with: kubectl get podcapture "), r.stdout);
  }

  @Test
  void startReportsKubectlsErrorWhenThePodDoesNotExist() throws Exception {
    List<String> annotate = words("annotate pod web -n default tcpdump.antrea.io=5 --overwrite");
    kubectl(annotate).exitsWith(1, "Error from server (NotFound): pods \"web\" not found\n");

    Result r = run("start", "web", "-n", "default");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("Error from server (NotFound): pods \"web\" not found"), r.stderr);
    assertFalse(r.stdout.contains("requested"), r.stdout);
    assertEquals(List.of(annotate), kubectlCalls());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      stop web -n default        | annotate pod web -n default tcpdump.antrea.io-
      stop web                   | annotate pod web tcpdump.antrea.io-
      stop -n prod web           | annotate pod web -n prod tcpdump.antrea.io-
      stop web --namespace=prod  | annotate pod web -n prod tcpdump.antrea.io-
      """)
  void stopRemovesTheAnnotation(String args, String expectedKubectl) throws Exception {
    kubectl(words(expectedKubectl)).prints("pod/web annotated\n");

    Result r = run(words(args).toArray(String[]::new));

    assertEquals(0, r.exit, r.stderr);
    assertEquals(List.of(words(expectedKubectl)), kubectlCalls());
    assertEquals("pod/web annotated\n", r.stdout);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      list                       | get podcaptures
      list -n prod               | get podcaptures -n prod
      list --namespace prod      | get podcaptures -n prod
      list -A                    | get podcaptures --all-namespaces
      list --all-namespaces      | get podcaptures --all-namespaces
      """)
  void listGetsPodCaptures(String args, String expectedKubectl) throws Exception {
    String table = "NAME   POD   FILES   NODE     PHASE     BYTES\n"
        + "web    web   2       node-1   Running   2097600\n";
    kubectl(words(expectedKubectl)).prints(table);

    Result r = run(words(args).toArray(String[]::new));

    assertEquals(0, r.exit, r.stderr);
    assertEquals(List.of(words(expectedKubectl)), kubectlCalls());
    assertEquals(table, r.stdout);
  }

  // ---------------------------------------------------------------- download

  @Test
  void downloadCopiesEveryFileAndMergesTheRingWithMergecap() throws Exception {
    writeExecutable(bin.resolve("mergecap"), MERGECAP_STUB);
    answerStatus("default", status("Running", "node-1", AGENT, "tcpdump is running", RING0, RING1, OLD0));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    answerCp(RING1, "out/capture-web.pcap1", "ring1;");
    answerCp(OLD0, "out/previous/capture-web.pcap0", "old0;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit, r.stderr);
    assertEquals(List.of(
        statusCall("default"),
        agentPodCall(),
        cpCall(RING0, "out/capture-web.pcap0"),
        cpCall(RING1, "out/capture-web.pcap1"),
        cpCall(OLD0, "out/previous/capture-web.pcap0")), kubectlCalls());
    assertEquals(List.of(List.of("-w", "out/capture-web.pcap", "out/capture-web.pcap0", "out/capture-web.pcap1")),
        calls("mergecap.calls"));
    assertEquals("ring0;", read("out/capture-web.pcap0"));
    assertEquals("ring1;", read("out/capture-web.pcap1"));
    assertEquals("old0;", read("out/previous/capture-web.pcap0"));
    assertEquals("ring0;ring1;", read("out/capture-web.pcap"));
    assertEquals(List.of("capture-web.pcap", "capture-web.pcap0", "capture-web.pcap1", "previous"), list("out"));
    assertEquals(List.of("capture-web.pcap0"), list("out/previous"));
    assertTrue(r.stdout.contains("Merged 2 ring file(s), in time order, into out/capture-web.pcap."), r.stdout);
    assertEquals("", r.stderr);
  }

  @Test
  void downloadWithoutMergecapKeepsTheRingFilesAndSaysHowToMerge() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, RING1));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    answerCp(RING1, "out/capture-web.pcap1", "ring1;");

    Result r = run("download", "-n", "default", "web", "-o", "out");

    assertEquals(0, r.exit, r.stderr);
    assertEquals(List.of(statusCall("default"), agentPodCall(), cpCall(RING0, "out/capture-web.pcap0"),
        cpCall(RING1, "out/capture-web.pcap1")), kubectlCalls());
    assertEquals(List.of("capture-web.pcap0", "capture-web.pcap1"), list("out"));
    assertTrue(r.stdout.contains("Downloaded 2 ring file(s) to out. mergecap (Wireshark) is not installed"), r.stdout);
    assertTrue(r.stdout.contains(
        "  mergecap -w out/capture-web.pcap out/capture-web.pcap0 out/capture-web.pcap1\n"), r.stdout);
  }

  @Test
  void downloadDefaultsToTheCurrentDirectoryAndKubectlsCurrentNamespace() throws Exception {
    answerStatus(null, status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    answerCp(RING0, "./capture-web.pcap0", "ring0;");

    Result r = run("download", "web");

    assertEquals(0, r.exit, r.stderr);
    assertEquals(List.of(statusCall(null), agentPodCall(), cpCall(RING0, "./capture-web.pcap0")), kubectlCalls());
    assertEquals("ring0;", read("capture-web.pcap0"));
  }

  @Test
  void downloadKeepsTheRingApartFromPreviousFilesInANamespaceCalledPrevious() throws Exception {
    answerStatus("previous", statusIn("previous", "Running", "node-1", AGENT, "",
        "/capture/previous/capture-web.pcap0", "/capture/previous/previous/capture-web.pcap0"));
    answerAgentPodExists();
    answerCp("/capture/previous/capture-web.pcap0", "out/capture-web.pcap0", "ring0;");
    answerCp("/capture/previous/previous/capture-web.pcap0", "out/previous/capture-web.pcap0", "old0;");

    Result r = run("download", "web", "-n", "previous", "-o", "out");

    assertEquals(0, r.exit, r.stderr);
    assertEquals("ring0;", read("out/capture-web.pcap0"));
    assertEquals("old0;", read("out/previous/capture-web.pcap0"));
    assertTrue(r.stdout.contains("Downloaded 1 ring file(s) to out."), r.stdout);
  }

  @Test
  void downloadIntoADirectoryStartingWithDashIsNotReadAsAnOption() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    answerCp(RING0, "./-out/capture-web.pcap0", "ring0;");

    Result r = run("download", "web", "-n", "default", "-o", "-out");

    assertEquals(0, r.exit, r.stderr);
    assertEquals(cpCall(RING0, "./-out/capture-web.pcap0"), kubectlCalls().get(2));
    assertEquals("ring0;", read("-out/capture-web.pcap0"));
  }

  @Test
  void downloadOfASingleFileRingNeedsNoMerge() throws Exception {
    // With N=1 tcpdump writes capture-web.pcap itself: merging into that name would clobber the input.
    writeExecutable(bin.resolve("mergecap"), MERGECAP_STUB);
    answerStatus("default", status("Running", "node-1", AGENT, "", "/capture/default/capture-web.pcap"));
    answerAgentPodExists();
    answerCp("/capture/default/capture-web.pcap", "out/capture-web.pcap", "only;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit, r.stderr);
    assertEquals(List.of(), calls("mergecap.calls"));
    assertEquals("only;", read("out/capture-web.pcap"));
    assertTrue(r.stdout.contains("The capture is in out/capture-web.pcap."), r.stdout);
  }

  @Test
  void downloadOfAStoppedCaptureWithFilesWarnsAndCopiesThem() throws Exception {
    answerStatus("default", status("Failed", "node-1", AGENT, "tcpdump exited with code 1", OLD0));
    answerAgentPodExists();
    answerCp(OLD0, "out/previous/capture-web.pcap0", "old0;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit, r.stderr);
    assertTrue(r.stderr.contains("warning: capture of pod web in namespace default is Failed "
        + "(tcpdump exited with code 1); downloading the files it has."), r.stderr);
    assertEquals("old0;", read("out/previous/capture-web.pcap0"));
    assertEquals(List.of("previous"), list("out"));
    assertFalse(r.stdout.contains("mergecap"), "nothing to merge without ring files:\n" + r.stdout);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      default | no capture for pod web in namespace default: start one with kubectl podcapture start web -n default
              | no capture for pod web in the current namespace: start one with kubectl podcapture start web
      """)
  void downloadWithoutACaptureSaysHowToStartOne(String namespace, String error) throws Exception {
    answerStatus(namespace, ""); // kubectl get --ignore-not-found prints nothing for a missing object

    Result r = run(namespace == null ? new String[] {"download", "web"}
        : new String[] {"download", "web", "-n", namespace});

    assertEquals(1, r.exit);
    assertEquals("error: " + error + "\n", r.stderr);
    assertEquals(List.of(statusCall(namespace)), kubectlCalls());
  }

  @Test
  void downloadPassesKubectlErrorsThrough() throws Exception {
    kubectl(statusCall("default")).exitsWith(1, "error: the server doesn't have a resource type \"podcapture\"\n");

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("the server doesn't have a resource type \"podcapture\""), r.stderr);
    assertFalse(r.stderr.contains("no capture for pod"), r.stderr);
    assertEquals(List.of(statusCall("default")), kubectlCalls());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      Failed  | annotation tcpdump.antrea.io="abc" is not a number; use 1..64 | has no files to download (phase: Failed, message: annotation tcpdump.antrea.io="abc" is not a number; use 1..64)
      Pending | waiting for the Pod to get an IP                              | has no files to download (phase: Pending, message: waiting for the Pod to get an IP)
              |                                                               | has no files to download (phase: none yet)
      Running | tcpdump is running                                            | is Running but has no files yet; try again in a moment
      """)
  void downloadWithoutFilesShowsPhaseAndMessage(String phase, String message, String error) throws Exception {
    answerStatus("default", status(phase, "node-1", AGENT, message));

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit);
    assertEquals("error: capture of pod web in namespace default " + error + "\n", r.stderr);
    assertEquals(List.of(statusCall("default")), kubectlCalls());
    assertFalse(Files.exists(work.resolve("out")));
  }

  @Test
  void downloadWithoutNamespaceFlagNamesTheCapturesNamespaceOnceFound() throws Exception {
    answerStatus(null, statusIn("team-a", "Pending", "node-1", AGENT, "waiting for the Pod to get an IP"));

    Result r = run("download", "web");

    assertEquals(1, r.exit);
    assertEquals("error: capture of pod web in namespace team-a has no files to download "
        + "(phase: Pending, message: waiting for the Pod to get an IP)\n", r.stderr);
  }

  @Test
  void downloadShowsAMessageSpanningLines() throws Exception {
    answerStatus("default", status("Failed", "node-1", AGENT, "first line\nmessage:\nlast line"));

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("(phase: Failed, message: first line\nmessage:\nlast line)\n"), r.stderr);
  }

  @Test
  void downloadWithoutAgentPodInTheStatusFails() throws Exception {
    answerStatus("default", status("Running", "node-1", "", "", RING0));

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit);
    assertEquals("error: capture of pod web in namespace default lists files but status.agentPod is empty: "
        + "the agent on node node-1 has not said which Pod holds them\n", r.stderr);
    assertEquals(List.of(statusCall("default")), kubectlCalls());
  }

  @ParameterizedTest
  @ValueSource(strings = {"podcapture-agent-x7k2p", "kube-system/Agent", "kube-system/a/b", "/podcapture-agent",
      "kube-system/", "-n/x"})
  void downloadRejectsAnAgentPodThatIsNotNamespaceSlashName(String agentPod) throws Exception {
    answerStatus("default", status("Running", "node-1", agentPod, "", RING0));

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("status.agentPod \"" + agentPod + "\" is not namespace/name"), r.stderr);
    assertEquals(List.of(statusCall("default")), kubectlCalls());
  }

  @Test
  void downloadFailsWhenTheAgentPodIsGone() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    kubectl(agentPodCall()).prints(""); // --ignore-not-found: nothing printed, exit 0

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit);
    assertEquals("error: agent Pod kube-system/podcapture-agent-x7k2p (status.agentPod of the capture of pod web in "
        + "namespace default) no longer exists; the agent on node node-1 may have restarted: wait for it to update "
        + "the status and try again\n", r.stderr);
    assertEquals(List.of(statusCall("default"), agentPodCall()), kubectlCalls());
    assertFalse(Files.exists(work.resolve("out")));
  }

  @Test
  void downloadFailsWhenTheAgentPodCannotBeRead() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    kubectl(agentPodCall())
        .exitsWith(1, "Error from server (Forbidden): pods \"podcapture-agent-x7k2p\" is forbidden\n");

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("Error from server (Forbidden)"), r.stderr);
    assertTrue(r.stderr.contains("error: cannot read agent Pod kube-system/podcapture-agent-x7k2p"), r.stderr);
    assertEquals(List.of(statusCall("default"), agentPodCall()), kubectlCalls());
  }

  @Test
  void downloadStopsAtTheFirstFailingKubectlCp() throws Exception {
    writeExecutable(bin.resolve("mergecap"), MERGECAP_STUB);
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, RING1, OLD0));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    kubectl(cpCall(RING1, "out/capture-web.pcap1")).exitsWith(1, "error: unable to upgrade connection\n");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("error: unable to upgrade connection\n"), r.stderr);
    assertTrue(r.stderr.contains("error: kubectl cp kube-system/podcapture-agent-x7k2p:" + RING1
        + " out/capture-web.pcap1 failed\n"), r.stderr);
    assertEquals(List.of(statusCall("default"), agentPodCall(), cpCall(RING0, "out/capture-web.pcap0"),
        cpCall(RING1, "out/capture-web.pcap1")), kubectlCalls());
    assertEquals(List.of(), calls("mergecap.calls"));
    assertEquals(List.of("capture-web.pcap0"), list("out"));
  }

  @Test
  void downloadFailsWhenKubectlCpSucceedsWithoutWritingTheFile() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    kubectl(cpCall(RING0, "out/capture-web.pcap0"))
        .exitsWith(0, "tar: capture/default/capture-web.pcap0: Cannot stat: No such file or directory\n");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("error: kubectl cp kube-system/podcapture-agent-x7k2p:" + RING0
        + " out/capture-web.pcap0 wrote no file\n"), r.stderr);
  }

  @Test
  void downloadDoesNotMistakeAFileFromAnEarlierDownloadForANewOne() throws Exception {
    Files.createDirectories(work.resolve("out"));
    Files.writeString(work.resolve("out/capture-web.pcap0"), "stale;");
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    kubectl(cpCall(RING0, "out/capture-web.pcap0")).exitsWith(0, "");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("out/capture-web.pcap0 wrote no file"), r.stderr);
    assertEquals(List.of(), list("out"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"capture-web.pcap0", "/capture/default/..", "/capture/default/", "/capture/default/a b",
      "/capture/default/-x;y"})
  void downloadRejectsUnsafeFilePathsBeforeCopyingAnything(String path) throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, path));
    answerAgentPodExists();

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("unexpected file path in status.files: \"" + path + "\""), r.stderr);
    assertEquals(List.of(statusCall("default"), agentPodCall()), kubectlCalls());
    assertFalse(Files.exists(work.resolve("out")));
  }

  @Test
  void downloadReportsAFailingMergeAndKeepsTheRingFiles() throws Exception {
    writeExecutable(bin.resolve("mergecap"), MERGECAP_STUB);
    Files.writeString(stubDir.resolve("mergecap.fail"), "");
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, RING1));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    answerCp(RING1, "out/capture-web.pcap1", "ring1;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit);
    assertTrue(r.stderr.contains("cut short in the middle of a packet"), r.stderr);
    assertTrue(r.stderr.contains("error: mergecap failed; the ring files are in out "
        + "(out/capture-web.pcap0 out/capture-web.pcap1)\n"), r.stderr);
    assertEquals("ring0;", read("out/capture-web.pcap0"));
    assertEquals("ring1;", read("out/capture-web.pcap1"));
  }

  // ---------------------------------------------------------------- the script itself

  @Test
  void scriptIsExecutableBash() throws IOException {
    assertTrue(Files.isExecutable(SCRIPT), SCRIPT + " is not executable");
    List<String> lines = Files.readAllLines(SCRIPT);
    assertEquals("#!/usr/bin/env bash", lines.get(0));
    assertTrue(lines.contains("set -euo pipefail"));
  }

  @Test
  void scriptPassesShellcheck() throws Exception {
    Requirements.commands("shellcheck"); // skips with a reason, fails under CI=true (.ci/run installs it)
    Optional<Path> shellcheck = hostExecutable("shellcheck");
    Process p = new ProcessBuilder(shellcheck.get().toString(), SCRIPT.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
  }

  /**
   * The canned status answers above are only as good as {@link #status}: check that it renders exactly what a
   * real kubectl prints for the plugin's jsonpath, on a full and an empty status. {@code annotate --local} runs
   * the same jsonpath printer as {@code get} without a cluster.
   */
  @Test
  void statusAnswersMatchWhatRealKubectlPrints() throws Exception {
    Requirements.commands("kubectl"); // skips with a reason, fails under CI=true (.ci/run installs it)
    Optional<Path> realKubectl = hostExecutable("kubectl");
    Path full = tmp.resolve("full.yaml");
    Files.writeString(full, """
        apiVersion: tcpdump.antrea.io/v1alpha1
        kind: PodCapture
        metadata: {name: web, namespace: default}
        spec: {podName: web, maxFiles: 2}
        status:
          phase: Running
          node: node-1
          agentPod: kube-system/podcapture-agent-x7k2p
          message: "two\\nlines"
          files:
          - {name: capture-web.pcap0, path: /capture/default/capture-web.pcap0, sizeBytes: 1048800}
          - {name: capture-web.pcap0, path: /capture/default/previous/capture-web.pcap0, sizeBytes: 20}
        """);
    Path empty = tmp.resolve("empty.yaml");
    Files.writeString(empty, """
        apiVersion: tcpdump.antrea.io/v1alpha1
        kind: PodCapture
        metadata: {name: web, namespace: default}
        spec: {podName: web}
        """);

    assertEquals(status("Running", "node-1", AGENT, "two\nlines", RING0, OLD0),
        renderWithKubectl(realKubectl.get(), full));
    assertEquals(status("", "", "", ""), renderWithKubectl(realKubectl.get(), empty));
  }

  private String renderWithKubectl(Path kubectl, Path yaml) throws Exception {
    Path kubeconfig = Files.writeString(tmp.resolve("kubeconfig"), "");
    ProcessBuilder pb = new ProcessBuilder(kubectl.toString(), "annotate", "--local", "-f", yaml.toString(),
        "example.com/x=y", "-o", STATUS_JSONPATH);
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.redirectError(tmp.resolve("kubectl.err").toFile());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("kubectl.err")));
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private record Result(int exit, String stdout, String stderr) {
  }

  private Result run(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
    pb.environment().put("PATH", bin + File.pathSeparator + tools);
    pb.environment().put("STUB_DIR", stubDir.toString());
    Path out = tmp.resolve("stdout");
    Path err = tmp.resolve("stderr");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(
        new File("/dev/null")));
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "plugin did not finish");
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  /** A rule for the stand-in kubectl: when called with exactly {@code argv}, answer as told. */
  private Answer kubectl(List<String> argv) throws IOException {
    Path rule = Files.createDirectories(stubDir.resolve("kubectl-rules").resolve(String.format("%03d", rules++)));
    Files.writeString(rule.resolve("argv"), String.join("\0", argv) + "\0");
    return new Answer(rule);
  }

  private record Answer(Path rule) {
    void prints(String stdout) throws IOException {
      Files.writeString(rule.resolve("stdout"), stdout);
    }

    void exitsWith(int exit, String stderr) throws IOException {
      Files.writeString(rule.resolve("stderr"), stderr);
      Files.writeString(rule.resolve("exit"), exit + "\n");
    }

    void writesDestination(String content) throws IOException {
      Files.writeString(rule.resolve("writes"), content);
    }
  }

  /** kubectl's jsonpath output for the plugin's template: see {@link #statusAnswersMatchWhatRealKubectlPrints}. */
  private static String status(String phase, String node, String agentPod, String message, String... paths) {
    return statusIn("default", phase, node, agentPod, message, paths);
  }

  private static String statusIn(String namespace, String phase, String node, String agentPod, String message,
      String... paths) {
    StringBuilder s = new StringBuilder(namespace).append('\n');
    s.append(phase == null ? "" : phase).append('\n').append(node).append('\n').append(agentPod).append('\n');
    for (String path : paths) {
      s.append(path).append('\n');
    }
    return s.append("message:\n").append(message == null ? "" : message).toString();
  }

  private static List<String> statusCall(String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcapture", "web"));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--ignore-not-found", "-o", STATUS_JSONPATH));
    return call;
  }

  private static List<String> agentPodCall() {
    return List.of("get", "pod", "-n", "kube-system", "podcapture-agent-x7k2p", "--ignore-not-found", "-o", "name");
  }

  private static List<String> cpCall(String remotePath, String local) {
    return List.of("cp", AGENT + ":" + remotePath, local);
  }

  private void answerStatus(String namespace, String output) throws IOException {
    kubectl(statusCall(namespace)).prints(output);
  }

  private void answerAgentPodExists() throws IOException {
    kubectl(agentPodCall()).prints("pod/podcapture-agent-x7k2p\n");
  }

  private void answerCp(String remotePath, String local, String content) throws IOException {
    kubectl(cpCall(remotePath, local)).writesDestination(content);
  }

  private List<List<String>> kubectlCalls() throws IOException {
    return calls("kubectl.calls");
  }

  /** Parses a stand-in's log: per call, the argument count and then each argument, all NUL-terminated. */
  private List<List<String>> calls(String log) throws IOException {
    Path file = stubDir.resolve(log);
    List<List<String>> calls = new ArrayList<>();
    if (!Files.exists(file)) {
      return calls;
    }
    String[] fields = Files.readString(file).split("\0", -1);
    int i = 0;
    while (i < fields.length - 1) {
      int count = Integer.parseInt(fields[i]);
      calls.add(List.of(Arrays.copyOfRange(fields, i + 1, i + 1 + count)));
      i += 1 + count;
    }
    return calls;
  }

  private String read(String relative) throws IOException {
    return Files.readString(work.resolve(relative));
  }

  private List<String> list(String relative) throws IOException {
    try (Stream<Path> files = Files.list(work.resolve(relative))) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  private static List<String> words(String s) {
    return List.of(s.trim().split("\\s+"));
  }

  private static void writeExecutable(Path file, String content) throws IOException {
    Files.writeString(file, content);
    assertTrue(file.toFile().setExecutable(true));
  }

  private static Optional<Path> hostExecutable(String name) {
    return Stream.of(System.getenv("PATH").split(File.pathSeparator))
        .filter(dir -> !dir.isEmpty())
        .map(dir -> Path.of(dir, name))
        .filter(Files::isExecutable)
        .findFirst();
  }
}
