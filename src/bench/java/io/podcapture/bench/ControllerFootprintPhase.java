package io.podcapture.bench;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.controller.Names;
import io.podcapture.testing.MockApiServer;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The cluster controller's footprint (issue 21), to size its Deployment's memory request and limit:
 * the shipped jar in controller mode with the Dockerfile's JVM flags, as its own process against
 * the mock API server, read 5 s after it holds the Lease with no set, and again 5 s after {@value
 * #SETS} PodCaptureSets have made their {@value #SET_PODS} children each, over {@value #PODS} Pods
 * in {@value #NAMESPACES} namespaces (half of them matched). Prints its figures; run it with {@code
 * bench/run.sh --phases=controller}.
 */
final class ControllerFootprintPhase {
  static final int PODS = 2000;
  static final int NAMESPACES = 4;
  static final int SETS = 20;
  static final int SET_PODS = 50;
  private static final String[] NODES = {"node-a", "node-b"};
  private static final String IDENTITY = "bench-controller";
  private static final long TIMEOUT_MS = 180_000;

  private final Workbench bench;

  private ControllerFootprintPhase(Workbench bench) {
    this.bench = bench;
  }

  /** Runs the phase if --phases names it; true when it named nothing else. */
  static boolean runIfAsked(Workbench bench, List<String> phases) throws Exception {
    if (!phases.contains("controller")) {
      return false;
    }
    new ControllerFootprintPhase(bench).measure(deployedFlags(bench.project));
    return phases.stream().allMatch(p -> p.equals("controller") || p.equals("sets"));
  }

  /**
   * The JVM flags of deploy/controller.yaml's container command ({@code java <flags> -jar <jar>}),
   * with the image's environment.
   */
  static Shipped deployedFlags(Path project) throws Exception {
    Shipped image = Shipped.read(project.resolve("Dockerfile"));
    try (KubernetesClient offline = new KubernetesClientBuilder().build();
        InputStream in = Files.newInputStream(project.resolve("deploy/controller.yaml"))) {
      for (HasMetadata item : offline.load(in).items()) {
        if (item instanceof Deployment d) {
          List<String> command =
              d.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand();
          int jar = command.indexOf("-jar");
          if (command.isEmpty() || jar < 0) {
            throw new IllegalStateException("deploy/controller.yaml: no java ... -jar command");
          }
          return new Shipped(List.copyOf(command.subList(1, jar)), image.env());
        }
      }
    }
    throw new IllegalStateException("deploy/controller.yaml has no Deployment");
  }

  private void measure(Shipped shipped) throws Exception {
    try (MockApiServer api = new MockApiServer()) {
      KubernetesClient admin = api.client();
      registerSetCrd(admin);
      for (String node : NODES) {
        admin.resource(agentPod(node)).create();
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < PODS; i++) {
        admin.resource(pod(namespace(i), "pod-" + i, i)).create();
      }
      Workbench.log("controller: %d Pods made in %.1f s", PODS, (System.nanoTime() - t0) / 1e9);
      Path kubeconfig = api.writeKubeconfig(bench.work.resolve("controller.kubeconfig"));
      Map<String, String> env = new HashMap<>(shipped.env());
      env.put("PODCAPTURE_MODE", "controller");
      env.put("POD_NAME", IDENTITY);
      env.put("POD_NAMESPACE", "kube-system");
      env.put("HTTP_PORT", Integer.toString(freePort()));
      env.put("KUBECONFIG", kubeconfig.toString());
      try (AgentProcess controller =
          AgentProcess.start(
              shipped.flags(),
              List.of("-jar", bench.jar().toString()),
              env,
              Files.createDirectories(bench.logs()).resolve("controller-footprint.log"))) {
        double readyMs = controller.awaitReady(60);
        awaitTrue(() -> IDENTITY.equals(holder(admin)), "the controller holds the Lease");
        AgentProcess.sleepMillis(5000);
        AgentProcess.Footprint idle = controller.footprint();
        long t1 = System.nanoTime();
        for (int k = 0; k < SETS; k++) {
          admin.resource(set(namespace(k), "set-" + k, "group-" + k)).create();
        }
        awaitTrue(() -> children(admin) >= SETS * SET_PODS, SETS * SET_PODS + " children made");
        double madeSeconds = (System.nanoTime() - t1) / 1e9;
        AgentProcess.sleepMillis(5000);
        AgentProcess.Footprint busy = controller.footprint();
        Workbench.log("controller: JVM flags (deploy/controller.yaml) %s", shipped.flags());
        Workbench.log(
            "controller: ready %.0f ms (/readyz); with no set: RSS %s, heap used %s, metaspace %s,"
                + " threads %d",
            readyMs,
            Markdown.mib(idle.rssKiB()),
            Markdown.mib(idle.heapUsedKiB()),
            Markdown.mib(idle.metaspaceUsedKiB()),
            idle.threads());
        Workbench.log(
            "controller: %d sets made %d children over %d Pods (%d namespaces) in %.1f s; then RSS"
                + " %s (peak %s), heap used %s of %s committed, metaspace %s, threads %d,"
                + " cgroup %s (peak %s)",
            SETS,
            SETS * SET_PODS,
            PODS,
            NAMESPACES,
            madeSeconds,
            Markdown.mib(busy.rssKiB()),
            Markdown.mib(busy.hwmKiB()),
            Markdown.mib(busy.heapUsedKiB()),
            Markdown.mib(busy.heapCommittedKiB()),
            Markdown.mib(busy.metaspaceUsedKiB()),
            busy.threads(),
            busy.cgroupKiB() < 0 ? "n/a" : Markdown.mib(busy.cgroupKiB()),
            busy.cgroupPeakKiB() < 0 ? "n/a" : Markdown.mib(busy.cgroupPeakKiB()));
        if (!controller.isAlive()) {
          throw new IllegalStateException("the controller exited; see its log");
        }
      }
    }
  }

  private static String namespace(int i) {
    return "team-" + (i % NAMESPACES);
  }

  private static String holder(KubernetesClient admin) {
    Lease lease = admin.leases().inNamespace("kube-system").withName("podcapture-controller").get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static int children(KubernetesClient admin) {
    return admin
        .resources(PodCapture.class)
        .inAnyNamespace()
        .withLabel(Names.LABEL_SET)
        .list()
        .getItems()
        .size();
  }

  /** An agent Pod as the DaemonSet makes it, so the controller sees both nodes served. */
  private static Pod agentPod(String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace("kube-system")
        .withName("podcapture-agent-" + node)
        .withLabels(Map.of("app.kubernetes.io/name", "podcapture-agent"))
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("agent")
        .withImage("podcapture-agent")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .endStatus()
        .build();
  }

  /**
   * Pod i, the j-th of namespace n: every even j belongs to one of the namespace's sets (set k
   * lives in namespace k % NAMESPACES), SET_PODS Pods to each; every odd j to none.
   */
  private static Pod pod(String namespace, String name, int i) {
    int j = i / NAMESPACES;
    int set = i % NAMESPACES + NAMESPACES * ((j / 2) % (SETS / NAMESPACES));
    String group = j % 2 == 0 ? "group-" + set : "unmatched";
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(Map.of("app", group, "tier", "web"))
        .endMetadata()
        .withNewSpec()
        .withNodeName(NODES[i % NODES.length])
        .addNewContainer()
        .withName("web")
        .withImage("nginx")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .withPodIP(
            String.format(Locale.ROOT, "10.%d.%d.%d", 100 + i / 65536, i / 256 % 256, i % 256))
        .endStatus()
        .build();
  }

  private static PodCaptureSet set(String namespace, String name, String group) {
    PodCaptureSet set = new PodCaptureSet();
    set.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    PodCaptureSetSpec spec = new PodCaptureSetSpec();
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", group)).build());
    spec.setMaxPods(SET_PODS);
    set.setSpec(spec);
    return set;
  }

  private static void registerSetCrd(KubernetesClient admin) throws Exception {
    Path file = MockApiServer.projectDir().resolve("crds/podcapturesets.tcpdump.antrea.io.yaml");
    try (InputStream in = Files.newInputStream(file)) {
      admin.resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
    }
    for (int n = 0; n < NAMESPACES; n++) {
      admin
          .resource(
              new NamespaceBuilder().withNewMetadata().withName("team-" + n).endMetadata().build())
          .create();
    }
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting until " + what);
      }
      AgentProcess.sleepMillis(200);
    }
  }
}
