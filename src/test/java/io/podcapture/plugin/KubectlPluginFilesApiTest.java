package io.podcapture.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.plugin.StandInKubectl.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin's download and stream through the files API ({@code kubectl get --raw
 * /apis/files.tcpdump.antrea.io/...}), against the stand-in kubectl of {@link StandInKubectl}: what
 * it asks for, what it writes, and that it falls back to kubectl cp and exec only where the cluster
 * has no files API.
 */
@Tag("integration")
class KubectlPluginFilesApiTest {
  private static final String API = "/apis/files.tcpdump.antrea.io/v1alpha1";
  private static final String CAPTURE_PATH = API + "/namespaces/shop/podcapturefiles/web";
  private static final String NOT_FOUND =
      "Error from server (NotFound): the server could not find the requested resource\n";

  @TempDir Path tmp;
  private StandInKubectl kubectl;

  @BeforeEach
  void setUp() throws IOException {
    kubectl = new StandInKubectl(tmp);
    kubectl.filesViaAuto();
  }

  @Test
  void downloadReadsEveryFileThroughTheFilesApiAndNeverExecs() throws Exception {
    answerDiscovery();
    answerCapture("Running");
    answerListing("capture-web.pcap0", "capture-web.pcap1", "previous/capture-web.pcap0");
    answerFile("capture-web.pcap0", "ring0;");
    answerFile("capture-web.pcap1", "ring1;");
    answerFile("previous%2Fcapture-web.pcap0", "old0;");

    Result r = kubectl.run("download", "web", "-n", "shop", "-o", "out");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("ring0;", kubectl.read("out/capture-web.pcap0"));
    assertEquals("ring1;", kubectl.read("out/capture-web.pcap1"));
    assertEquals("old0;", kubectl.read("out/previous/capture-web.pcap0"));
    assertTrue(
        r.stdout().contains("web: files from node node-1, through the files API"), r.stdout());
    List<List<String>> calls = kubectl.calls();
    assertTrue(
        calls.stream().noneMatch(c -> c.contains("cp") || c.contains("exec")),
        "no kubectl cp or exec: " + calls);
    assertTrue(
        calls.contains(raw(CAPTURE_PATH + "/pcap?file=previous%2Fcapture-web.pcap0")),
        "a previous file is asked for with its slash escaped: " + calls);
  }

  @Test
  void downloadMergeOfOneCaptureFetchesTheMergedPcapngWithoutMergecap() throws Exception {
    answerDiscovery();
    answerCapture("Completed");
    answerListing("capture-web.pcap");
    answerFile("capture-web.pcap", "whole;");
    kubectl.on(raw(CAPTURE_PATH + "/merged")).prints("pcapng;");

    Result r = kubectl.run("download", "web", "-n", "shop", "-o", "out", "--merge");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("whole;", kubectl.read("out/capture-web.pcap"));
    assertEquals("pcapng;", kubectl.read("out/merged.pcapng"));
    assertTrue(r.stdout().contains("into out/merged.pcapng (one interface per Pod)"), r.stdout());
  }

  @Test
  void aFileNameOutsideTheCaptureFolderIsRefusedBeforeAnythingIsWritten() throws Exception {
    answerDiscovery();
    answerCapture("Running");
    answerListing("../../etc/passwd");

    Result r = kubectl.run("download", "web", "-n", "shop", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(
        r.stderr().contains("unexpected file name from the files API: \"../../etc/passwd\""),
        r.stderr());
    assertFalse(Files.exists(kubectl.work.resolve("etc")));
  }

  @Test
  void aRefusedFileLeavesNoPartialFileAndSaysWhatFailed() throws Exception {
    answerDiscovery();
    answerCapture("Running");
    answerListing("capture-web.pcap0");
    kubectl
        .on(raw(CAPTURE_PATH + "/pcap?file=capture-web.pcap0"))
        .exitsWith(1, "Error from server (Forbidden): podcapturefiles.files.tcpdump.antrea.io\n");

    Result r = kubectl.run("download", "web", "-n", "shop", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(r.stderr().contains("(Forbidden)"), r.stderr());
    assertFalse(Files.exists(kubectl.work.resolve("out/capture-web.pcap0")));
  }

  @Test
  void withoutTheFilesApiDownloadFallsBackToKubectlCpAndSaysSo() throws Exception {
    kubectl.on(raw(API)).exitsWith(1, NOT_FOUND);
    answerCapture("Running");
    // the exec path's next step: the agent Pod must exist
    kubectl
        .on(
            List.of(
                "get",
                "pod",
                "-n",
                "kube-system",
                "podcapture-agent-x",
                "--ignore-not-found",
                "-o",
                "name"))
        .prints("");

    Result r = kubectl.run("download", "web", "-n", "shop", "-o", "out");

    assertTrue(r.stderr().contains("this cluster has no podcapture files API"), r.stderr());
    assertTrue(
        r.stderr().contains("agent Pod kube-system/podcapture-agent-x"),
        "went on with the exec path: " + r.stderr());
  }

  @Test
  void aFilesApiThatDoesNotAnswerIsAnErrorNotAReasonToExec() throws Exception {
    kubectl
        .on(raw(API))
        .exitsWith(
            1,
            "Error from server (ServiceUnavailable): the server is currently unable to handle"
                + " the request\n");

    Result r = kubectl.run("download", "web", "-n", "shop", "-o", "out");

    assertEquals(1, r.exit());
    assertTrue(r.stderr().contains("the podcapture files API (" + API + ") did not answer"));
    assertEquals(List.of(raw(API)), kubectl.calls());
  }

  @Test
  void streamOfARunningCapturePassesTheFilesApisStreamOn() throws Exception {
    answerDiscovery();
    answerCapture("Running");
    kubectl.on(raw(CAPTURE_PATH + "/log")).prints("live-pcap-bytes");

    Result r = kubectl.run("stream", "web", "-n", "shop");

    assertEquals(0, r.exit(), r.stderr());
    assertEquals("live-pcap-bytes", r.stdout());
    assertTrue(r.stderr().contains("through the files API"), r.stderr());
    assertTrue(r.stderr().contains("Stream ended: capture web is no longer running."), r.stderr());
    assertTrue(
        kubectl.calls().stream().noneMatch(c -> c.contains("exec") || c.contains("create")),
        "a running capture is streamed as it is: " + kubectl.calls());
  }

  private void answerDiscovery() throws IOException {
    kubectl
        .on(raw(API))
        .prints(
            "{\"kind\":\"APIResourceList\",\"groupVersion\":\"files.tcpdump.antrea.io/v1alpha1\"}");
  }

  private void answerCapture(String phase) throws IOException {
    String capture =
        """
        {"apiVersion":"tcpdump.antrea.io/v1alpha1","kind":"PodCapture",
         "metadata":{"name":"web","namespace":"shop"},
         "spec":{"podName":"web"},
         "status":{"phase":"%s","node":"node-1","agentPod":"kube-system/podcapture-agent-x",
                   "filter":"host 10.0.0.7",
                   "files":[{"name":"capture-web.pcap0","path":"/capture/shop/capture-web.pcap0"}]}}
        """
            .formatted(phase);
    kubectl
        .on(List.of("get", "podcapture", "web", "-n", "shop", "--ignore-not-found", "-o", "json"))
        .prints(capture);
  }

  private void answerListing(String... names) throws IOException {
    StringBuilder files = new StringBuilder();
    for (String name : names) {
      files.append(files.length() == 0 ? "" : ",");
      files.append("{\"name\":\"").append(name).append("\",\"sizeBytes\":6}");
    }
    kubectl
        .on(raw(CAPTURE_PATH))
        .prints(
            "{\"kind\":\"PodCaptureFiles\",\"node\":\"node-1\",\"pod\":\"web\",\"phase\":\"Running\","
                + "\"files\":["
                + files
                + "]}");
  }

  private void answerFile(String escapedName, String content) throws IOException {
    kubectl.on(raw(CAPTURE_PATH + "/pcap?file=" + escapedName)).prints(content);
  }

  private static List<String> raw(String path) {
    return List.of("get", "--raw", path);
  }
}
