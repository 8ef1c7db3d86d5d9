package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.api.v1alpha1.PodCapture;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The kind quick start: kind-config.yaml, and deploy/kind-up.sh and kind-down.sh run for real
 * against stand-in docker, kind, kubectl and helm commands that only log how they were called (no
 * engine or cluster here). shellcheck is run on the scripts by CI, not here.
 */
@Tag("integration")
class KindQuickStartTest {
  private static final String KIND_UP = "deploy/kind-up.sh";
  private static final String KIND_DOWN = "deploy/kind-down.sh";

  @TempDir Path temp;

  // ---- kind-config.yaml

  @Test
  void kindClusterHasOneControlPlaneAndTwoWorkersAndNoDefaultCni() {
    Map<String, Object> config = kindConfig();

    assertEquals("kind.x-k8s.io/v1alpha4", config.get("apiVersion"));
    assertEquals("Cluster", config.get("kind"));
    assertEquals(Set.of("apiVersion", "kind", "name", "networking", "nodes"), config.keySet());
    List<String> roles =
        ((List<?>) config.get("nodes"))
            .stream()
                .map(node -> String.valueOf(((Map<?, ?>) node).get("role")))
                .collect(Collectors.toList());
    assertEquals(List.of("control-plane", "worker", "worker"), roles);
    Map<?, ?> networking = (Map<?, ?>) config.get("networking");
    assertEquals(Set.of("disableDefaultCNI", "podSubnet"), networking.keySet());
    assertEquals(
        Boolean.TRUE, networking.get("disableDefaultCNI"), "Antrea is the CNI, not kindnet");
    assertEquals(
        "10.10.0.0/16",
        networking.get("podSubnet"),
        "the Pod subnet of Antrea's kind instructions");
  }

  @Test
  void samplePodIpsAreInTheKindPodSubnet() throws IOException {
    String subnet = (String) ((Map<?, ?>) kindConfig().get("networking")).get("podSubnet");
    PodCapture capture =
        (PodCapture)
            ((io.fabric8.kubernetes.api.model.KubernetesList)
                    StrictManifests.typed(ManifestsTest.only(ManifestsTest.SAMPLE_OUTPUT)))
                .getItems()
                .get(0);

    for (String ip : capture.getStatus().getPodIPs()) {
      assertTrue(inSubnet(ip, subnet), ip + " is not in " + subnet);
    }
    assertTrue(
        capture.getStatus().getNode().startsWith(kindConfig().get("name") + "-"),
        "kind names its nodes <cluster>-worker...: " + capture.getStatus().getNode());
  }

  // ---- kind-up.sh

  @Test
  void kindUpCreatesTheClusterInstallsAntreaThenTheAgentsAndTheController() throws Exception {
    Run run = run(KIND_UP, Map.of());

    assertEquals(0, run.exitCode, run.output);
    assertEquals(
        List.of(
            "docker info",
            "kind get clusters",
            "kind create cluster --name podcapture --config kind-config.yaml",
            "helm repo add antrea https://charts.antrea.io --force-update",
            "helm upgrade --install antrea antrea/antrea --namespace kube-system --kube-context kind-podcapture",
            "kubectl --context kind-podcapture -n kube-system rollout status deployment/antrea-controller --timeout=300s",
            "kubectl --context kind-podcapture -n kube-system rollout status daemonset/antrea-agent --timeout=300s",
            "kubectl --context kind-podcapture wait --for=condition=Ready nodes --all --timeout=300s",
            "docker build -t " + image() + " .",
            "kind load docker-image " + image() + " --name podcapture",
            "kubectl --context kind-podcapture -n kube-system get daemonset/podcapture-agent",
            "kubectl --context kind-podcapture apply -k deploy/",
            "kubectl --context kind-podcapture -n kube-system rollout status daemonset/podcapture-agent --timeout=300s",
            "kubectl --context kind-podcapture -n kube-system rollout status deployment/podcapture-controller --timeout=300s"),
        run.calls());
  }

  @Test
  void kindUpWorksFromTheRepositoryRootWhereverItIsCalledFrom() throws Exception {
    Run run = run(KIND_UP, Map.of());

    assertEquals(0, run.exitCode, run.output);
    Path root = ProjectFiles.root().toRealPath();
    for (String dir : run.directories()) {
      assertEquals(root, Path.of(dir).toRealPath(), "every command runs in the repository root");
    }
  }

  @Test
  void kindUpAgainReusesTheClusterAndRestartsAgentsAndControllerOnTheNewImage() throws Exception {
    Run run =
        run(
            KIND_UP,
            Map.of(
                "STUB_CLUSTERS",
                "podcapture",
                "STUB_DAEMONSET_EXISTS",
                "yes",
                "ANTREA_CHART_VERSION",
                "2.2.0"));

    assertEquals(0, run.exitCode, run.output);
    assertFalse(
        run.calls().stream().anyMatch(c -> c.startsWith("kind create")), "no second cluster");
    assertTrue(
        run.calls()
            .contains(
                "helm upgrade --install antrea antrea/antrea --namespace kube-system"
                    + " --kube-context kind-podcapture --version 2.2.0"),
        run.calls().toString());
    List<String> calls = run.calls();
    int apply = calls.indexOf("kubectl --context kind-podcapture apply -k deploy/");
    int restart =
        calls.indexOf(
            "kubectl --context kind-podcapture -n kube-system rollout restart"
                + " daemonset/podcapture-agent deployment/podcapture-controller");
    assertTrue(apply >= 0 && restart > apply, "same tag, new image: restart after apply: " + calls);
  }

  @Test
  void kindUpTakesTheClusterNameFromTheEnvironment() throws Exception {
    Run run = run(KIND_UP, Map.of("CLUSTER_NAME", "other"));

    assertEquals(0, run.exitCode, run.output);
    assertTrue(run.calls().contains("kind create cluster --name other --config kind-config.yaml"));
    assertTrue(run.calls().contains("kind load docker-image " + image() + " --name other"));
    assertTrue(
        run.calls().stream()
            .filter(c -> c.startsWith("kubectl"))
            .allMatch(c -> c.contains("--context kind-other")),
        "kubectl only ever talks to the kind cluster: " + run.calls());
  }

  @ParameterizedTest
  @ValueSource(strings = {"docker", "kind", "kubectl", "helm"})
  void kindUpStopsAtOnceWhenAToolIsMissing(String tool) throws Exception {
    Run run = run(KIND_UP, Map.of("STUB_REMOVE", tool));

    assertEquals(1, run.exitCode, run.output);
    assertTrue(run.output.contains("missing " + tool), run.output);
    assertEquals(List.of(), run.calls(), "nothing ran");
  }

  @Test
  void kindUpStopsAtOnceWhenDockerIsNotRunning() throws Exception {
    Run run = run(KIND_UP, Map.of("STUB_DOCKER_DOWN", "yes"));

    assertEquals(1, run.exitCode, run.output);
    assertTrue(run.output.contains("cannot reach the Docker engine"), run.output);
    assertEquals(List.of("docker info"), run.calls());
  }

  @Test
  void kindUpStopsAtTheFirstFailingStep() throws Exception {
    Run run = run(KIND_UP, Map.of("STUB_FAIL", "docker build"));

    assertFalse(run.exitCode == 0, run.output);
    assertTrue(
        run.calls().get(run.calls().size() - 1).startsWith("docker build"), run.calls().toString());
  }

  // ---- kind-down.sh

  @Test
  void kindDownDeletesTheCluster() throws Exception {
    Run run = run(KIND_DOWN, Map.of("STUB_CLUSTERS", "podcapture"));

    assertEquals(0, run.exitCode, run.output);
    assertEquals(
        List.of("kind get clusters", "kind delete cluster --name podcapture"), run.calls());
  }

  @Test
  void kindDownWithoutAClusterDoesNothing() throws Exception {
    Run run = run(KIND_DOWN, Map.of());

    assertEquals(0, run.exitCode, run.output);
    assertEquals(List.of("kind get clusters"), run.calls());
    assertTrue(run.output.contains("nothing to delete"), run.output);
  }

  @ParameterizedTest
  @ValueSource(strings = {KIND_UP, KIND_DOWN})
  void scriptsAreStrictExecutableBash(String script) {
    String text = ProjectFiles.read(script);

    assertTrue(Files.isExecutable(ProjectFiles.path(script)), script + " is executable");
    assertTrue(text.startsWith("#!/usr/bin/env bash\n"), "bash shebang");
    assertTrue(text.contains("\nset -euo pipefail\n"), "set -euo pipefail");
    assertEquals(
        kindConfig().get("name"),
        defaultClusterName(text),
        "default cluster name is kind-config.yaml's");
  }

  // ---- running the scripts against stand-ins

  /** What a script run printed and which stand-in commands it called, in which directory. */
  private record Run(int exitCode, String output, List<String[]> log) {
    List<String> calls() {
      return log.stream().map(entry -> entry[1]).collect(Collectors.toList());
    }

    List<String> directories() {
      return log.stream().map(entry -> entry[0]).collect(Collectors.toList());
    }
  }

  /**
   * Runs a script from a directory outside the repository, with a PATH of stand-ins for docker,
   * kind, kubectl and helm plus the few system tools the scripts use. A stand-in logs
   * "directory|command args" and succeeds; STUB_* variables make it answer otherwise.
   */
  private Run run(String script, Map<String, String> environment) throws Exception {
    Path bin = Files.createDirectories(temp.resolve("bin"));
    Path log = temp.resolve("calls.log");
    Files.writeString(log, "");
    String bash = which("bash");
    String remove = environment.getOrDefault("STUB_REMOVE", "");
    for (String tool : List.of("docker", "kind", "kubectl", "helm")) {
      if (!tool.equals(remove)) {
        writeExecutable(bin.resolve(tool), standIn(bash, tool, log));
      }
    }
    for (String tool : List.of("dirname", "grep", "cat")) {
      Files.createSymbolicLink(bin.resolve(tool), Path.of(which(tool)));
    }
    Path elsewhere = Files.createDirectories(temp.resolve("elsewhere"));

    ProcessBuilder builder =
        new ProcessBuilder(bash, ProjectFiles.path(script).toString())
            .directory(elsewhere.toFile())
            .redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    env.clear();
    env.put("PATH", bin.toString());
    env.put("HOME", temp.toString());
    env.putAll(environment);
    Process process = builder.start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "script did not finish");

    List<String[]> calls = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      calls.add(line.split("\\|", 2));
    }
    return new Run(process.exitValue(), output, calls);
  }

  private static String standIn(String bash, String tool, Path log) {
    return "#!"
        + bash
        + "\n"
        + "call=\""
        + tool
        + " $*\"\n"
        + "printf '%s|%s\\n' \"$PWD\" \"$call\" >> '"
        + log
        + "'\n"
        + "if [[ -n \"${STUB_FAIL:-}\" && \"$call\" == \"$STUB_FAIL\"* ]]; then exit 3; fi\n"
        + "case \"$call\" in\n"
        + "  'docker info') [[ -z \"${STUB_DOCKER_DOWN:-}\" ]] ;;\n"
        + "  'kind get clusters') [[ -n \"${STUB_CLUSTERS:-}\" ]] && echo \"$STUB_CLUSTERS\"; exit 0 ;;\n"
        + "  *'get daemonset/podcapture-agent') [[ -n \"${STUB_DAEMONSET_EXISTS:-}\" ]] ;;\n"
        + "  *) exit 0 ;;\n"
        + "esac\n";
  }

  private static void writeExecutable(Path file, String text) throws IOException {
    Files.writeString(file, text);
    assertTrue(file.toFile().setExecutable(true));
  }

  private static String which(String tool) {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/local/bin")) {
      Path candidate = Path.of(dir, tool);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new AssertionError(tool + " not found in /usr/bin, /bin or /usr/local/bin");
  }

  // ---- helpers

  private static String image() {
    return ManifestsTest.agent().getImage();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> kindConfig() {
    Load load = new Load(LoadSettings.builder().setAllowDuplicateKeys(false).build());
    return new HashMap<>(
        (Map<String, Object>) load.loadFromString(ProjectFiles.read("kind-config.yaml")));
  }

  private static String defaultClusterName(String script) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\nCLUSTER_NAME=\"\\$\\{CLUSTER_NAME:-([^}]*)}\"\n")
            .matcher(script);
    assertTrue(m.find(), "CLUSTER_NAME=\"${CLUSTER_NAME:-...}\" line");
    return m.group(1);
  }

  private static boolean inSubnet(String ip, String cidr) throws IOException {
    String[] parts = cidr.split("/");
    byte[] address = InetAddress.getByName(ip).getAddress();
    byte[] network = InetAddress.getByName(parts[0]).getAddress();
    int prefix = Integer.parseInt(parts[1]);
    if (address.length != network.length) {
      return false;
    }
    for (int bit = 0; bit < prefix; bit++) {
      int mask = 0x80 >> (bit % 8);
      if ((address[bit / 8] & mask) != (network[bit / 8] & mask)) {
        return false;
      }
    }
    return true;
  }
}
