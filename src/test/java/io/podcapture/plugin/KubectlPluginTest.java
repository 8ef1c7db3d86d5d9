package io.podcapture.plugin;

import static io.podcapture.plugin.StandInKubectl.hostExecutable;
import static io.podcapture.plugin.StandInKubectl.words;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.podcapture.plugin.StandInKubectl.Result;
import io.podcapture.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The plugin's commands but {@code stream} (see {@link KubectlPluginStreamTest}) against the
 * stand-in kubectl of {@link StandInKubectl}: the exact kubectl calls, manifests, output and exit
 * codes.
 */
@Tag("integration")
class KubectlPluginTest {
  /**
   * What the plugin asks kubectl for: JSON, read by its one reader. {@link #status}, {@link #row},
   * {@link #answerPods} and {@link #waitStatus} write answers shaped as kubectl's (see {@link
   * #cannedAnswersHaveTheShapeOfRealKubectlJson}).
   */
  static final String JSON_OUTPUT = "json";

  private static final String AGENT = "kube-system/podcapture-agent-x7k2p";
  private static final String RING0 = "/capture/default/capture-web.pcap0";
  private static final String RING1 = "/capture/default/capture-web.pcap1";
  private static final String OLD0 = "/capture/default/previous/capture-web.pcap0";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  private StandInKubectl kubectl;
  private Path work;
  private Path stubDir;

  @BeforeEach
  void setUp() throws IOException {
    kubectl = new StandInKubectl(tmp);
    work = kubectl.work;
    stubDir = kubectl.stubDir;
  }

  // ---------------------------------------------------------------- help and usage errors

  @ParameterizedTest
  @ValueSource(
      strings = {"help", "-h", "--help", "start -h", "download web --help", "stream --help"})
  void helpPrintsUsageAndCallsNoKubectl(String args) throws Exception {
    Result r = run(args.split(" "));

    assertEquals(0, r.exit(), r.stderr());
    for (String usage :
        List.of(
            "Usage:",
            "kubectl podcapture start POD [N] [-n NS]",
            "kubectl podcapture start POD OPTION... [-n NS]",
            "kubectl podcapture start -l SELECTOR [OPTION...] [-n NS]",
            "kubectl podcapture stop NAME|POD [-n NS]",
            "kubectl podcapture stop -l SELECTOR [-n NS]",
            "kubectl podcapture list [-n NS | -A] [-l SELECTOR]",
            "kubectl podcapture download NAME|POD [-n NS] [-o DIR] [--merge]",
            "kubectl podcapture download -l SELECTOR [-n NS] [-o DIR] [--merge]",
            "kubectl podcapture stream NAME|POD [-n NS]",
            "kubectl podcapture help")) {
      assertTrue(r.stdout().contains(usage), "usage lacks \"" + usage + "\":\n" + r.stdout());
    }
    assertEquals(List.of(), kubectlCalls());
  }

  /** Every option is explained, and used in at least one example. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "--filter",
        "--duration",
        "--count",
        "--files",
        "--file-size",
        "--snaplen",
        "--ttl",
        "--max-pods",
        "--name",
        "--wait",
        "-n",
        "-A",
        "-l",
        "-o",
        "--merge"
      })
  void helpExplainsEveryOptionAndShowsItInAnExample(String option) throws Exception {
    String help = run("help").stdout();
    String options = help.substring(help.indexOf("Capture options"), help.indexOf("Examples:"));
    String examples = help.substring(help.indexOf("Examples:"));

    assertTrue(
        options
            .lines()
            .anyMatch(l -> l.trim().startsWith(option + " ") || l.trim().startsWith(option + ",")),
        option + " is not explained:\n" + options);
    assertTrue(
        examples.lines().anyMatch(l -> l.contains(" " + option + " ") || l.endsWith(" " + option)),
        option + " is in no example:\n" + examples);
  }

  @ParameterizedTest
  @ValueSource(strings = {"start", "stop", "list", "download", "stream"})
  void helpShowsAnExampleOfEveryCommand(String command) throws Exception {
    String examples = run("help").stdout().split("Examples:")[1];

    assertTrue(examples.contains("kubectl podcapture " + command + " "), examples);
  }

  static Stream<Arguments> badInput() {
    return Stream.of(
        Arguments.of(List.of(), "missing subcommand"),
        Arguments.of(List.of("frobnicate", "web"), "unknown subcommand \"frobnicate\""),
        Arguments.of(List.of("start"), "start needs a POD"),
        Arguments.of(List.of("start", ""), "start needs a POD"),
        Arguments.of(
            List.of("start", "web", "0"),
            "N must be a whole number of files, 1 or more (got \"0\")"),
        Arguments.of(
            List.of("start", "web", "abc"),
            "N must be a whole number of files, 1 or more (got \"abc\")"),
        Arguments.of(List.of("start", "web", "1.5"), "N must be a whole number"),
        Arguments.of(List.of("start", "web", "05"), "N must be a whole number"),
        Arguments.of(List.of("start", "web", ""), "N must be a whole number"),
        Arguments.of(List.of("start", "web", " 5"), "N must be a whole number"),
        Arguments.of(List.of("start", "web", "-3"), "unknown option: -3"),
        Arguments.of(List.of("start", "Web"), "invalid name \"Web\""),
        Arguments.of(List.of("start", "web;rm -rf /"), "invalid name \"web;rm -rf /\""),
        Arguments.of(List.of("start", "$(id)"), "invalid name \"$(id)\""),
        Arguments.of(List.of("start", "web-"), "invalid name"),
        Arguments.of(List.of("start", "a".repeat(254)), "invalid name"),
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
        Arguments.of(List.of("start", "web", "--merge"), "start does not take --merge"),
        // the capture options
        Arguments.of(
            List.of("start", "web", "3", "--filter", "udp"),
            "N is the annotation's number of files; with options, give it as --files 3"),
        Arguments.of(
            List.of("start", "-l", "app=web", "3", "--count", "9"),
            "with -l, start creates one PodCaptureSet for every matching Pod, now and later; N is"
                + " the annotation's number of files, for one Pod: give --files 3"),
        Arguments.of(List.of("start", "web", "--filter"), "--filter needs a filter expression"),
        Arguments.of(List.of("start", "web", "--filter", ""), "--filter needs a filter expression"),
        Arguments.of(
            List.of("start", "web", "--filter", "udp\u0001"),
            "--filter must not contain control characters"),
        Arguments.of(
            List.of("start", "web", "--duration", "abc"),
            "--duration must be a duration like 30s, 5m, 1h or 1h30m (got \"abc\")"),
        Arguments.of(
            List.of("start", "web", "--duration", "1d"), "--duration must be a duration like"),
        Arguments.of(
            List.of("start", "web", "--duration", "5m1h"), "--duration must be a duration like"),
        Arguments.of(
            List.of("start", "web", "--duration", "-5"), "--duration must be a duration like"),
        Arguments.of(
            List.of("start", "web", "--duration", "999999999h"),
            "--duration must be at most 2147483647s (got \"999999999h\")"),
        Arguments.of(List.of("start", "web", "--ttl", "soon"), "--ttl must be a duration like"),
        Arguments.of(
            List.of("start", "web", "--count", "2147483648"),
            "--count must be a whole number from 0 to 2147483647 (got \"2147483648\")"),
        Arguments.of(List.of("start", "web", "--count", "1e3"), "--count must be a whole number"),
        Arguments.of(
            List.of("start", "web", "--files", "07"), "--files must be a whole number from 0"),
        Arguments.of(
            List.of("start", "web", "--file-size", "1.5"),
            "--file-size must be a whole number from 0"),
        Arguments.of(
            List.of("start", "web", "--snaplen", "-1"), "--snaplen must be a whole number"),
        Arguments.of(List.of("start", "web", "--name", "Web_1"), "invalid name \"Web_1\""),
        Arguments.of(List.of("start", "web", "--name", "-x"), "invalid name \"-x\""),
        Arguments.of(
            List.of("start", "web", "--wait"),
            "--wait needs --duration or --count: without them a capture runs until it is stopped"),
        Arguments.of(
            List.of("start", "web", "--wait=yes", "--count", "1"), "--wait takes no value"),
        Arguments.of(
            List.of("start", "web", "--max-pods", "3"),
            "--max-pods is for a set: give -l SELECTOR instead of a POD"),
        Arguments.of(
            List.of("start", "-l", "app=web", "--max-pods", "-1"),
            "--max-pods must be a whole number from 0 to 2147483647 (got \"-1\")"),
        Arguments.of(
            List.of("start", "-l", "app=web", "--name", "s".repeat(64)),
            "invalid name \"" + "s".repeat(64) + "\": a set's name is at most 63 characters"),
        Arguments.of(
            List.of("start", "-l", "app=web", "--name", "Set_1"), "invalid name \"Set_1\""),
        Arguments.of(
            List.of("start", "-l", "=web"),
            "invalid label selector \"=web\": cannot read \"=web\""),
        Arguments.of(
            List.of("start", "-l", "app=web;id"),
            "invalid label selector \"app=web;id\": \"web;id\" is not a label value"),
        Arguments.of(
            List.of("start", "-l", "$(id)=x"),
            "invalid label selector \"$(id)=x\": \"$(id)\" is not a label key"),
        Arguments.of(
            List.of("start", "-l", "app in ()"),
            "invalid label selector \"app in ()\": app in () needs a value"),
        Arguments.of(
            List.of("start", "-l", "app=web,app=db"),
            "invalid label selector \"app=web,app=db\": app is given twice"),
        Arguments.of(
            List.of("start", "-l", "app=" + "w".repeat(64)),
            "invalid label selector \"app=" + "w".repeat(64) + "\": \""),
        Arguments.of(List.of("start", "-l", ""), "-l needs a label selector"),
        Arguments.of(List.of("start", "web", "-l", "app=web"), "give either a POD or -l, not both"),
        Arguments.of(
            List.of("start", "-l", "app=web", "5"),
            "with -l, start creates one PodCaptureSet for every matching Pod, now and later; N is"
                + " the annotation's number of files, for one Pod: give --files 5"),
        Arguments.of(List.of("start", "--selector="), "--selector needs a label selector"),
        Arguments.of(List.of("stop"), "stop needs a NAME or POD"),
        Arguments.of(List.of("stop", "web", "3"), "too many arguments for stop: 3"),
        Arguments.of(List.of("stop", "web", "-A"), "stop does not take -A"),
        Arguments.of(
            List.of("stop", "web", "-l", "app=web"), "give either a NAME or POD or -l, not both"),
        Arguments.of(List.of("stop", "web", "--filter", "udp"), "stop does not take --filter"),
        Arguments.of(List.of("list", "web"), "too many arguments for list: web"),
        Arguments.of(List.of("list", "-A", "-n", "prod"), "use either -n or -A, not both"),
        Arguments.of(List.of("list", "-o", "out"), "list does not take -o"),
        Arguments.of(List.of("list", "--wait"), "list does not take --wait"),
        Arguments.of(List.of("download"), "download needs a NAME or POD"),
        Arguments.of(List.of("download", "web", "extra"), "too many arguments for download: extra"),
        Arguments.of(List.of("download", "web", "-o"), "-o needs a directory"),
        Arguments.of(List.of("download", "web", "-o", ""), "-o needs a directory"),
        Arguments.of(
            List.of("download", "web", "-o", "out:x"), "the directory must not contain ':'"),
        Arguments.of(List.of("download", "web", "-A"), "download does not take -A"),
        Arguments.of(List.of("download", "web", "--count", "3"), "download does not take --count"),
        Arguments.of(
            List.of("download", "web", "-l", "app=web"),
            "give either a NAME or POD or -l, not both"),
        Arguments.of(List.of("stream"), "stream needs a NAME or POD"),
        Arguments.of(List.of("stream", "web", "db"), "too many arguments for stream: db"),
        Arguments.of(List.of("stream", "-l", "app=web"), "stream does not take -l"),
        Arguments.of(List.of("stream", "web", "--filter", "udp"), "stream does not take --filter"),
        Arguments.of(List.of("stream", "web", "-o", "x"), "stream does not take -o"));
  }

  @ParameterizedTest
  @MethodSource("badInput")
  void badInputIsAUsageErrorAndCallsNoKubectl(List<String> args, String error) throws Exception {
    Result r = run(args.toArray(String[]::new));

    assertEquals(2, r.exit(), r.stderr());
    assertTrue(r.stderr().contains("error: " + error), r.stderr());
    assertTrue(r.stderr().contains("Run \"kubectl podcapture help\" for usage."), r.stderr());
    assertEquals(List.of(), kubectlCalls());
  }

  // ---------------------------------------------------------------- start: the annotation

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
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
    kubectl.on(expected).prints("pod/" + expected.get(2) + " annotated\n");

    Result r = run(words(args).toArray(String[]::new));

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(List.of(expected), kubectlCalls());
    assertTrue(r.stdout().contains(" annotated"), r.stdout());
    assertTrue(r.stdout().contains("Follow it with: kubectl get podcapture "), r.stdout());
  }

  @Test
  void startReportsKubectlsErrorWhenThePodDoesNotExist() throws Exception {
    List<String> annotate = words("annotate pod web -n default tcpdump.antrea.io=5 --overwrite");
    kubectl.on(annotate).exitsWith(1, "Error from server (NotFound): pods \"web\" not found\n");

    Result r = run("start", "web", "-n", "default");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("Error from server (NotFound): pods \"web\" not found"), r.stderr());
    assertFalse(r.stdout().contains("requested"), r.stdout());
    assertEquals(List.of(annotate), kubectlCalls());
  }

  // ---------------------------------------------------------------- start: a PodCapture of its own

  /** Each start form, and the exact PodCapture it creates. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      start web --filter 'tcp port 443'        | {"generateName":"web-"}    | {"podName":"web","filter":"tcp port 443"}
      start web --filter=udp -n prod           | {"generateName":"web-"}    | {"podName":"web","filter":"udp"}
      start web --duration 30s                 | {"generateName":"web-"}    | {"podName":"web","durationSeconds":30}
      start web --duration 5m                  | {"generateName":"web-"}    | {"podName":"web","durationSeconds":300}
      start web --duration 1h                  | {"generateName":"web-"}    | {"podName":"web","durationSeconds":3600}
      start web --duration 1h30m               | {"generateName":"web-"}    | {"podName":"web","durationSeconds":5400}
      start web --duration=90                  | {"generateName":"web-"}    | {"podName":"web","durationSeconds":90}
      start web --count 1000                   | {"generateName":"web-"}    | {"podName":"web","packetCount":1000}
      start web --files 4                      | {"generateName":"web-"}    | {"podName":"web","maxFiles":4}
      start web --file-size 10                 | {"generateName":"web-"}    | {"podName":"web","fileSizeMB":10}
      start web --snaplen 128                  | {"generateName":"web-"}    | {"podName":"web","snapLength":128}
      start web --snaplen 0                    | {"generateName":"web-"}    | {"podName":"web","snapLength":0}
      start web --ttl 1h                       | {"generateName":"web-"}    | {"podName":"web","ttlSecondsAfterFinished":3600}
      start web --ttl 0s                       | {"generateName":"web-"}    | {"podName":"web","ttlSecondsAfterFinished":0}
      start web --name web-tls                 | {"name":"web-tls"}         | {"podName":"web"}
      start --name=web web -n prod             | {"name":"web"}             | {"podName":"web"}
      start db-0.db --count 5 -n team-a        | {"generateName":"db-0.db-"}| {"podName":"db-0.db","packetCount":5}
      start web --files 3 --file-size 2 --filter 'port 53' --duration 2m --count 9 --snaplen 96 --ttl 10m | {"generateName":"web-"} | {"podName":"web","maxFiles":3,"fileSizeMB":2,"filter":"port 53","durationSeconds":120,"packetCount":9,"snapLength":96,"ttlSecondsAfterFinished":600}
      """)
  void startWithOptionsCreatesExactlyThisPodCapture(String args, String metadata, String spec)
      throws Exception {
    List<String> argv = shellWords(args);
    String namespace = argv.contains("prod") ? "prod" : argv.contains("team-a") ? "team-a" : null;
    kubectl.on(createCall(namespace)).prints("podcapture.tcpdump.antrea.io/web-x7k2p\n");

    Result r = run(argv.toArray(String[]::new));

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("web-x7k2p\n", r.stdout());
    assertEquals(List.of(createCall(namespace)), kubectlCalls());
    assertJson(
        "{\"apiVersion\":\"tcpdump.antrea.io/v1alpha1\",\"kind\":\"PodCapture\",\"metadata\":"
            + metadata
            + ",\"spec\":"
            + spec
            + "}",
        onlyManifest());
    assertTrue(r.stderr().contains("Follow with: kubectl podcapture list"), r.stderr());
  }

  /** A filter is data: quotes, backslashes and shell syntax arrive in the manifest as typed. */
  @Test
  void startWithAFilterFullOfQuotesAndShellSyntaxSendsItVerbatim() throws Exception {
    String filter = "tcp[13] & 2 != 0 and not host \"$(reboot)\" or ether[0] = 0x5c\\\n and `id`";
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/web-x7k2p\n");

    Result r = run("start", "web", "--filter", filter);

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(filter, JSON.readTree(onlyManifest()).at("/spec/filter").asText());
  }

  @Test
  void startCutsALongPodNameSoTheGeneratedNameStaysValid() throws Exception {
    String pod = "a".repeat(56) + ".b" + "c".repeat(20);
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/x\n");

    Result r = run("start", pod, "--count", "1");

    assertEquals(0, r.exit(), r.stderr());
    // 57 characters would end in '.', which may not come before the '-'
    assertEquals(
        "a".repeat(56) + "-", JSON.readTree(onlyManifest()).at("/metadata/generateName").asText());
  }

  @Test
  void startReportsWhatKubectlCreateRefused() throws Exception {
    kubectl
        .on(createCall(null))
        .exitsWith(
            1,
            "Error from server (AlreadyExists): podcaptures.tcpdump.antrea.io \"web-tls\" already exists\n");

    Result r = run("start", "web", "--name", "web-tls", "--count", "5");

    assertEquals(1, r.exit());
    assertEquals("", r.stdout());
    assertTrue(r.stderr().contains("(AlreadyExists)"), r.stderr());
    assertTrue(
        r.stderr()
            .contains("error: kubectl create failed (its error is above); 0 PodCapture(s) created"),
        r.stderr());
  }

  /**
   * What the API server refuses for a field's limits (the CRD's minimum, maximum and rules), as a
   * real one words it; the plugin keeps no copy of those limits.
   */
  static Stream<Arguments> outsideTheCrdsLimits() {
    String invalid = "The PodCapture \"\" is invalid: ";
    return Stream.of(
        Arguments.of(
            List.of("--filter", "x".repeat(1025)),
            "\"filter\":\"" + "x".repeat(1025) + "\"",
            invalid
                + "spec.filter: Invalid value: \"string\": filter must be at most 1024 characters"),
        Arguments.of(
            List.of("--duration", "0"),
            "\"durationSeconds\":0",
            invalid
                + "spec.durationSeconds: Invalid value: 0: spec.durationSeconds in body should be"
                + " greater than or equal to 1"),
        Arguments.of(
            List.of("--duration", "0s"),
            "\"durationSeconds\":0",
            invalid
                + "spec.durationSeconds: Invalid value: 0: spec.durationSeconds in body should be"
                + " greater than or equal to 1"),
        Arguments.of(
            List.of("--count", "0"),
            "\"packetCount\":0",
            invalid
                + "spec.packetCount: Invalid value: 0: spec.packetCount in body should be greater"
                + " than or equal to 1"),
        Arguments.of(
            List.of("--files", "0"),
            "\"maxFiles\":0",
            invalid
                + "spec.maxFiles: Invalid value: 0: spec.maxFiles in body should be greater than or"
                + " equal to 1"),
        Arguments.of(
            List.of("--files", "1001"),
            "\"maxFiles\":1001",
            invalid
                + "spec.maxFiles: Invalid value: 1001: spec.maxFiles in body should be less than or"
                + " equal to 1000"),
        Arguments.of(
            List.of("--file-size", "1025"),
            "\"fileSizeMB\":1025",
            invalid
                + "spec.fileSizeMB: Invalid value: 1025: spec.fileSizeMB in body should be less than"
                + " or equal to 1024"),
        Arguments.of(
            List.of("--snaplen", "262145"),
            "\"snapLength\":262145",
            invalid
                + "spec.snapLength: Invalid value: 262145: spec.snapLength in body should be less"
                + " than or equal to 262144"));
  }

  @ParameterizedTest
  @MethodSource("outsideTheCrdsLimits")
  void aValueOutsideTheCrdsLimitsIsSentAndTheApiServersRefusalShown(
      List<String> option, String field, String refusal) throws Exception {
    kubectl.on(createCall(null)).exitsWith(1, refusal + "\n");
    List<String> args = new ArrayList<>(List.of("start", "web"));
    args.addAll(option);

    Result r = run(args.toArray(String[]::new));

    assertEquals(1, r.exit(), r.stderr());
    assertEquals("", r.stdout());
    assertTrue(onlyManifest().contains(field), onlyManifest());
    assertTrue(r.stderr().contains(refusal), r.stderr());
    assertTrue(
        r.stderr()
            .endsWith(
                "error: kubectl create failed (its error is above); 0 PodCapture(s) created\n"),
        r.stderr());
  }

  @Test
  void startWaitEndsOnCompletedAndPrintsTheOutcome() throws Exception {
    kubectl.on(createCall("default")).prints("podcapture.tcpdump.antrea.io/web-x7k2p\n");
    kubectl
        .on(waitCall("web-x7k2p", "default"))
        .prints(waitStatus("Pending", "", "", "", "waiting for the agent"))
        .once();
    kubectl
        .on(waitCall("web-x7k2p", "default"))
        .prints(waitStatus("Running", "node-1", "1", "24", "tcpdump is running"))
        .once();
    kubectl
        .on(waitCall("web-x7k2p", "default"))
        .prints(waitStatus("Running", "node-1", "1", "4096", "tcpdump is running"))
        .once();
    kubectl
        .on(waitCall("web-x7k2p", "default"))
        .prints(waitStatus("Completed", "node-1", "1", "8192", "stopped after 30 s"));

    Result r = run("start", "web", "--duration", "30s", "--wait", "-n", "default");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        "web-x7k2p\nweb-x7k2p: Completed on node node-1, 1 file(s), 8192 bytes (stopped after 30 s)\n",
        r.stdout());
    assertEquals(
        List.of(
            createCall("default"),
            waitCall("web-x7k2p", "default"),
            waitCall("web-x7k2p", "default"),
            waitCall("web-x7k2p", "default"),
            waitCall("web-x7k2p", "default")),
        kubectlCalls());
    assertTrue(
        r.stderr().contains("Download with: kubectl podcapture download web-x7k2p -n default"),
        r.stderr());
  }

  @Test
  void startWaitEndsOnFailedWithExitCodeOneAndTheAgentsMessage() throws Exception {
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/web-x7k2p\n");
    kubectl.on(waitCall("web-x7k2p", null)).prints(waitStatus("Pending", "", "", "", "")).once();
    kubectl
        .on(waitCall("web-x7k2p", null))
        .prints(
            waitStatus(
                "Failed",
                "node-1",
                "0",
                "0",
                "invalid filter: tcpdump: syntax error in filter expression"));

    Result r = run("start", "web", "--count", "10", "--filter", "icmp and and", "--wait");

    assertEquals(1, r.exit());
    assertEquals(
        "web-x7k2p\nweb-x7k2p: Failed: invalid filter: tcpdump: syntax error in filter expression\n",
        r.stdout());
    assertEquals(
        "error: web-x7k2p Failed: fix what the message says and start again "
            + "(kubectl describe podcapture web-x7k2p shows the events)\n",
        r.stderr());
    assertEquals(3, kubectlCalls().size());
  }

  @Test
  void startWaitSaysSoWhenTheCaptureIsDeletedBeforeItEnds() throws Exception {
    kubectl.on(createCall(null)).prints("podcapture.tcpdump.antrea.io/web-x7k2p\n");
    kubectl
        .on(waitCall("web-x7k2p", null))
        .prints(waitStatus("Running", "node-1", "1", "24", ""))
        .once();
    kubectl.on(waitCall("web-x7k2p", null)).prints("");

    Result r = run("start", "web", "--count", "10", "--ttl", "0", "--wait");

    assertEquals(1, r.exit());
    assertEquals(
        "error: PodCapture web-x7k2p was deleted before it finished (by someone, or by its --ttl); "
            + "nothing to wait for\n",
        r.stderr());
  }

  // ---------------------------------------------------------------- start -l: a PodCaptureSet

  /** Each start -l form, and the exact PodCaptureSet it creates: one, whatever matches now. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      start -l app=web --duration 60                  | {"generateName":"app-web-"}  | {"selector":{"matchLabels":{"app":"web"}},"durationSeconds":60}
      start -l app=web                                | {"generateName":"app-web-"}  | {"selector":{"matchLabels":{"app":"web"}}}
      start --selector=app==web -n prod --max-pods 30 | {"generateName":"app-web-"}  | {"selector":{"matchLabels":{"app":"web"}},"maxPods":30}
      start -l 'tier in (api, db),!canary' --name incident-42 | {"name":"incident-42"} | {"selector":{"matchExpressions":[{"key":"tier","operator":"In","values":["api","db"]},{"key":"canary","operator":"DoesNotExist"}]}}
      start -l 'example.com/role!=batch,track' --count 100 | {"generateName":"example-com-role-batch-track-"} | {"selector":{"matchExpressions":[{"key":"example.com/role","operator":"NotIn","values":["batch"]},{"key":"track","operator":"Exists"}]},"packetCount":100}
      start -l 'App=Web,env notin (prod)' --filter 'tcp port 443' --files 3 --file-size 2 --snaplen 96 --ttl 10m | {"generateName":"app-web-env-notin-prod-"} | {"selector":{"matchLabels":{"App":"Web"},"matchExpressions":[{"key":"env","operator":"NotIn","values":["prod"]}]},"filter":"tcp port 443","maxFiles":3,"fileSizeMB":2,"snapLength":96,"ttlSecondsAfterFinished":600}
      """)
  void startWithSelectorCreatesExactlyOnePodCaptureSet(String args, String metadata, String spec)
      throws Exception {
    List<String> argv = shellWords(args);
    String namespace = argv.contains("prod") ? "prod" : null;
    kubectl.on(createCall(namespace)).prints("podcaptureset.tcpdump.antrea.io/app-web-x7k2p\n");

    Result r = run(argv.toArray(String[]::new));

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("app-web-x7k2p\n", r.stdout());
    assertEquals(List.of(createCall(namespace)), kubectlCalls(), "no Pod is listed: the set is");
    assertJson(
        "{\"apiVersion\":\"tcpdump.antrea.io/v1alpha1\",\"kind\":\"PodCaptureSet\",\"metadata\":"
            + metadata
            + ",\"spec\":"
            + spec
            + "}",
        onlyManifest());
    assertTrue(
        r.stderr().contains("stop it, and delete its files, with: kubectl podcapture stop"),
        r.stderr());
  }

  @Test
  void startWithSelectorCutsTheGeneratedNameOfALongSelector() throws Exception {
    kubectl.on(createCall(null)).prints("podcaptureset.tcpdump.antrea.io/x\n");

    Result r = run("start", "-l", "app.kubernetes.io/name=" + "w".repeat(60));

    assertEquals(0, r.exit(), r.stderr());
    String prefix = JSON.readTree(onlyManifest()).at("/metadata/generateName").asText();
    assertEquals("app-kubernetes-io-name-" + "w".repeat(17) + "-", prefix);
  }

  @Test
  void startWithSelectorReportsWhatKubectlCreateRefused() throws Exception {
    kubectl
        .on(createCall(null))
        .exitsWith(
            1,
            "The PodCaptureSet \"s\" is invalid: spec.maxPods: Invalid value: 5000: spec.maxPods in"
                + " body should be less than or equal to 1000\n");

    Result r = run("start", "-l", "app=web", "--max-pods", "5000", "--name", "s");

    assertEquals(1, r.exit());
    assertEquals("", r.stdout());
    assertTrue(r.stderr().contains("should be less than or equal to 1000"), r.stderr());
    assertTrue(
        r.stderr()
            .endsWith(
                "error: kubectl create failed (its error is above); no PodCaptureSet created\n"),
        r.stderr());
  }

  @Test
  void startWithSelectorWaitEndsWhenEveryCaptureOfTheSetRuns() throws Exception {
    kubectl.on(createCall("prod")).prints("podcaptureset.tcpdump.antrea.io/app-web-x7k2p\n");
    kubectl.on(setCall("app-web-x7k2p", "prod")).prints(setStatus("", 0, 0, 0, 0, 0, 0, "")).once();
    kubectl
        .on(setCall("app-web-x7k2p", "prod"))
        .prints(setStatus("Running", 3, 3, 1, 2, 0, 2, ""))
        .once();
    kubectl.on(setCall("app-web-x7k2p", "prod")).prints(setStatus("Running", 3, 3, 3, 0, 0, 2, ""));

    Result r = run("start", "-l", "app=web", "--duration", "5m", "--wait", "-n", "prod");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        "app-web-x7k2p\napp-web-x7k2p: Running: 3 of 3 matching Pod(s) captured, on 2 node(s)\n",
        r.stdout());
    assertEquals(
        List.of(
            createCall("prod"),
            setCall("app-web-x7k2p", "prod"),
            setCall("app-web-x7k2p", "prod"),
            setCall("app-web-x7k2p", "prod")),
        kubectlCalls());
  }

  @Test
  void startWithSelectorWaitSaysWhyACaptureDoesNotRunAfterTheTimeout() throws Exception {
    kubectl.env.put("PODCAPTURE_START_TIMEOUT", "0");
    kubectl.on(createCall(null)).prints("podcaptureset.tcpdump.antrea.io/s\n");
    kubectl.on(setCall("s", null)).prints(setStatus("Running", 2, 2, 1, 1, 0, 2, ""));
    kubectl
        .on(setChildrenCall("s", null))
        .prints(
            items(
                child("s-web-1", "web-1", "Running", "node-1", ""),
                child(
                    "s-web-2",
                    "web-2",
                    "Pending",
                    "node-9",
                    "node node-9 runs no podcapture agent: the DaemonSet does not cover it")));

    Result r = run("start", "-l", "app=web", "--name", "s", "--wait");

    assertEquals(1, r.exit());
    assertEquals(
        "s\ns: not all running: after 0s it is Running, 1 of 2 capture(s) running, 1 pending\n"
            + "  s-web-2 (Pod web-2): Pending on node node-9: node node-9 runs no podcapture"
            + " agent: the DaemonSet does not cover it\n",
        r.stdout());
    assertTrue(
        r.stderr().contains("error: set s does not run as asked (kubectl describe podcaptureset s"),
        r.stderr());
  }

  @Test
  void startWithSelectorWaitFailsAtOnceWhenACaptureFailed() throws Exception {
    kubectl.on(createCall(null)).prints("podcaptureset.tcpdump.antrea.io/s\n");
    kubectl.on(setCall("s", null)).prints(setStatus("Running", 2, 2, 1, 0, 1, 1, ""));
    kubectl
        .on(setChildrenCall("s", null))
        .prints(
            items(
                child("s-web-1", "web-1", "Running", "node-1", ""),
                child("s-web-2", "web-2", "Failed", "node-1", "Pod web-2 uses the host network")));

    Result r = run("start", "-l", "app=web", "--name", "s", "--wait");

    assertEquals(1, r.exit());
    assertEquals(
        "s\ns: not all running: 1 of its 2 capture(s) Failed\n"
            + "  s-web-2 (Pod web-2): Failed on node node-1: Pod web-2 uses the host network\n",
        r.stdout());
    assertEquals(3, kubectlCalls().size(), "no waiting once a capture failed");
  }

  @Test
  void startWithSelectorWaitWithoutAMatchingPodSaysLaterOnesAreCaptured() throws Exception {
    kubectl.on(createCall(null)).prints("podcaptureset.tcpdump.antrea.io/s\n");
    kubectl.on(setCall("s", null)).prints(setStatus("Running", 0, 0, 0, 0, 0, 0, ""));

    Result r = run("start", "-l", "app=web", "--name", "s", "--wait");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        "s\ns: Running; no Pod matches the selector yet: Pods that match while the set runs are"
            + " captured\n",
        r.stdout());
  }

  @Test
  void startWithSelectorWaitReportsASetThatFailed() throws Exception {
    kubectl.on(createCall(null)).prints("podcaptureset.tcpdump.antrea.io/s\n");
    kubectl
        .on(setCall("s", null))
        .prints(setStatus("Failed", 0, 0, 0, 0, 0, 0, "invalid filter: syntax error"));
    kubectl.on(setChildrenCall("s", null)).prints(items());

    Result r = run("start", "-l", "app=web", "--name", "s", "--filter", "tcp and and", "--wait");

    assertEquals(1, r.exit());
    assertEquals("s\ns: not all running: it Failed: invalid filter: syntax error\n", r.stdout());
  }

  // ---------------------------------------------------------------- stop

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      stop web -n default        | default | annotate pod web -n default tcpdump.antrea.io-
      stop web                   |         | annotate pod web tcpdump.antrea.io-
      stop -n prod web           | prod    | annotate pod web -n prod tcpdump.antrea.io-
      stop web --namespace=prod  | prod    | annotate pod web -n prod tcpdump.antrea.io-
      """)
  void stopOfTheAnnotationsCaptureRemovesTheAnnotation(
      String args, String namespace, String expected) throws Exception {
    kubectl.on(isSetCall("web", namespace)).prints("");
    answerCaptures(
        namespace, row("web", "web", true, "Running"), row("web-x7k2p", "web", false, "Running"));
    kubectl.on(words(expected)).prints("pod/web annotated\n");

    Result r = run(words(args).toArray(String[]::new));

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(isSetCall("web", namespace), capturesCall(namespace), words(expected)),
        kubectlCalls());
    assertEquals("pod/web annotated\n", r.stdout());
  }

  @Test
  void stopOfACaptureByNameDeletesThatPodCaptureOnly() throws Exception {
    kubectl.on(isSetCall("web-x7k2p", "default")).prints("");
    answerCaptures(
        "default", row("web", "web", true, "Running"), row("web-x7k2p", "web", false, "Completed"));
    List<String> delete = words("delete podcapture web-x7k2p -n default");
    kubectl.on(delete).prints("podcapture.tcpdump.antrea.io \"web-x7k2p\" deleted\n");

    Result r = run("stop", "web-x7k2p", "-n", "default");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(isSetCall("web-x7k2p", "default"), capturesCall("default"), delete),
        kubectlCalls());
  }

  /**
   * A PodCapture named after its Pod but created directly is deleted, not mistaken for the
   * annotation's.
   */
  @Test
  void stopOfADirectCaptureNamedAfterItsPodDeletesIt() throws Exception {
    kubectl.on(isSetCall("web", null)).prints("");
    answerCaptures(null, row("web", "web", false, "Running"));
    kubectl
        .on(words("delete podcapture web"))
        .prints("podcapture.tcpdump.antrea.io \"web\" deleted\n");

    Result r = run("stop", "web");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(isSetCall("web", null), capturesCall(null), words("delete podcapture web")),
        kubectlCalls());
  }

  @Test
  void stopOfAPodWithoutACaptureOfThatNameStopsEveryCaptureOfThePod() throws Exception {
    kubectl.on(isSetCall("web", "default")).prints("");
    answerCaptures(
        "default",
        row("db-abcde", "db", false, "Running"),
        row("web-x7k2p", "web", false, "Running"),
        row("tls", "web", false, "Completed"));
    List<String> delete = words("delete podcapture web-x7k2p tls -n default");
    kubectl.on(delete).prints("deleted\n");

    Result r = run("stop", "web", "-n", "default");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(isSetCall("web", "default"), capturesCall("default"), delete), kubectlCalls());
  }

  @Test
  void stopWithSelectorStopsEveryCaptureOfTheMatchingPods() throws Exception {
    answerPods("prod", "app=web", "web-1", "web-2");
    answerCaptures(
        "prod",
        row("web-1", "web-1", true, "Running"),
        row("web-1-abcde", "web-1", false, "Running"),
        row("web-2-fghij", "web-2", false, "Completed"),
        row("db-1", "db-1", true, "Running"));
    List<String> annotate = words("annotate pod web-1 -n prod tcpdump.antrea.io-");
    List<String> delete = words("delete podcapture web-1-abcde web-2-fghij -n prod");
    kubectl.on(annotate).prints("pod/web-1 annotated\n");
    kubectl.on(delete).prints("deleted\n");

    Result r = run("stop", "-l", "app=web", "-n", "prod");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(podsCall("prod", "app=web"), capturesCall("prod"), annotate, delete),
        kubectlCalls());
  }

  @Test
  void stopWithSelectorOfPodsWithoutCapturesSaysSoAndSucceeds() throws Exception {
    answerPods(null, "app=web", "web-1");
    answerCaptures(null, row("db-1", "db-1", true, "Running"));

    Result r = run("stop", "-l", "app=web");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        "No captures of the 1 Pod(s) matching \"app=web\" in the current namespace.\n", r.stderr());
    assertEquals(List.of(podsCall(null, "app=web"), capturesCall(null)), kubectlCalls());
  }

  @Test
  void stopOfSomethingThatIsNeitherACaptureNorAPodWithCapturesFails() throws Exception {
    kubectl.on(isSetCall("web", "default")).prints("");
    answerCaptures("default", row("db-abcde", "db", false, "Running"));

    Result r = run("stop", "web", "-n", "default");

    assertEquals(1, r.exit());
    assertEquals(
        "error: no capture named web and no capture of a Pod web in namespace default: "
            + "see kubectl podcapture list -n default\n",
        r.stderr());
  }

  @Test
  void stopOfASetDeletesTheSetAndSoEveryCaptureOfIt() throws Exception {
    kubectl
        .on(isSetCall("incident-42", "prod"))
        .prints("podcaptureset.tcpdump.antrea.io/incident-42\n");
    List<String> delete = words("delete podcaptureset incident-42 -n prod");
    kubectl.on(delete).prints("podcaptureset.tcpdump.antrea.io \"incident-42\" deleted\n");

    Result r = run("stop", "incident-42", "-n", "prod");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(List.of(isSetCall("incident-42", "prod"), delete), kubectlCalls());
    assertEquals("podcaptureset.tcpdump.antrea.io \"incident-42\" deleted\n", r.stdout());
  }

  @Test
  void stopPassesKubectlErrorsAboutSetsThrough() throws Exception {
    kubectl
        .on(isSetCall("web", null))
        .exitsWith(1, "error: the server doesn't have a resource type \"podcaptureset\"\n");

    Result r = run("stop", "web");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("error: cannot read PodCaptureSets in the current namespace"),
        r.stderr());
    assertEquals(List.of(isSetCall("web", null)), kubectlCalls());
  }

  // ---------------------------------------------------------------- list

  @Test
  void listShowsEveryCaptureFinishedOrNotWithItsAge() throws Exception {
    Instant now = Instant.now();
    kubectl.on(setsCall("default")).prints(items());
    answerCaptures(
        "default",
        row("web", "web", true, "Running", "node-1", "2", "2097600", now.minusSeconds(720)),
        row(
            "web-x7k2p",
            "web",
            false,
            "Completed",
            "node-1",
            "1",
            "8192",
            now.minus(5, ChronoUnit.HOURS)),
        row(
            "db-abcde",
            "db",
            false,
            "Failed",
            "node-2",
            "",
            "",
            now.minus(3, ChronoUnit.DAYS).minusSeconds(7300)),
        row("new", "api", false, "", "", "", "", now.minus(400, ChronoUnit.DAYS)));

    Result r = run("list", "-n", "default");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        """
        NAME        POD   PHASE       NODE     FILES   BYTES     AGE
        web         web   Running     node-1   2       2097600   12m
        web-x7k2p   web   Completed   node-1   1       8192      5h
        db-abcde    db    Failed      node-2   0       0         3d2h
        new         api   <none>      <none>   0       0         400d
        """,
        r.stdout());
    assertEquals(List.of(setsCall("default"), capturesCall("default")), kubectlCalls());
  }

  @ParameterizedTest
  @CsvSource({"list -A", "list --all-namespaces"})
  void listOfAllNamespacesShowsTheNamespace(String args) throws Exception {
    Instant now = Instant.now();
    kubectl
        .on(List.of("get", "podcapturesets", "--all-namespaces", "-o", JSON_OUTPUT))
        .prints(items());
    kubectl
        .on(List.of("get", "podcaptures", "--all-namespaces", "-o", JSON_OUTPUT))
        .prints(
            items(
                rowIn(
                    "shop",
                    "web",
                    "web",
                    true,
                    "Running",
                    "node-1",
                    "1",
                    "24",
                    now.minusSeconds(600)),
                rowIn(
                    "default",
                    "db-abcde",
                    "db",
                    false,
                    "Completed",
                    "node-2",
                    "1",
                    "48",
                    now.minus(5, ChronoUnit.HOURS))));

    Result r = run(words(args).toArray(String[]::new));

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        """
        NAMESPACE   NAME       POD   PHASE       NODE     FILES   BYTES   AGE
        shop        web        web   Running     node-1   1       24      10m
        default     db-abcde   db    Completed   node-2   1       48      5h
        """,
        r.stdout());
  }

  @Test
  void listWithSelectorShowsTheCapturesOfTheMatchingPodsOnly() throws Exception {
    Instant now = Instant.now();
    answerPods("prod", "app=web", "web-1", "web-2");
    answerCaptures(
        "prod",
        row("web-1", "web-1", true, "Running", "node-1", "1", "24", now.minusSeconds(900)),
        row("db-1", "db-1", true, "Running", "node-1", "1", "24", now.minusSeconds(30)),
        row(
            "web-2-fghij",
            "web-2",
            false,
            "Completed",
            "node-2",
            "1",
            "96",
            now.minusSeconds(7200)));

    Result r = run("list", "-l", "app=web", "-n", "prod");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        """
        NAME          POD     PHASE       NODE     FILES   BYTES   AGE
        web-1         web-1   Running     node-1   1       24      15m
        web-2-fghij   web-2   Completed   node-2   1       96      120m
        """,
        r.stdout());
    assertEquals(List.of(podsCall("prod", "app=web"), capturesCall("prod")), kubectlCalls());
  }

  @Test
  void listWithSelectorInAllNamespacesMatchesPodsByNamespaceAndName() throws Exception {
    Instant now = Instant.now();
    kubectl
        .on(List.of("get", "pods", "--all-namespaces", "--selector=app=web", "-o", JSON_OUTPUT))
        .prints(items(pod("shop", "web")));
    kubectl
        .on(List.of("get", "podcaptures", "--all-namespaces", "-o", JSON_OUTPUT))
        .prints(
            items(
                rowIn(
                    "shop",
                    "web",
                    "web",
                    true,
                    "Running",
                    "node-1",
                    "1",
                    "24",
                    now.minusSeconds(600)),
                rowIn(
                    "default",
                    "web",
                    "web",
                    true,
                    "Running",
                    "node-2",
                    "1",
                    "48",
                    now.minusSeconds(600))));

    Result r = run("list", "-A", "-l", "app=web");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        """
        NAMESPACE   NAME   POD   PHASE     NODE     FILES   BYTES   AGE
        shop        web    web   Running   node-1   1       24      10m
        """,
        r.stdout());
  }

  @Test
  void listShowsSetsFirstThenCapturesWithTheirSet() throws Exception {
    Instant now = Instant.now();
    kubectl
        .on(setsCall("prod"))
        .prints(
            items(
                setRow(
                    "prod", "app-web-x7k2p", "Running", 3, 2, 1, 2, 1048576, now.minusSeconds(300)),
                setRow(
                    "prod", "incident-42", "Completed", 0, 0, 4, 3, 8192, now.minusSeconds(7200))));
    String child =
        row(
            "app-web-x7k2p-web-1",
            "web-1",
            false,
            "Running",
            "node-1",
            "1",
            "24",
            now.minusSeconds(290));
    ObjectNode labelled = (ObjectNode) JSON.readTree(child);
    ((ObjectNode) labelled.get("metadata"))
        .putObject("labels")
        .put("tcpdump.antrea.io/set", "app-web-x7k2p");
    answerCaptures(
        "prod",
        labelled.toString(),
        row("db-abcde", "db", false, "Completed", "node-2", "1", "48", now.minusSeconds(600)));

    Result r = run("list", "-n", "prod");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        """
        SET             PHASE       MATCHED   RUNNING   COMPLETED   NODES   BYTES     AGE
        app-web-x7k2p   Running     3         2         1           2       1048576   5m
        incident-42     Completed   0         0         4           3       8192      120m

        NAME                  POD     SET             PHASE       NODE     FILES   BYTES   AGE
        app-web-x7k2p-web-1   web-1   app-web-x7k2p   Running     node-1   1       24      4m50s
        db-abcde              db      <none>          Completed   node-2   1       48      10m
        """,
        r.stdout());
  }

  @Test
  void listOfAllNamespacesShowsSetsWithTheirNamespace() throws Exception {
    Instant now = Instant.now();
    kubectl
        .on(List.of("get", "podcapturesets", "--all-namespaces", "-o", JSON_OUTPUT))
        .prints(items(setRow("shop", "s", "Running", 0, 0, 0, 0, 0, now.minusSeconds(30))));
    kubectl
        .on(List.of("get", "podcaptures", "--all-namespaces", "-o", JSON_OUTPUT))
        .prints(items());

    Result r = run("list", "-A");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        """
        NAMESPACE   SET   PHASE     MATCHED   RUNNING   COMPLETED   NODES   BYTES   AGE
        shop        s     Running   0         0         0           0       0       30s
        """,
        r.stdout());
  }

  @Test
  void listWithoutCapturesSaysSo() throws Exception {
    kubectl.on(setsCall(null)).prints(items());
    answerCaptures(null);

    Result r = run("list");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("", r.stdout());
    assertEquals("No captures in the current namespace.\n", r.stderr());
  }

  /**
   * Reading kubectl's answers needs perl (JSON::PP): without it the plugin says so, after asking
   * kubectl, and lists nothing half-read.
   */
  @Test
  void listWithoutPerlSaysThePluginNeedsIt() throws Exception {
    kubectl.on(setsCall("prod")).prints(items());
    answerCaptures("prod", row("web", "web", true, "Running"));
    Files.delete(kubectl.tools.resolve("perl"));

    Result r = run("list", "-n", "prod");

    assertEquals(1, r.exit());
    assertEquals("", r.stdout());
    assertEquals(
        "error: kubectl podcapture needs perl to read kubectl's answers (its core module"
            + " JSON::PP)\n",
        r.stderr());
    assertEquals(List.of(setsCall("prod")), kubectlCalls());
  }

  /** An answer that is not JSON (a kubectl that ignored -o json) is an error, not a guess. */
  @Test
  void listOfAnAnswerThatIsNotJsonIsAnError() throws Exception {
    kubectl.on(setsCall("prod")).prints(items());
    kubectl.on(capturesCall("prod")).prints("prod|web|web||Running|node-1|1|24|x\n");

    Result r = run("list", "-n", "prod");

    assertEquals(1, r.exit());
    assertEquals("", r.stdout());
    assertTrue(
        r.stderr().endsWith("error: cannot read kubectl's answer as JSON (see the error above)\n"),
        r.stderr());
  }

  @Test
  void listPassesKubectlErrorsThrough() throws Exception {
    kubectl.on(setsCall("prod")).prints(items());
    kubectl
        .on(capturesCall("prod"))
        .exitsWith(1, "error: the server doesn't have a resource type \"podcaptures\"\n");

    Result r = run("list", "-n", "prod");

    assertEquals(1, r.exit());
    assertTrue(r.stderr().contains("the server doesn't have a resource type"), r.stderr());
    assertTrue(r.stderr().contains("error: cannot list PodCaptures in namespace prod"), r.stderr());
  }

  /**
   * Ages as kubectl shows them; the plugin may run a second or two after the time stamp was made.
   */
  @ParameterizedTest
  @CsvSource({
    "5, 5s 6s 7s",
    "119, 119s 2m 2m1s",
    "200, 3m20s 3m21s 3m22s",
    "600, 10m",
    "10799, 179m 3h",
    "10800, 3h",
    "12000, 3h20m",
    "28800, 8h",
    "172800, 2d",
    "183600, 2d3h",
    "691200, 8d",
    "8640000, 100d"
  })
  void listShowsAgesLikeKubectl(long seconds, String expected) throws Exception {
    kubectl.on(setsCall(null)).prints(items());
    answerCaptures(
        null,
        row(
            "web",
            "web",
            true,
            "Running",
            "node-1",
            "1",
            "24",
            Instant.now().minusSeconds(seconds)));

    Result r = run("list");

    String age = r.stdout().lines().skip(1).findFirst().orElseThrow().replaceAll(".* ", "");
    assertTrue(List.of(expected.split(" ")).contains(age), age + " for " + seconds + " s");
  }

  // ---------------------------------------------------------------- download

  @Test
  void downloadCopiesEveryFileAndMergesTheRingWithMergecap() throws Exception {
    kubectl.installMergecap();
    answerStatus(
        "default", status("Running", "node-1", AGENT, "tcpdump is running", RING0, RING1, OLD0));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    answerCp(RING1, "out/capture-web.pcap1", "ring1;");
    answerCp(OLD0, "out/previous/capture-web.pcap0", "old0;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(
            statusCall("default"),
            agentPodCall(),
            cpCall(RING0, "out/capture-web.pcap0"),
            cpCall(RING1, "out/capture-web.pcap1"),
            cpCall(OLD0, "out/previous/capture-web.pcap0")),
        kubectlCalls());
    assertEquals(
        List.of(
            List.of(
                "-w", "out/capture-web.pcap", "out/capture-web.pcap0", "out/capture-web.pcap1")),
        calls("mergecap.calls"));
    assertEquals("ring0;", read("out/capture-web.pcap0"));
    assertEquals("ring1;", read("out/capture-web.pcap1"));
    assertEquals("old0;", read("out/previous/capture-web.pcap0"));
    assertEquals("ring0;ring1;", read("out/capture-web.pcap"));
    assertEquals(
        List.of("capture-web.pcap", "capture-web.pcap0", "capture-web.pcap1", "previous"),
        list("out"));
    assertEquals(List.of("capture-web.pcap0"), list("out/previous"));
    assertTrue(
        r.stdout().contains("Merged 2 ring file(s), in time order, into out/capture-web.pcap."),
        r.stdout());
    assertEquals("", r.stderr());
  }

  @Test
  void downloadWithoutMergecapKeepsTheRingFilesAndSaysHowToMerge() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, RING1));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    answerCp(RING1, "out/capture-web.pcap1", "ring1;");

    Result r = run("download", "-n", "default", "web", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(
            statusCall("default"),
            agentPodCall(),
            cpCall(RING0, "out/capture-web.pcap0"),
            cpCall(RING1, "out/capture-web.pcap1")),
        kubectlCalls());
    assertEquals(List.of("capture-web.pcap0", "capture-web.pcap1"), list("out"));
    assertTrue(
        r.stdout()
            .contains("Downloaded 2 ring file(s) to out. mergecap (Wireshark) is not installed"),
        r.stdout());
    assertTrue(
        r.stdout()
            .contains(
                "  mergecap -w out/capture-web.pcap out/capture-web.pcap0 out/capture-web.pcap1\n"),
        r.stdout());
  }

  @Test
  void downloadDefaultsToTheCurrentDirectoryAndKubectlsCurrentNamespace() throws Exception {
    answerStatus(null, status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    answerCp(RING0, "./capture-web.pcap0", "ring0;");

    Result r = run("download", "web");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(statusCall(null), agentPodCall(), cpCall(RING0, "./capture-web.pcap0")),
        kubectlCalls());
    assertEquals("ring0;", read("capture-web.pcap0"));
  }

  @Test
  void downloadKeepsTheRingApartFromPreviousFilesInANamespaceCalledPrevious() throws Exception {
    answerStatus(
        "previous",
        statusIn(
            "previous",
            "Running",
            "node-1",
            AGENT,
            "",
            "/capture/previous/capture-web.pcap0",
            "/capture/previous/previous/capture-web.pcap0"));
    answerAgentPodExists();
    answerCp("/capture/previous/capture-web.pcap0", "out/capture-web.pcap0", "ring0;");
    answerCp(
        "/capture/previous/previous/capture-web.pcap0", "out/previous/capture-web.pcap0", "old0;");

    Result r = run("download", "web", "-n", "previous", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("ring0;", read("out/capture-web.pcap0"));
    assertEquals("old0;", read("out/previous/capture-web.pcap0"));
    assertTrue(r.stdout().contains("Downloaded 1 ring file(s) to out."), r.stdout());
  }

  @Test
  void downloadIntoADirectoryStartingWithDashIsNotReadAsAnOption() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    answerCp(RING0, "./-out/capture-web.pcap0", "ring0;");

    Result r = run("download", "web", "-n", "default", "-o", "-out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(cpCall(RING0, "./-out/capture-web.pcap0"), kubectlCalls().get(2));
    assertEquals("ring0;", read("-out/capture-web.pcap0"));
  }

  @Test
  void downloadOfASingleFileRingNeedsNoMerge() throws Exception {
    // With N=1 tcpdump writes capture-web.pcap itself: merging into that name would clobber the
    // input.
    kubectl.installMergecap();
    answerStatus(
        "default", status("Running", "node-1", AGENT, "", "/capture/default/capture-web.pcap"));
    answerAgentPodExists();
    answerCp("/capture/default/capture-web.pcap", "out/capture-web.pcap", "only;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(List.of(), calls("mergecap.calls"));
    assertEquals("only;", read("out/capture-web.pcap"));
    assertTrue(r.stdout().contains("The capture is in out/capture-web.pcap."), r.stdout());
  }

  @Test
  void downloadOfAStoppedCaptureWithFilesWarnsAndCopiesThem() throws Exception {
    answerStatus("default", status("Failed", "node-1", AGENT, "tcpdump exited with code 1", OLD0));
    answerAgentPodExists();
    answerCp(OLD0, "out/previous/capture-web.pcap0", "old0;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertTrue(
        r.stderr()
            .contains(
                "warning: capture web in namespace default is Failed "
                    + "(tcpdump exited with code 1); downloading the files it has."),
        r.stderr());
    assertEquals("old0;", read("out/previous/capture-web.pcap0"));
    assertEquals(List.of("previous"), list("out"));
    assertFalse(
        r.stdout().contains("mergecap"), "nothing to merge without ring files:\n" + r.stdout());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      default | no capture named web and no capture of a Pod web in namespace default: start one with kubectl podcapture start web -n default
              | no capture named web and no capture of a Pod web in the current namespace: start one with kubectl podcapture start web
      """)
  void downloadWithoutACaptureSaysHowToStartOne(String namespace, String error) throws Exception {
    answerStatus(
        namespace, ""); // kubectl get --ignore-not-found prints nothing for a missing object
    answerCaptures(namespace, row("db-abcde", "db", false, "Running"));

    Result r =
        run(
            namespace == null
                ? new String[] {"download", "web"}
                : new String[] {"download", "web", "-n", namespace});

    assertEquals(1, r.exit());
    assertEquals("error: " + error + "\n", r.stderr());
    assertEquals(List.of(statusCall(namespace), capturesCall(namespace)), kubectlCalls());
  }

  @Test
  void downloadPassesKubectlErrorsThrough() throws Exception {
    kubectl
        .on(statusCall("default"))
        .exitsWith(1, "error: the server doesn't have a resource type \"podcapture\"\n");

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("the server doesn't have a resource type \"podcapture\""), r.stderr());
    assertFalse(r.stderr().contains("no capture named"), r.stderr());
    assertEquals(List.of(statusCall("default")), kubectlCalls());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      Failed  | annotation tcpdump.antrea.io="abc" is not a number; use 1..64 | has no files to download (phase: Failed, message: annotation tcpdump.antrea.io="abc" is not a number; use 1..64)
      Pending | waiting for the Pod to get an IP                              | has no files to download (phase: Pending, message: waiting for the Pod to get an IP)
              |                                                               | has no files to download (phase: none yet)
      Running | tcpdump is running                                            | is Running but has no files yet; try again in a moment
      """)
  void downloadWithoutFilesShowsPhaseAndMessage(String phase, String message, String error)
      throws Exception {
    answerStatus("default", status(phase, "node-1", AGENT, message));

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit());
    assertEquals("error: capture web in namespace default " + error + "\n", r.stderr());
    assertEquals(List.of(statusCall("default")), kubectlCalls());
    assertFalse(Files.exists(work.resolve("out")));
  }

  @Test
  void downloadWithoutNamespaceFlagNamesTheCapturesNamespaceOnceFound() throws Exception {
    answerStatus(
        null, statusIn("team-a", "Pending", "node-1", AGENT, "waiting for the Pod to get an IP"));

    Result r = run("download", "web");

    assertEquals(1, r.exit());
    assertEquals(
        "error: capture web in namespace team-a has no files to download "
            + "(phase: Pending, message: waiting for the Pod to get an IP)\n",
        r.stderr());
  }

  @Test
  void downloadShowsAMessageSpanningLines() throws Exception {
    answerStatus("default", status("Failed", "node-1", AGENT, "first line\nmessage:\nlast line"));

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("(phase: Failed, message: first line\nmessage:\nlast line)\n"),
        r.stderr());
  }

  @Test
  void downloadWithoutAgentPodInTheStatusFails() throws Exception {
    answerStatus("default", status("Running", "node-1", "", "", RING0));

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit());
    assertEquals(
        "error: capture web in namespace default lists files but status.agentPod is empty: "
            + "the agent on node node-1 has not said which Pod holds them\n",
        r.stderr());
    assertEquals(List.of(statusCall("default")), kubectlCalls());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "podcapture-agent-x7k2p",
        "kube-system/Agent",
        "kube-system/a/b",
        "/podcapture-agent",
        "kube-system/",
        "-n/x"
      })
  void downloadRejectsAnAgentPodThatIsNotNamespaceSlashName(String agentPod) throws Exception {
    answerStatus("default", status("Running", "node-1", agentPod, "", RING0));

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("status.agentPod \"" + agentPod + "\" is not namespace/name"),
        r.stderr());
    assertEquals(List.of(statusCall("default")), kubectlCalls());
  }

  @Test
  void downloadFailsWhenTheAgentPodIsGone() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    kubectl.on(agentPodCall()).prints(""); // --ignore-not-found: nothing printed, exit 0

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit());
    assertEquals(
        "error: agent Pod kube-system/podcapture-agent-x7k2p (status.agentPod of the capture web in "
            + "namespace default) no longer exists; the agent on node node-1 may have restarted: wait for it to update "
            + "the status and try again\n",
        r.stderr());
    assertEquals(List.of(statusCall("default"), agentPodCall()), kubectlCalls());
    assertFalse(Files.exists(work.resolve("out")));
  }

  @Test
  void downloadFailsWhenTheAgentPodCannotBeRead() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    kubectl
        .on(agentPodCall())
        .exitsWith(
            1, "Error from server (Forbidden): pods \"podcapture-agent-x7k2p\" is forbidden\n");

    Result r = run("download", "web", "-n", "default");

    assertEquals(1, r.exit());
    assertTrue(r.stderr().contains("Error from server (Forbidden)"), r.stderr());
    assertTrue(
        r.stderr().contains("error: cannot read agent Pod kube-system/podcapture-agent-x7k2p"),
        r.stderr());
    assertEquals(List.of(statusCall("default"), agentPodCall()), kubectlCalls());
  }

  @Test
  void downloadStopsAtTheFirstFailingKubectlCp() throws Exception {
    kubectl.installMergecap();
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, RING1, OLD0));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    kubectl
        .on(cpCall(RING1, "out/capture-web.pcap1"))
        .exitsWith(1, "error: unable to upgrade connection\n");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(r.stderr().contains("error: unable to upgrade connection\n"), r.stderr());
    assertTrue(
        r.stderr()
            .contains(
                "error: kubectl cp kube-system/podcapture-agent-x7k2p:"
                    + RING1
                    + " out/capture-web.pcap1 failed\n"),
        r.stderr());
    assertEquals(
        List.of(
            statusCall("default"),
            agentPodCall(),
            cpCall(RING0, "out/capture-web.pcap0"),
            cpCall(RING1, "out/capture-web.pcap1")),
        kubectlCalls());
    assertEquals(List.of(), calls("mergecap.calls"));
    assertEquals(List.of("capture-web.pcap0"), list("out"));
  }

  @Test
  void downloadFailsWhenKubectlCpSucceedsWithoutWritingTheFile() throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    kubectl
        .on(cpCall(RING0, "out/capture-web.pcap0"))
        .exitsWith(
            0, "tar: capture/default/capture-web.pcap0: Cannot stat: No such file or directory\n");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr()
            .contains(
                "error: kubectl cp kube-system/podcapture-agent-x7k2p:"
                    + RING0
                    + " out/capture-web.pcap0 wrote no file\n"),
        r.stderr());
  }

  @Test
  void downloadDoesNotMistakeAFileFromAnEarlierDownloadForANewOne() throws Exception {
    Files.createDirectories(work.resolve("out"));
    Files.writeString(work.resolve("out/capture-web.pcap0"), "stale;");
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0));
    answerAgentPodExists();
    kubectl.on(cpCall(RING0, "out/capture-web.pcap0")).exitsWith(0, "");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(r.stderr().contains("out/capture-web.pcap0 wrote no file"), r.stderr());
    assertEquals(List.of(), list("out"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "capture-web.pcap0",
        "/capture/default/..",
        "/capture/default/",
        "/capture/default/a b",
        "/capture/default/-x;y"
      })
  void downloadRejectsUnsafeFilePathsBeforeCopyingAnything(String path) throws Exception {
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, path));
    answerAgentPodExists();

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("unexpected file path in status.files: \"" + path + "\""), r.stderr());
    assertEquals(List.of(statusCall("default"), agentPodCall()), kubectlCalls());
    assertFalse(Files.exists(work.resolve("out")));
  }

  @Test
  void downloadReportsAFailingMergeAndKeepsTheRingFiles() throws Exception {
    kubectl.installMergecap();
    Files.writeString(stubDir.resolve("mergecap.fail"), "");
    answerStatus("default", status("Running", "node-1", AGENT, "", RING0, RING1));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");
    answerCp(RING1, "out/capture-web.pcap1", "ring1;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(r.stderr().contains("cut short in the middle of a packet"), r.stderr());
    assertTrue(
        r.stderr()
            .contains(
                "error: mergecap failed; the ring files are in out "
                    + "(out/capture-web.pcap0 out/capture-web.pcap1)\n"),
        r.stderr());
    assertEquals("ring0;", read("out/capture-web.pcap0"));
    assertEquals("ring1;", read("out/capture-web.pcap1"));
  }

  @Test
  void downloadSaysWhichAgentPodAndNodeTheFilesCameFrom() throws Exception {
    answerStatus("default", status("Running", "node-7", AGENT, "", RING0));
    answerAgentPodExists();
    answerCp(RING0, "out/capture-web.pcap0", "ring0;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertTrue(
        r.stdout()
            .startsWith(
                "web: files from agent Pod kube-system/podcapture-agent-x7k2p on node node-7\n"),
        r.stdout());
  }

  @Test
  void downloadOfACompletedCaptureCopiesItsFilesWithoutAWarning() throws Exception {
    answerStatus(
        "web-x7k2p",
        "default",
        status(
            "Completed",
            "node-1",
            AGENT,
            "stopped after 30 s",
            "/capture/default/capture-web-x7k2p.pcap"));
    answerAgentPodExists();
    answerCp("/capture/default/capture-web-x7k2p.pcap", "out/capture-web-x7k2p.pcap", "all;");

    Result r = run("download", "web-x7k2p", "-n", "default", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("", r.stderr());
    assertEquals("all;", kubectl.read("out/capture-web-x7k2p.pcap"));
    assertTrue(r.stdout().contains("The capture is in out/capture-web-x7k2p.pcap."), r.stdout());
  }

  @Test
  void downloadOfAPodFindsItsOnlyCapture() throws Exception {
    answerStatus("web", "default", "");
    answerCaptures(
        "default",
        row("web-x7k2p", "web", false, "Completed"),
        row("db-abcde", "db", false, "Running"));
    answerStatus(
        "web-x7k2p",
        "default",
        status("Completed", "node-1", AGENT, "", "/capture/default/capture-web-x7k2p.pcap"));
    answerAgentPodExists();
    answerCp("/capture/default/capture-web-x7k2p.pcap", "out/capture-web-x7k2p.pcap", "all;");

    Result r = run("download", "web", "-n", "default", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(
        List.of(
            statusCall("web", "default"),
            capturesCall("default"),
            statusCall("web-x7k2p", "default"),
            agentPodCall(),
            cpCall("/capture/default/capture-web-x7k2p.pcap", "out/capture-web-x7k2p.pcap")),
        kubectlCalls());
    assertEquals(List.of("capture-web-x7k2p.pcap"), list("out"));
  }

  @Test
  void downloadWithSelectorPutsEachCaptureInItsOwnFolderAndMergesThemAll() throws Exception {
    kubectl.installMergecap();
    answerPods("prod", "app=web", "web-1", "web-2");
    answerCaptures(
        "prod",
        row("web-1", "web-1", true, "Running"),
        row("web-2-fghij", "web-2", false, "Completed"),
        row("db-1", "db-1", true, "Running"));
    answerStatus(
        "web-1",
        "prod",
        statusIn(
            "prod",
            "Running",
            "node-1",
            AGENT,
            "",
            "/capture/prod/capture-web-1.pcap0",
            "/capture/prod/capture-web-1.pcap1"));
    answerStatus(
        "web-2-fghij",
        "prod",
        statusIn(
            "prod",
            "Completed",
            "node-2",
            "kube-system/podcapture-agent-b",
            "",
            "/capture/prod/capture-web-2-fghij.pcap"));
    answerAgentPodExists();
    kubectl
        .on(
            List.of(
                "get",
                "pod",
                "-n",
                "kube-system",
                "podcapture-agent-b",
                "--ignore-not-found",
                "-o",
                "name"))
        .prints("pod/podcapture-agent-b\n");
    answerCp("/capture/prod/capture-web-1.pcap0", "out/web-1/capture-web-1.pcap0", "a0;");
    answerCp("/capture/prod/capture-web-1.pcap1", "out/web-1/capture-web-1.pcap1", "a1;");
    kubectl
        .on(
            List.of(
                "cp",
                "kube-system/podcapture-agent-b:/capture/prod/capture-web-2-fghij.pcap",
                "out/web-2-fghij/capture-web-2-fghij.pcap"))
        .writesDestination("b;");

    Result r = run("download", "-l", "app=web", "-n", "prod", "-o", "out", "--merge");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals(List.of("merged.pcap", "web-1", "web-2-fghij"), list("out"));
    assertEquals("a0;a1;", kubectl.read("out/web-1/capture-web-1.pcap"));
    assertEquals("b;", kubectl.read("out/web-2-fghij/capture-web-2-fghij.pcap"));
    assertEquals("a0;a1;b;", kubectl.read("out/merged.pcap"));
    assertEquals(
        List.of(
            List.of(
                "-w",
                "out/web-1/capture-web-1.pcap",
                "out/web-1/capture-web-1.pcap0",
                "out/web-1/capture-web-1.pcap1"),
            List.of(
                "-w",
                "out/merged.pcap",
                "out/web-1/capture-web-1.pcap0",
                "out/web-1/capture-web-1.pcap1",
                "out/web-2-fghij/capture-web-2-fghij.pcap")),
        kubectl.calls("mergecap.calls"));
    assertTrue(
        r.stdout()
            .contains(
                "web-1: files from agent Pod kube-system/podcapture-agent-x7k2p on node node-1"),
        r.stdout());
    assertTrue(
        r.stdout()
            .contains(
                "web-2-fghij: files from agent Pod kube-system/podcapture-agent-b on node node-2"),
        r.stdout());
    assertTrue(
        r.stdout()
            .endsWith("Merged 3 file(s) of all captures, in time order, into out/merged.pcap.\n"),
        r.stdout());
  }

  @Test
  void downloadWithSelectorGoesOnPastACaptureWithoutFilesAndFailsAtTheEnd() throws Exception {
    answerPods(null, "app=web", "web-1", "web-2");
    answerCaptures(
        null, row("web-1", "web-1", true, "Pending"), row("web-2", "web-2", true, "Running"));
    answerStatus("web-1", null, status("Pending", "", "", "waiting for the Pod to get an IP"));
    answerStatus(
        "web-2",
        null,
        status("Running", "node-1", AGENT, "", "/capture/default/capture-web-2.pcap"));
    answerAgentPodExists();
    answerCp("/capture/default/capture-web-2.pcap", "./web-2/capture-web-2.pcap", "b;");

    Result r = run("download", "-l", "app=web");

    assertEquals(1, r.exit());
    assertEquals("b;", kubectl.read("web-2/capture-web-2.pcap"));
    assertTrue(
        r.stderr()
            .contains(
                "error: capture web-1 in namespace default has no files to download "
                    + "(phase: Pending, message: waiting for the Pod to get an IP)\n"),
        r.stderr());
    assertTrue(r.stderr().endsWith("error: not downloaded: web-1 (see above)\n"), r.stderr());
  }

  @Test
  void downloadWithSelectorOfPodsWithoutCapturesFails() throws Exception {
    answerPods(null, "app=web", "web-1");
    answerCaptures(null);

    Result r = run("download", "-l", "app=web");

    assertEquals(1, r.exit());
    assertEquals(
        "error: no captures of the 1 Pod(s) matching \"app=web\" in the current namespace: start them "
            + "with kubectl podcapture start -l app=web\n",
        r.stderr());
  }

  @Test
  void downloadMergeWithoutMergecapFailsBeforeCopyingAnything() throws Exception {
    Result r = run("download", "-l", "app=web", "--merge");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr()
            .startsWith(
                "error: --merge needs mergecap (Wireshark; on Debian and Ubuntu: "
                    + "apt-get install wireshark-common); or leave out --merge"),
        r.stderr());
    assertEquals(List.of(), kubectlCalls());
  }

  // ---------------------------------------------------------------- the examples

  /**
   * Every example command line in docs/plugin.md and in the help, without its placeholders'
   * synopses.
   */
  static Stream<String> examples() throws IOException {
    Path docs = StandInKubectl.SCRIPT.getParent().resolveSibling("docs").resolve("plugin.md");
    String help =
        new String(
            new ProcessBuilder("bash", StandInKubectl.SCRIPT.toString(), "help")
                .start()
                .getInputStream()
                .readAllBytes(),
            StandardCharsets.UTF_8);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("kubectl podcapture ([a-z][^`|>#)\n]*)")
            .matcher(Files.readString(docs) + "\n" + help.substring(help.indexOf("Examples:")));
    List<String> examples = new ArrayList<>();
    while (m.find()) {
      String example =
          m.group(1).trim().split("\\s{2,}")[0]; // the help explains each after some blanks
      if (!example.matches(".*\\b(NAME|POD|SELECTOR|OPTION|NS|DIR|N)\\b.*")
          && !examples.contains(example)) {
        examples.add(example);
      }
    }
    assertTrue(examples.size() > 25, examples.toString());
    return examples.stream();
  }

  /**
   * The examples are command lines the plugin takes: none is a usage error (kubectl then has no
   * answer).
   */
  @ParameterizedTest
  @MethodSource("examples")
  void everyExampleInTheDocsAndTheHelpIsAValidCommandLine(String example) throws Exception {
    Result r = run(shellWords(example).toArray(String[]::new));

    assertTrue(r.exit() != 2, example + ": " + r.stderr());
  }

  // ---------------------------------------------------------------- the script itself

  @Test
  void scriptIsExecutableBash() throws IOException {
    assertTrue(
        Files.isExecutable(StandInKubectl.SCRIPT), StandInKubectl.SCRIPT + " is not executable");
    List<String> lines = Files.readAllLines(StandInKubectl.SCRIPT);
    assertEquals("#!/usr/bin/env bash", lines.get(0));
    assertTrue(lines.contains("set -euo pipefail"));
  }

  @Test
  void scriptPassesShellcheck() throws Exception {
    Requirements.commands(
        "shellcheck"); // skips with a reason, fails under CI=true (.ci/run installs it)
    Optional<Path> shellcheck = hostExecutable("shellcheck");
    Process p =
        new ProcessBuilder(shellcheck.get().toString(), StandInKubectl.SCRIPT.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
  }

  /**
   * The canned answers above are only as good as {@link #status}, {@link #row} and the wait
   * answers: check that they match what a real kubectl prints for the plugin's jsonpaths, on a full
   * and an empty status. {@code annotate --local} runs the same jsonpath printer as {@code get}
   * without a cluster (on one object: the rows template is checked without its {@code range}).
   */
  @Test
  void cannedAnswersHaveTheShapeOfRealKubectlJson() throws Exception {
    Requirements.commands(
        "kubectl"); // skips with a reason, fails under CI=true (.ci/run installs it)
    Path full = tmp.resolve("full.yaml");
    Files.writeString(
        full,
        """
        apiVersion: tcpdump.antrea.io/v1alpha1
        kind: PodCapture
        metadata:
          name: web
          namespace: default
          creationTimestamp: "2026-11-30T02:00:00Z"
          labels: {app.kubernetes.io/managed-by: podcapture-agent}
        spec: {podName: web, maxFiles: 2}
        status:
          phase: Running
          node: node-1
          agentPod: kube-system/podcapture-agent-x7k2p
          message: "two\\nlines"
          fileCount: 2
          totalBytes: 1048820
          files:
          - {name: capture-web.pcap0, path: /capture/default/capture-web.pcap0, sizeBytes: 1048800}
          - {name: capture-web.pcap0, path: /capture/default/previous/capture-web.pcap0, sizeBytes: 20}
        """);
    Path empty = tmp.resolve("empty.yaml");
    Files.writeString(
        empty,
        """
        apiVersion: tcpdump.antrea.io/v1alpha1
        kind: PodCapture
        metadata: {name: web-x7k2p, namespace: default, creationTimestamp: "2026-11-30T02:00:00Z"}
        spec: {podName: web}
        """);

    JsonNode realFull = JSON.readTree(render(full, "json"));
    JsonNode realEmpty = JSON.readTree(render(empty, "json"));
    Instant created = Instant.parse("2026-11-30T02:00:00Z");
    List<String> downloadReads =
        List.of(
            "/metadata/namespace",
            "/status/phase",
            "/status/node",
            "/status/agentPod",
            "/status/files/0/path",
            "/status/files/1/path",
            "/status/files/2",
            "/status/message");
    assertSameAt(
        downloadReads, realFull, status("Running", "node-1", AGENT, "two\nlines", RING0, OLD0));
    assertSameAt(downloadReads, realEmpty, status("", "", "", ""));
    List<String> listReads =
        List.of(
            "/metadata/namespace",
            "/metadata/name",
            "/spec/podName",
            "/metadata/labels/app.kubernetes.io~1managed-by",
            "/status/phase",
            "/status/node",
            "/status/fileCount",
            "/status/totalBytes",
            "/metadata/creationTimestamp");
    assertSameAt(
        listReads, realFull, row("web", "web", true, "Running", "node-1", "2", "1048820", created));
    assertSameAt(listReads, realEmpty, row("web-x7k2p", "web", false, "", "", "", "", created));
    List<String> waitReads =
        List.of(
            "/status/phase",
            "/status/node",
            "/status/fileCount",
            "/status/totalBytes",
            "/status/message");
    assertSameAt(
        waitReads, realFull, waitStatus("Running", "node-1", "2", "1048820", "two\nlines"));
    assertSameAt(waitReads, realEmpty, waitStatus("", "", "", "", ""));
  }

  /**
   * The canned answer holds what real kubectl printed at each of these JSON pointers, or lacks it
   * as well.
   */
  static void assertSameAt(List<String> pointers, JsonNode real, String canned) throws IOException {
    JsonNode ours = JSON.readTree(canned);
    for (String pointer : pointers) {
      assertEquals(real.at(pointer), ours.at(pointer), pointer + " in " + canned);
    }
  }

  static String render(Path yaml, String output) throws Exception {
    Path kubeconfig = Files.writeString(yaml.resolveSibling("kubeconfig"), "");
    Path err = yaml.resolveSibling("kubectl.err");
    ProcessBuilder pb =
        new ProcessBuilder(
            hostExecutable("kubectl").orElseThrow().toString(),
            "annotate",
            "--local",
            "-f",
            yaml.toString(),
            "example.com/x=y",
            "-o",
            output);
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.redirectError(err.toFile());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), Files.readString(err));
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private Result run(String... args) throws Exception {
    return kubectl.run(args);
  }

  private List<List<String>> kubectlCalls() throws IOException {
    return kubectl.calls();
  }

  private List<List<String>> calls(String log) throws IOException {
    return kubectl.calls(log);
  }

  private String read(String relative) throws IOException {
    return kubectl.read(relative);
  }

  private List<String> list(String relative) throws IOException {
    return kubectl.list(relative);
  }

  private String onlyManifest() throws IOException {
    List<String> manifests = kubectl.manifests();
    assertEquals(1, manifests.size(), manifests.toString());
    return manifests.get(0);
  }

  private static void assertJson(String expected, String actual) throws IOException {
    assertEquals(JSON.readTree(expected), JSON.readTree(actual), actual);
  }

  /**
   * Splits on blanks, keeping '...' together (the CSV tables above use it for arguments with
   * blanks).
   */
  private static List<String> shellWords(String s) {
    List<String> words = new ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("'([^']*)'|(\\S+)").matcher(s);
    while (m.find()) {
      words.add(m.group(1) != null ? m.group(1) : m.group(2));
    }
    return words;
  }

  static List<String> createCall(String namespace) {
    List<String> call = new ArrayList<>(List.of("create"));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("-f", "-", "-o", "name"));
    return call;
  }

  static List<String> waitCall(String name, String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcapture", name));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--ignore-not-found", "-o", JSON_OUTPUT));
    return call;
  }

  static List<String> setCall(String name, String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcaptureset", name));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--ignore-not-found", "-o", JSON_OUTPUT));
    return call;
  }

  static List<String> setChildrenCall(String set, String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcaptures"));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--selector=tcpdump.antrea.io/set=" + set, "-o", JSON_OUTPUT));
    return call;
  }

  /** stop's question whether NAME is a set: kubectl answers its name, or nothing. */
  static List<String> isSetCall(String name, String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcaptureset", name));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--ignore-not-found", "-o", "name"));
    return call;
  }

  static List<String> setsCall(String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcapturesets"));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("-o", JSON_OUTPUT));
    return call;
  }

  /**
   * A PodCaptureSet as kubectl -o json prints it, with the status the controller writes (counts
   * left out when zero, as its JSON leaves out nothing but unset fields: here all are set once the
   * phase is).
   */
  static String setStatus(
      String phase,
      int matched,
      int captured,
      int running,
      int pending,
      int failed,
      int nodes,
      String message) {
    ObjectNode set = setSkeleton("default", "s", Instant.parse("2026-11-30T02:00:00Z"));
    ((ObjectNode) set.get("metadata")).put("generation", 1);
    if (!phase.isEmpty()) {
      ObjectNode status = set.putObject("status");
      status.put("phase", phase).put("observedGeneration", 1);
      status.put("matchedPods", matched).put("capturedPods", captured);
      status
          .putObject("children")
          .put("pending", pending)
          .put("running", running)
          .put("completed", 0)
          .put("failed", failed);
      status.put("nodeCount", nodes).put("bytes", 0);
      putIfAny(status, "message", message);
    }
    return set.toString();
  }

  static ObjectNode setSkeleton(String namespace, String name, Instant created) {
    ObjectNode set =
        JSON.createObjectNode()
            .put("apiVersion", "tcpdump.antrea.io/v1alpha1")
            .put("kind", "PodCaptureSet");
    set.putObject("metadata")
        .put("name", name)
        .put("namespace", namespace)
        .put("creationTimestamp", created.truncatedTo(ChronoUnit.SECONDS).toString());
    set.putObject("spec").putObject("selector").putObject("matchLabels").put("app", "web");
    return set;
  }

  /** A set's row in list: its status as the controller writes it. */
  static String setRow(
      String namespace,
      String name,
      String phase,
      int matched,
      int running,
      int completed,
      int nodes,
      long bytes,
      Instant created) {
    ObjectNode set = setSkeleton(namespace, name, created);
    ObjectNode status = set.putObject("status");
    status.put("phase", phase).put("matchedPods", matched);
    status
        .putObject("children")
        .put("pending", 0)
        .put("running", running)
        .put("completed", completed)
        .put("failed", 0);
    status.put("nodeCount", nodes).put("bytes", bytes);
    return set.toString();
  }

  /** A set's child PodCapture, labelled with the set's name, as --wait reads it. */
  static String child(String name, String pod, String phase, String node, String message) {
    ObjectNode capture = podCapture("default", name, pod);
    ((ObjectNode) capture.get("metadata")).putObject("labels").put("tcpdump.antrea.io/set", "s");
    ObjectNode status = capture.putObject("status");
    putIfAny(status, "phase", phase);
    putIfAny(status, "node", node);
    putIfAny(status, "message", message);
    return capture.toString();
  }

  static List<String> podsCall(String namespace, String selector) {
    List<String> call = new ArrayList<>(List.of("get", "pods"));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--selector=" + selector, "-o", JSON_OUTPUT));
    return call;
  }

  static List<String> capturesCall(String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcaptures"));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("-o", JSON_OUTPUT));
    return call;
  }

  private void answerPods(String namespace, String selector, String... pods) throws IOException {
    String[] items = new String[pods.length];
    for (int i = 0; i < pods.length; i++) {
      items[i] = pod(namespace == null ? "default" : namespace, pods[i]);
    }
    kubectl.on(podsCall(namespace, selector)).prints(items(items));
  }

  /** A Pod as kubectl -o json lists it, with the fields the plugin reads. */
  static String pod(String namespace, String name) {
    ObjectNode pod = JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", name).put("namespace", namespace);
    return pod.toString();
  }

  /** kubectl's List of these objects (JSON, one per string). */
  static String items(String... objects) {
    return "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        + String.join(",", objects)
        + "],\"metadata\":{\"resourceVersion\":\"\"}}\n";
  }

  private void answerCaptures(String namespace, String... rows) throws IOException {
    String ns = namespace == null ? "default" : namespace;
    String[] items = new String[rows.length];
    for (int i = 0; i < rows.length; i++) {
      ObjectNode row = (ObjectNode) JSON.readTree(rows[i]);
      ((ObjectNode) row.get("metadata")).put("namespace", ns);
      items[i] = row.toString();
    }
    kubectl.on(capturesCall(namespace)).prints(items(items));
  }

  /** One PodCapture as listed, in namespace default (answerCaptures puts in its own). */
  static String row(String name, String pod, boolean annotation, String phase) {
    return row(
        name, pod, annotation, phase, "node-1", "1", "24", Instant.parse("2026-11-30T02:00:00Z"));
  }

  static String row(
      String name,
      String pod,
      boolean annotation,
      String phase,
      String node,
      String files,
      String bytes,
      Instant created) {
    return rowIn("default", name, pod, annotation, phase, node, files, bytes, created);
  }

  static String rowIn(
      String namespace,
      String name,
      String pod,
      boolean annotation,
      String phase,
      String node,
      String files,
      String bytes,
      Instant created) {
    ObjectNode capture = podCapture(namespace, name, pod);
    ObjectNode metadata = (ObjectNode) capture.get("metadata");
    metadata.put("creationTimestamp", created.truncatedTo(ChronoUnit.SECONDS).toString());
    if (annotation) {
      metadata.putObject("labels").put("app.kubernetes.io/managed-by", "podcapture-agent");
    }
    ObjectNode status = capture.putObject("status");
    putIfAny(status, "phase", phase);
    putIfAny(status, "node", node);
    if (!files.isEmpty()) {
      status.put("fileCount", Integer.parseInt(files));
    }
    if (!bytes.isEmpty()) {
      status.put("totalBytes", Long.parseLong(bytes));
    }
    return capture.toString();
  }

  /** A PodCapture's skeleton as kubectl -o json prints it. */
  static ObjectNode podCapture(String namespace, String name, String pod) {
    ObjectNode capture =
        JSON.createObjectNode()
            .put("apiVersion", "tcpdump.antrea.io/v1alpha1")
            .put("kind", "PodCapture");
    capture.putObject("metadata").put("name", name).put("namespace", namespace);
    capture.putObject("spec").put("podName", pod);
    return capture;
  }

  /**
   * Sets a string field unless the value is null or empty, as the API server leaves unset ones out.
   */
  static void putIfAny(ObjectNode node, String field, String value) {
    if (value != null && !value.isEmpty()) {
      node.put(field, value);
    }
  }

  /** A PodCapture that --wait reads. */
  private static String waitStatus(
      String phase, String node, String files, String bytes, String message) {
    ObjectNode capture = podCapture("default", "web-x7k2p", "web");
    ObjectNode status = capture.putObject("status");
    putIfAny(status, "phase", phase);
    putIfAny(status, "node", node);
    if (!files.isEmpty()) {
      status.put("fileCount", Integer.parseInt(files));
    }
    if (!bytes.isEmpty()) {
      status.put("totalBytes", Long.parseLong(bytes));
    }
    putIfAny(status, "message", message);
    return capture.toString();
  }

  /** The PodCapture download reads: see {@link #cannedAnswersHaveTheShapeOfRealKubectlJson}. */
  private static String status(
      String phase, String node, String agentPod, String message, String... paths) {
    return statusIn("default", phase, node, agentPod, message, paths);
  }

  private static String statusIn(
      String namespace,
      String phase,
      String node,
      String agentPod,
      String message,
      String... paths) {
    ObjectNode capture = podCapture(namespace, "web", "web");
    ObjectNode status = capture.putObject("status");
    putIfAny(status, "phase", phase);
    putIfAny(status, "node", node);
    putIfAny(status, "agentPod", agentPod);
    putIfAny(status, "message", message);
    if (paths.length > 0) {
      ArrayNode files = status.putArray("files");
      for (String path : paths) {
        files.addObject().put("name", path.substring(path.lastIndexOf('/') + 1)).put("path", path);
      }
    }
    return capture.toString();
  }

  private static List<String> statusCall(String namespace) {
    return statusCall("web", namespace);
  }

  private static List<String> statusCall(String name, String namespace) {
    List<String> call = new ArrayList<>(List.of("get", "podcapture", name));
    if (namespace != null) {
      call.addAll(List.of("-n", namespace));
    }
    call.addAll(List.of("--ignore-not-found", "-o", JSON_OUTPUT));
    return call;
  }

  private static List<String> agentPodCall() {
    return List.of(
        "get",
        "pod",
        "-n",
        "kube-system",
        "podcapture-agent-x7k2p",
        "--ignore-not-found",
        "-o",
        "name");
  }

  private static List<String> cpCall(String remotePath, String local) {
    return List.of("cp", AGENT + ":" + remotePath, local);
  }

  private void answerStatus(String namespace, String output) throws IOException {
    answerStatus("web", namespace, output);
  }

  private void answerStatus(String name, String namespace, String output) throws IOException {
    kubectl.on(statusCall(name, namespace)).prints(output);
  }

  private void answerAgentPodExists() throws IOException {
    kubectl.on(agentPodCall()).prints("pod/podcapture-agent-x7k2p\n");
  }

  private void answerCp(String remotePath, String local, String content) throws IOException {
    kubectl.on(cpCall(remotePath, local)).writesDestination(content);
  }
}
