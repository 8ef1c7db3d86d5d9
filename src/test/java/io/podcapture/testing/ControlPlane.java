package io.podcapture.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real control plane (etcd, kube-apiserver, kube-controller-manager built from the Go module
 * proxy by {@code controlplane/build.sh}, started on loopback by {@code controlplane/up.sh}), one
 * per test JVM: started by the first {@code cluster} test that asks for it, shared by every later
 * one, and torn down by {@code controlplane/down.sh} from a shutdown hook.
 *
 * <p>On start it applies {@code crds/} (both CRDs), {@code deploy/rbac.yaml}, {@code
 * deploy/controller-rbac.yaml}, {@code deploy/user-roles.yaml} and {@code
 * deploy/node-restriction.yaml} as shipped, with the build's own kubectl. Agents get what a
 * DaemonSet Pod would have: a Pod object in kube-system with {@code spec.nodeName} set and the
 * DaemonSet's label, and a ServiceAccount token from the TokenRequest API bound to that Pod, so it
 * carries the node-name claim the admission policies read. The agent's Pod is on the host network
 * and running at 127.0.0.1, with a container port named {@code files} (a free port, which the agent
 * is started with as FILES_PORT): the address the controller fetches files from. Controller
 * replicas ({@link #startController}) get a Pod object in kube-system and a token of ServiceAccount
 * podcapture-controller bound to it, as the Deployment's Pods would. The files API
 * (deploy/files-api.yaml) is registered only by a test that serves it ({@link FilesApi}): an
 * APIService nobody serves would fail discovery, which blocks the deletion of every namespace.
 */
public final class ControlPlane {
  public static final String AGENT_NAMESPACE = "kube-system";
  public static final String AGENT_SERVICE_ACCOUNT = "podcapture-agent";
  public static final String CONTROLLER_SERVICE_ACCOUNT = "podcapture-controller";

  /** The label of the agents' DaemonSet Pods, by which the controller finds them. */
  public static final String AGENT_POD_LABEL = "app.kubernetes.io/name";

  public static final String AGENT_POD_LABEL_VALUE = "podcapture-agent";

  /** The controller's Lease, in its namespace (kube-system here). */
  public static final String CONTROLLER_LEASE = "podcapture-controller";

  /** The name of the agent container's file port, by which the controller finds it. */
  public static final String FILES_PORT_NAME = "files";

  /** The agents' serving certificate, made by the controller; the kubelet would mount it. */
  public static final String AGENT_TLS_SECRET = "podcapture-agent-tls";

  /** up.sh takes about 15 s here. */
  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);

  /** A cold build.sh took 12.5 minutes here (docs/development.md); a cached one returns at once. */
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(40);

  private static ControlPlane shared;

  private final Path stateDir;
  private final Map<String, String> env;
  private final KubernetesClient admin;

  private ControlPlane(Path stateDir, Map<String, String> env) {
    this.stateDir = stateDir;
    this.env = env;
    this.admin = client(adminKubeconfig());
  }

  /**
   * The JVM's control plane, started on first use with the manifests applied. Its prerequisites
   * unmet (root, Go, openssl, curl, real-capture's commands), the test is skipped, or fails under
   * CI.
   */
  public static synchronized ControlPlane shared() {
    Requirements.realCapture();
    // what controlplane/build.sh and up.sh need
    Requirements.commands("go", "openssl", "curl", "ss", "setsid");
    if (shared == null) {
      shared = start();
    }
    return shared;
  }

  private static ControlPlane start() {
    Path scripts = MockApiServer.projectDir().resolve("controlplane");
    Path stateDir;
    try {
      stateDir = Files.createTempDirectory("podcapture-cp-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long started = System.nanoTime();
    run(BUILD_TIMEOUT, Map.of(), List.of("bash", scripts.resolve("build.sh").toString())).orThrow();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () ->
                    run(
                        Duration.ofMinutes(1),
                        Map.of(),
                        List.of(
                            "bash", scripts.resolve("down.sh").toString(), stateDir.toString())),
                "control-plane-down"));
    run(
            SCRIPT_TIMEOUT,
            Map.of(),
            List.of("bash", scripts.resolve("up.sh").toString(), stateDir.toString()))
        .orThrow();
    ControlPlane plane = new ControlPlane(stateDir, readEnv(stateDir.resolve("control-plane.env")));
    plane.applyManifests();
    System.out.printf(
        "control plane up in %d ms: %s%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), plane.apiServerUrl());
    return plane;
  }

  private static Map<String, String> readEnv(Path file) {
    Map<String, String> values = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(file)) {
        int eq = line.indexOf('=');
        if (eq > 0 && !line.startsWith("#")) {
          values.put(line.substring(0, eq).strip(), unquote(line.substring(eq + 1).strip()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return values;
  }

  private static String unquote(String value) {
    if (value.length() >= 2
        && ((value.startsWith("\"") && value.endsWith("\""))
            || (value.startsWith("'") && value.endsWith("'")))) {
      return value.substring(1, value.length() - 1);
    }
    return value;
  }

  /** The manifests as shipped, with the real kubectl; then waits until the CRD is served. */
  private void applyManifests() {
    Path project = MockApiServer.projectDir();
    kubectl(
            "apply",
            "-f",
            project.resolve("crds").toString(),
            "-f",
            project.resolve("deploy/rbac.yaml").toString(),
            "-f",
            project.resolve("deploy/controller-rbac.yaml").toString(),
            "-f",
            project.resolve("deploy/user-roles.yaml").toString(),
            "-f",
            project.resolve("deploy/node-restriction.yaml").toString())
        .orThrow();
    kubectl(
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/podcaptures.tcpdump.antrea.io",
            "crd/podcapturesets.tcpdump.antrea.io")
        .orThrow();
  }

  public String apiServerUrl() {
    return env.get("APISERVER_URL");
  }

  public String etcdUrl() {
    return env.get("ETCD_URL");
  }

  public Path caCert() {
    return Path.of(env.get("CA_CERT"));
  }

  public Path adminKubeconfig() {
    return stateDir.resolve("admin.kubeconfig");
  }

  public Path kubectlBinary() {
    return Path.of(env.get("KUBECTL"));
  }

  public Path logs() {
    return stateDir.resolve("logs");
  }

  /**
   * The control plane's certificates and keys (up.sh): ca.crt/ca.key (the cluster CA, which signs
   * client certificates), front-proxy-ca.crt, front-proxy-client.crt/.key, admin.crt/.key.
   */
  public Path pki() {
    return stateDir.resolve("pki");
  }

  /** The cluster admin's client (shared: do not close). */
  public KubernetesClient admin() {
    return admin;
  }

  /** A client from a kubeconfig file, ignoring this JVM's own Kubernetes settings. */
  public static KubernetesClient client(Path kubeconfig) {
    try {
      return new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The build's kubectl as the cluster admin. */
  public Command.Result kubectl(String... args) {
    return kubectlAs(adminKubeconfig(), args);
  }

  /** The build's kubectl with {@code kubeconfig}. */
  public Command.Result kubectlAs(Path kubeconfig, String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(kubectlBinary().toString());
    argv.addAll(List.of(args));
    return run(Duration.ofSeconds(60), Map.of("KUBECONFIG", kubeconfig.toString()), argv);
  }

  /**
   * The environment under which {@code kubectl} on PATH is the build's and talks to this control
   * plane as admin (for the kubectl plugin).
   */
  public Map<String, String> kubectlEnvironment() {
    return Map.of(
        "KUBECONFIG",
        adminKubeconfig().toString(),
        "PATH",
        kubectlBinary().getParent() + File.pathSeparator + System.getenv("PATH"));
  }

  /** Stops one component (etcd, kube-apiserver, kube-controller-manager) with ctl.sh. */
  public void stop(String component) {
    ctl("stop", component);
  }

  /** Starts one stopped component again, with the same arguments; waits until it is ready. */
  public void start(String component) {
    ctl("start", component);
  }

  private void ctl(String action, String component) {
    run(
            Duration.ofMinutes(2),
            Map.of(),
            List.of(
                "bash",
                MockApiServer.projectDir().resolve("controlplane/ctl.sh").toString(),
                stateDir.toString(),
                action,
                component))
        .orThrow();
  }

  /** etcd's current revision, from its JSON gateway. */
  public long etcdRevision() {
    String body = etcdPost("/v3/kv/range", "{\"key\":\"AA==\"}");
    Matcher m = Pattern.compile("\"revision\"\\s*:\\s*\"?(\\d+)").matcher(body);
    if (!m.find()) {
      throw new IllegalStateException("no revision in etcd's answer: " + body);
    }
    return Long.parseLong(m.group(1));
  }

  /** Compacts etcd's history up to its current revision: older resourceVersions are gone. */
  public long compactEtcd() {
    long revision = etcdRevision();
    etcdPost("/v3/kv/compaction", "{\"revision\":" + revision + ",\"physical\":true}");
    return revision;
  }

  private String etcdPost(String path, String json) {
    try {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(etcdUrl() + path))
                      .POST(HttpRequest.BodyPublishers.ofString(json))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("etcd " + path + ": " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Creates the namespace unless it exists. */
  public void namespace(String name) {
    if (admin.namespaces().withName(name).get() == null) {
      admin
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
          .create();
    }
    // Pods need the namespace's default ServiceAccount, which kube-controller-manager makes a
    // moment after the namespace (ServiceAccount admission refuses a Pod until then). On a loaded
    // machine its ServiceAccount controller has been seen to take over 30 s; after 10 s the test
    // makes the ServiceAccount itself, as that controller would (a 409 means it came meanwhile).
    long started = System.nanoTime();
    while (admin.serviceAccounts().inNamespace(name).withName("default").get() == null) {
      long waited = System.nanoTime() - started;
      if (waited > TimeUnit.SECONDS.toNanos(10)) {
        try {
          admin
              .serviceAccounts()
              .inNamespace(name)
              .resource(
                  new ServiceAccountBuilder()
                      .withNewMetadata()
                      .withName("default")
                      .withNamespace(name)
                      .endMetadata()
                      .build())
              .create();
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
        }
      }
      if (waited > TimeUnit.SECONDS.toNanos(30)) {
        throw new IllegalStateException("no default ServiceAccount in namespace " + name);
      }
      sleep(100);
    }
  }

  /** Creates the Node object unless it exists (no kubelet ever reports for it). */
  public void node(String name) {
    if (admin.nodes().withName(name).get() == null) {
      admin
          .nodes()
          .resource(new NodeBuilder().withNewMetadata().withName(name).endMetadata().build())
          .create();
    }
  }

  /**
   * A Pod object bound to {@code node} (no scheduler or kubelet: the test is both), tolerating
   * every taint, so that the node lifecycle controller never evicts it from a node whose kubelet
   * never reports.
   */
  public static PodBuilder boundPod(String namespace, String name, String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewToleration()
        .withOperator("Exists")
        .endToleration()
        .addNewContainer()
        .withName("c")
        .withImage("busybox")
        .endContainer()
        .endSpec();
  }

  /**
   * Creates {@code pod}, then writes its status as the kubelet would: Running, with {@code ips} as
   * {@code status.podIPs} (the first also as {@code status.podIP}).
   */
  public Pod runningPod(Pod pod, List<String> ips) {
    Pod created = admin.resource(pod).create();
    return markRunning(created, ips);
  }

  /** Writes a Pod's status as the kubelet would: Running with these IPs. */
  public Pod markRunning(Pod pod, List<String> ips) {
    Pod running =
        new PodBuilder(pod)
            .editOrNewStatus()
            .withPhase("Running")
            .withPodIP(ips.isEmpty() ? null : ips.get(0))
            .withPodIPs(
                ips.stream().map(ip -> new io.fabric8.kubernetes.api.model.PodIP(ip)).toList())
            .withHostIP("127.0.0.1")
            .endStatus()
            .build();
    return admin.pods().resource(running).updateStatus();
  }

  /** Deletes a Pod at once, as a kubelet that confirmed its containers gone would let it go. */
  public void deletePodNow(String namespace, String name) {
    admin.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
  }

  /**
   * What a DaemonSet Pod of the agent has on {@code node}: the Node object, the agent's Pod object
   * in kube-system bound to it (host network, running at 127.0.0.1, its file port a free port named
   * {@code files}), a kubeconfig in {@code dir} with a token from the TokenRequest API bound to
   * that Pod (so it names the node), and an empty folder for the file port's certificate.
   */
  public AgentIdentity agentIdentity(String node, Path dir) throws IOException {
    node(node);
    String podName = "podcapture-agent-" + node;
    Pod pod = admin.pods().inNamespace(AGENT_NAMESPACE).withName(podName).get();
    if (pod == null) {
      // Pod ports cannot change: the file port is picked once, with the Pod.
      int filesPort = FreePorts.pick();
      pod =
          admin
              .resource(
                  boundPod(AGENT_NAMESPACE, podName, node)
                      .editMetadata()
                      .addToLabels(AGENT_POD_LABEL, AGENT_POD_LABEL_VALUE)
                      .endMetadata()
                      .editSpec()
                      .withServiceAccountName(AGENT_SERVICE_ACCOUNT)
                      .withHostNetwork(true)
                      .editFirstContainer()
                      .addNewPort()
                      .withName(FILES_PORT_NAME)
                      .withContainerPort(filesPort)
                      .withProtocol("TCP")
                      .endPort()
                      .endContainer()
                      .endSpec()
                      .build())
              .create();
      // On the host network its address is the node's: here, loopback.
      pod = markRunning(pod, List.of("127.0.0.1"));
    }
    String token = boundToken(AGENT_SERVICE_ACCOUNT, pod);
    Path kubeconfig = writeKubeconfig(dir.resolve("agent-" + node + ".kubeconfig"), token);
    Path tlsDir = Files.createDirectories(dir.resolve("agent-tls-" + node));
    return new AgentIdentity(node, podName, token, kubeconfig, filesPort(pod), tlsDir);
  }

  private static int filesPort(Pod pod) {
    return pod.getSpec().getContainers().stream()
        .flatMap(c -> c.getPorts().stream())
        .filter(p -> FILES_PORT_NAME.equals(p.getName()))
        .findFirst()
        .orElseThrow(
            () -> new IllegalStateException(pod.getMetadata().getName() + ": no files port"))
        .getContainerPort();
  }

  /**
   * What the kubelet does for the DaemonSet's optional Secret volume: once the controller has made
   * Secret {@value #AGENT_TLS_SECRET} (waits up to 60 s for it), writes its tls.key and tls.crt
   * into the agent's certificate folder (FILES_TLS_DIR), each file complete when it appears.
   */
  public void mountAgentTls(AgentIdentity identity) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Secret secret;
    while ((secret = admin.secrets().inNamespace(AGENT_NAMESPACE).withName(AGENT_TLS_SECRET).get())
        == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no Secret " + AGENT_TLS_SECRET + " after 60 s");
      }
      sleep(200);
    }
    for (String key : List.of("tls.key", "tls.crt")) {
      String data = secret.getData() == null ? null : secret.getData().get(key);
      if (data == null) {
        throw new IllegalStateException("Secret " + AGENT_TLS_SECRET + " has no " + key);
      }
      Path part = identity.filesTlsDir().resolve("." + key + ".part");
      Files.write(part, Base64.getDecoder().decode(data));
      Files.move(
          part,
          identity.filesTlsDir().resolve(key),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** A kubeconfig for this API server, verified against its CA, with a bearer token. */
  public Path writeKubeconfig(Path file, String token) throws IOException {
    return writeKubeconfig(file, apiServerUrl(), token);
  }

  /** As {@link #writeKubeconfig(Path, String)}, for another server URL (a proxy in front). */
  public Path writeKubeconfig(Path file, String server, String token) throws IOException {
    String cluster =
        server.startsWith("https:")
            ? "{server: \"%s\", certificate-authority: \"%s\"}".formatted(server, caCert())
            : "{server: \"%s\"}".formatted(server);
    return Files.writeString(
        file,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: cluster
          cluster: %s
        users:
        - name: user
          user: {token: "%s"}
        contexts:
        - name: cluster
          context: {cluster: cluster, user: user, namespace: default}
        current-context: cluster
        """
            .formatted(cluster, token));
  }

  /**
   * Starts the real agent jar ({@code target/podcapture-agent.jar}) as that identity's DaemonSet
   * Pod would run it, writing into {@code captureDir}; returns once it says it is ready.
   */
  public AgentJvm startAgent(
      AgentIdentity identity, Path kubeconfig, Path captureDir, Map<String, String> env)
      throws IOException {
    return startAgent(
        identity,
        kubeconfig,
        captureDir,
        env,
        MockApiServer.projectDir().resolve("target/podcapture-agent.jar"));
  }

  /** As above, running another build's jar (the benchmark's "before" runs an older one). */
  public AgentJvm startAgent(
      AgentIdentity identity, Path kubeconfig, Path captureDir, Map<String, String> env, Path jar)
      throws IOException {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: run mvn package first");
    }
    Map<String, String> environment = new HashMap<>();
    environment.put("NODE_NAME", identity.node());
    environment.put("POD_NAME", identity.podName());
    environment.put("POD_NAMESPACE", AGENT_NAMESPACE);
    // The file port its Pod names, and the folder mountAgentTls fills (the Secret volume): every
    // agent of the tier has its own, so that several run on this one machine.
    environment.put("FILES_PORT", String.valueOf(identity.filesPort()));
    environment.put("FILES_TLS_DIR", identity.filesTlsDir().toString());
    environment.putAll(env);
    // a new log per start, so that "ready" is this start's
    Path log =
        Files.createTempFile(
            captureDir.toAbsolutePath().getParent(), "agent-" + identity.node() + "-", ".log");
    AgentJvm agent =
        AgentJvm.start(List.of("-jar", jar.toString()), kubeconfig, captureDir, log, environment);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!agent.log().contains("agent ready on node")) {
      if (!agent.alive() || System.nanoTime() > deadline) {
        String output = agent.log();
        try {
          agent.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("agent on " + identity.node() + " not ready:\n" + output);
      }
      sleep(100);
    }
    return agent;
  }

  /** As above, with the identity's own kubeconfig. */
  public AgentJvm startAgent(AgentIdentity identity, Path captureDir, Map<String, String> env)
      throws IOException {
    return startAgent(identity, identity.kubeconfig(), captureDir, env);
  }

  /**
   * Starts one replica of the cluster controller: the built jar in controller mode, as the
   * Deployment's Pod {@code name} in kube-system would run it (a Pod object of that name, a token
   * of ServiceAccount podcapture-controller bound to it), behind a {@link CountingApiProxy} of its
   * own. Returns once it runs (leading or standing by); {@code env} adds to or overrides its
   * settings.
   */
  public ControllerJvm startController(String name, Path dir, Map<String, String> env)
      throws Exception {
    Path jar = MockApiServer.projectDir().resolve("target/podcapture-agent.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: run mvn package first");
    }
    Pod pod = admin.pods().inNamespace(AGENT_NAMESPACE).withName(name).get();
    if (pod == null) {
      // Not scheduled (no scheduler runs): the token only needs the Pod to exist.
      pod =
          admin
              .resource(
                  new PodBuilder()
                      .withNewMetadata()
                      .withNamespace(AGENT_NAMESPACE)
                      .withName(name)
                      .addToLabels(AGENT_POD_LABEL, CONTROLLER_SERVICE_ACCOUNT)
                      .endMetadata()
                      .withNewSpec()
                      .withServiceAccountName(CONTROLLER_SERVICE_ACCOUNT)
                      .addNewContainer()
                      .withName("controller")
                      .withImage("podcapture-agent:dev")
                      .endContainer()
                      .endSpec()
                      .build())
              .create();
    }
    String token = boundToken(CONTROLLER_SERVICE_ACCOUNT, pod);
    CountingApiProxy proxy = new CountingApiProxy(apiServerUrl(), caCert());
    try {
      Path kubeconfig = writeKubeconfig(dir.resolve(name + ".kubeconfig"), proxy.url(), token);
      Map<String, String> environment = new HashMap<>();
      environment.put("PODCAPTURE_MODE", "controller");
      environment.put("POD_NAME", name);
      environment.put("POD_NAMESPACE", AGENT_NAMESPACE);
      environment.put("HTTP_PORT", "0");
      // Any free port: several replicas run on this one machine. A test that reaches the files
      // API through the API server gives its port (FilesApi).
      environment.put("FILES_API_PORT", "0");
      environment.put("KUBECONFIG", kubeconfig.toString());
      environment.putAll(env);
      Path log = Files.createTempFile(dir, name + "-", ".log");
      ProcessBuilder builder =
          new ProcessBuilder(
                  AgentJvm.argv(
                      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m"),
                      List.of("-jar", jar.toString())))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      ControllerJvm controller =
          new ControllerJvm(
              name, AgentJvm.withAgentEnvironment(builder, environment).start(), log, proxy);
      if (!controller.awaitLog("running against", Duration.ofSeconds(60))) {
        String output = controller.log();
        controller.kill();
        proxy.close();
        throw new IllegalStateException("controller " + name + " did not start:\n" + output);
      }
      return controller;
    } catch (Exception e) {
      proxy.close();
      throw e;
    }
  }

  /**
   * As {@link #startController}, and waits until this replica holds the Lease (at once if nobody
   * holds it or its holder released it; up to the Lease's 15 s after a holder was killed).
   */
  public ControllerJvm startLeadingController(String name, Path dir) throws Exception {
    return startLeadingController(name, dir, Map.of());
  }

  /** As above, with {@code env} added to its settings (as {@link #startController}). */
  public ControllerJvm startLeadingController(String name, Path dir, Map<String, String> env)
      throws Exception {
    ControllerJvm controller = startController(name, dir, env);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    while (!name.equals(controllerLeaseHolder())) {
      if (!controller.alive() || System.nanoTime() > deadline) {
        String log = controller.log();
        controller.close();
        throw new IllegalStateException(
            "controller "
                + name
                + " does not hold the Lease ("
                + controllerLeaseHolder()
                + "):\n"
                + log);
      }
      sleep(100);
    }
    return controller;
  }

  /** Who holds the controller's Lease now (null: nobody, or no Lease yet). */
  public String controllerLeaseHolder() {
    var lease = admin.leases().inNamespace(AGENT_NAMESPACE).withName(CONTROLLER_LEASE).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  /**
   * A token of {@code serviceAccount} (kube-system) from the TokenRequest API, bound to the Pod.
   */
  private String boundToken(String serviceAccount, Pod pod) {
    TokenRequest request =
        new TokenRequestBuilder()
            .withNewSpec()
            .withExpirationSeconds(24 * 3600L)
            .withNewBoundObjectRef()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .endBoundObjectRef()
            .endSpec()
            .build();
    return admin
        .serviceAccounts()
        .inNamespace(AGENT_NAMESPACE)
        .withName(serviceAccount)
        .tokenRequest(request)
        .getStatus()
        .getToken();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * What an agent of one node holds: its node, its Pod's name, its token and kubeconfig, its file
   * port (the Pod's container port {@code files}) and the folder of that port's certificate.
   */
  public record AgentIdentity(
      String node,
      String podName,
      String token,
      Path kubeconfig,
      int filesPort,
      Path filesTlsDir) {}

  /** Runs {@code argv} with {@code extraEnv} added, output and error together. */
  public static Command.Result run(
      Duration timeout, Map<String, String> extraEnv, List<String> argv) {
    try {
      Path out = Files.createTempFile("podcapture-cmd-", ".out");
      try {
        ProcessBuilder builder =
            new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(extraEnv);
        Process process = builder.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor();
          return new Command.Result(
              List.copyOf(argv), -1, "timed out after " + timeout + ": " + read(out));
        }
        return new Command.Result(List.copyOf(argv), process.exitValue(), read(out));
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + argv, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + argv, e);
    }
  }

  private static String read(Path file) throws IOException {
    return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
  }
}
