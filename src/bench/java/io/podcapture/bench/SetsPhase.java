package io.podcapture.bench;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureSetSpec;
import io.podcapture.controller.Names;
import io.podcapture.sets.ChildNames;
import io.podcapture.sets.SetConfig;
import io.podcapture.sets.SetController;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * PodCaptureSets (issue 21), against the mock API server with two in-process node agents running
 * real tcpdump and the set controller in this JVM: set start to all children Running for 10 Pods, a
 * new Pod's IP to its child's tcpdump running, and what the controller's metadata-only Pod watches
 * cost in heap per watched Pod and per set, extrapolated to 100 sets over 10,000 Pods. Prints its
 * results; BENCHMARKS.md is the lead's.
 */
final class SetsPhase {
  private static final String NS = "sets-bench";
  private static final String[] NODES = {"node-a", "node-b"};
  private static final int SET_PODS = 10;
  private static final long TIMEOUT_MS = 60_000;

  private final Workbench bench;

  SetsPhase(Workbench bench) {
    this.bench = bench;
  }

  /**
   * Runs the phase if --phases names it; true when it named nothing else (the benchmark then ends
   * without writing BENCHMARKS.md, whose other sections would be empty).
   */
  static boolean runIfAsked(Workbench bench, List<String> phases) throws Exception {
    if (!phases.contains("sets")) {
      return false;
    }
    new SetsPhase(bench).measure();
    return phases.size() == 1;
  }

  void measure() throws Exception {
    int rounds = Integer.parseInt(bench.options.getOrDefault("set-rounds", "5"));
    try (MockApiServer api = new MockApiServer()) {
      KubernetesClient user = api.client();
      registerSetCrd(user);
      List<AgentHarness> agents = new ArrayList<>();
      try {
        for (String node : NODES) {
          Path dir = Files.createDirectories(bench.work.resolve("sets-" + node));
          agents.add(
              AgentHarness.wholeAgent(
                  api, dir, Map.of("NODE_NAME", node, "POD_NAME", "agent-" + node)));
        }
        try (KubernetesClient controllerClient = api.client("podcapture-set-controller");
            SetController controller =
                SetController.start(
                    controllerClient, SetConfig.of("bench-controller"), Clock.systemUTC())) {
          startToAllRunning(user, rounds);
          newPodIpToRunning(user, rounds);
          memory(user, controller);
        }
      } finally {
        agents.forEach(AgentHarness::close);
        user.close();
      }
    }
  }

  /** Set created to every one of its 10 children Running (their tcpdump started by an agent). */
  private void startToAllRunning(KubernetesClient user, int rounds) {
    List<Double> took = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      String app = "start-" + r;
      for (int i = 0; i < SET_PODS; i++) {
        createPod(user, app + "-" + i, app, NODES[i % 2], ip(r, i));
      }
      long t0 = System.nanoTime();
      createSet(user, app, app, SET_PODS);
      awaitTrue(() -> running(user, app) == SET_PODS, "all children of " + app + " Running");
      took.add((System.nanoTime() - t0) / 1e6);
      deleteSet(user, app);
    }
    Stats s = Stats.of(took);
    Workbench.log(
        "sets: set start to all %d children Running (2 nodes, real tcpdump): p50 %s, max %s over"
            + " %d rounds",
        SET_PODS, Stats.ms(s.p50()), Stats.ms(s.max()), rounds);
  }

  /**
   * A Pod that joins a running set: created without an IP (its child waits for it), then given one
   * as the kubelet would; from that status write to the child's tcpdump running.
   */
  private void newPodIpToRunning(KubernetesClient user, int rounds) {
    createPod(user, "late-first", "late", NODES[0], ip(50, 0));
    createSet(user, "late", "late", 100);
    awaitTrue(() -> running(user, "late") == 1, "the late set's first child Running");
    List<Double> fromIp = new ArrayList<>();
    List<Double> fromCreate = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      String pod = "late-" + r;
      String child = ChildNames.of("late", pod);
      Pod noIp = pod(pod, "late", NODES[r % 2], null);
      user.resource(noIp).create();
      awaitTrue(() -> cr(user, child) != null, "child " + child + " made");
      long t0 = System.nanoTime();
      Pod withIp = user.pods().inNamespace(NS).withName(pod).get();
      withIp.setStatus(pod(pod, "late", NODES[r % 2], ip(51, r)).getStatus());
      user.pods().inNamespace(NS).resource(withIp).updateStatus();
      awaitTrue(() -> phase(user, child).equals(Names.PHASE_RUNNING), child + " Running");
      fromIp.add((System.nanoTime() - t0) / 1e6);

      String direct = "late-ip-" + r;
      long t1 = System.nanoTime();
      createPod(user, direct, "late", NODES[r % 2], ip(52, r));
      awaitTrue(
          () -> phase(user, ChildNames.of("late", direct)).equals(Names.PHASE_RUNNING),
          direct + " Running");
      fromCreate.add((System.nanoTime() - t1) / 1e6);
    }
    deleteSet(user, "late");
    Stats ip = Stats.of(fromIp);
    Stats created = Stats.of(fromCreate);
    Workbench.log(
        "sets: a new Pod's IP written to its child's tcpdump running: p50 %s, max %s; a new Pod"
            + " created with its IP to its child Running: p50 %s, max %s (%d rounds)",
        Stats.ms(ip.p50()),
        Stats.ms(ip.max()),
        Stats.ms(created.p50()),
        Stats.ms(created.max()),
        rounds);
  }

  /**
   * Heap of the metadata-only Pod watches: 100 sets with 100 selectors over Pods on a node with no
   * agent (each set makes one child: maxPods 1). The mock API server runs in this JVM and keeps its
   * own copy of every Pod, so all 2,000 Pods are made first; the sets first select 1 Pod each, then
   * (their selectors changed) 20 each: the heap between the two is the store's, 1,900 Pods' worth.
   */
  private void memory(KubernetesClient user, SetController controller) throws Exception {
    int sets = 100;
    int perSet = 20;
    for (int k = 0; k < sets; k++) {
      for (int i = 0; i < perSet; i++) {
        Pod p = Workload.pod(k * perSet + i, ip(100 + k / 250, k % 250));
        user.resource(relabel(p, "mem-" + k + "-" + i, "mem-" + k, i == 0)).create();
      }
    }
    long threads0 = ManagementFactory.getThreadMXBean().getThreadCount();
    long heap0 = heapAfterGc();
    for (int k = 0; k < sets; k++) {
      createSet(user, "mem-" + k, Map.of("bench-set", "mem-" + k, "bench-first", "yes"), 1);
    }
    awaitTrue(() -> controller.podWatches() == sets, sets + " Pod watches");
    awaitTrue(() -> controller.watchedPods() == sets, sets + " Pods watched");
    awaitTrue(() -> memChildren(user) == sets, "one child per set");
    long heapA = heapAfterGc();
    long threadsA = ManagementFactory.getThreadMXBean().getThreadCount();
    for (int k = 0; k < sets; k++) {
      PodCaptureSet set =
          user.resources(PodCaptureSet.class).inNamespace(NS).withName("mem-" + k).get();
      set.getSpec()
          .setSelector(
              new LabelSelectorBuilder().withMatchLabels(Map.of("bench-set", "mem-" + k)).build());
      user.resources(PodCaptureSet.class).inNamespace(NS).resource(set).update();
    }
    int watched = sets * perSet;
    awaitTrue(() -> controller.watchedPods() == watched, watched + " Pods watched");
    awaitTrue(() -> controller.podWatches() == sets, sets + " Pod watches after the change");
    long heapB = heapAfterGc();
    // fabric8 hands informer events to a cached thread pool, whose idle threads end after 60 s.
    Thread.sleep(65_000);
    long threadsRest = ManagementFactory.getThreadMXBean().getThreadCount();
    long added = (long) sets * (perSet - 1);
    double perPod = (heapB - heapA) / (double) added;
    // The same Pods held whole, as a store that kept what the mock sends would hold them.
    List<Pod> whole =
        user.pods().inNamespace(NS).withLabel("bench-set").list().getItems().stream()
            .filter(p -> p.getMetadata().getName().startsWith("mem-"))
            .toList();
    long heapWhole = heapAfterGc();
    double perWholePod = (heapWhole - heapB) / (double) whole.size();
    double perSetCost = (heapA - heap0) / (double) sets;
    int podJson = Serialization.asJson(whole.get(0)).length();
    Workbench.log(
        "sets: metadata-only Pod store %.0f B per watched Pod (the same Pod whole, %d B of JSON,"
            + " held as fabric8 objects: %.0f B); per set with its Pod watch, one child and one"
            + " Pod %.0f B (an upper bound: the mock server in this JVM holds its own copies of"
            + " the set, the child and the Events); %d watches for %d sets; threads %d -> %d"
            + " just after the watches started, %d a minute later",
        perPod,
        podJson,
        perWholePod,
        perSetCost,
        controller.podWatches(),
        sets,
        threads0,
        threadsA,
        threadsRest);
    double extrapolated = (10_000 * perPod + 100 * perSetCost) / (1024 * 1024);
    double extrapolatedWhole = (10_000 * perWholePod + 100 * perSetCost) / (1024 * 1024);
    Workbench.log(
        "sets: 100 sets over 10,000 Pods (each Pod matched by one set: 100 watches, 10,000 Pods"
            + " stored): about %.1f MiB of heap (%.1f MiB if the store kept whole Pods)",
        extrapolated, extrapolatedWhole);
    for (int k = 0; k < sets; k++) {
      deleteSet(user, "mem-" + k);
    }
  }

  private static long memChildren(KubernetesClient user) {
    return user
        .resources(PodCapture.class)
        .inNamespace(NS)
        .withLabel(Names.LABEL_SET)
        .list()
        .getItems()
        .stream()
        .filter(c -> c.getMetadata().getName().startsWith("mem-"))
        .count();
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(150);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static Pod relabel(Pod pod, String name, String app, boolean first) {
    Pod p =
        new PodBuilder(pod)
            .editMetadata()
            .withName(name)
            .withNamespace(NS)
            .withUid(NS + "-" + name)
            .addToLabels("bench-set", app)
            .addToLabels("bench-first", first ? "yes" : "no")
            .endMetadata()
            .editSpec()
            .withNodeName("node-without-agent")
            .endSpec()
            .build();
    return p;
  }

  private static List<String> ip(int r, int i) {
    return List.of(String.format(Locale.ROOT, "10.%d.%d.%d", 60 + r / 250, r % 250, i + 1));
  }

  private static Pod pod(String name, String app, String node, List<String> ips) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withNamespace(NS)
            .withName(name)
            .withUid(NS + "-" + name)
            .withLabels(Map.of("bench-set", app))
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName("c")
            .withImage("busybox")
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase(ips == null ? "Pending" : "Running")
            .endStatus();
    if (ips != null) {
      b.editStatus().withPodIP(ips.get(0)).endStatus();
      for (String ip : ips) {
        b.editStatus().addNewPodIP().withIp(ip).endPodIP().endStatus();
      }
    }
    return b.build();
  }

  private static void createPod(
      KubernetesClient user, String name, String app, String node, List<String> ips) {
    user.resource(pod(name, app, node, ips)).create();
  }

  private static void createSet(KubernetesClient user, String name, String app, int maxPods) {
    createSet(user, name, Map.of("bench-set", app), maxPods);
  }

  private static void createSet(
      KubernetesClient user, String name, Map<String, String> labels, int maxPods) {
    PodCaptureSet set = new PodCaptureSet();
    set.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    PodCaptureSetSpec spec = new PodCaptureSetSpec();
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(labels).build());
    spec.setMaxPods(maxPods);
    set.setSpec(spec);
    user.resources(PodCaptureSet.class).inNamespace(NS).resource(set).create();
  }

  private static void deleteSet(KubernetesClient user, String name) {
    user.resources(PodCaptureSet.class).inNamespace(NS).withName(name).delete();
    awaitTrue(
        () -> user.resources(PodCaptureSet.class).inNamespace(NS).withName(name).get() == null,
        "set " + name + " deleted");
  }

  private static long running(KubernetesClient user, String set) {
    return user
        .resources(PodCapture.class)
        .inNamespace(NS)
        .withLabel(Names.LABEL_SET, set)
        .list()
        .getItems()
        .stream()
        .filter(c -> c.getStatus() != null && Names.PHASE_RUNNING.equals(c.getStatus().getPhase()))
        .count();
  }

  private static PodCapture cr(KubernetesClient user, String name) {
    return user.resources(PodCapture.class).inNamespace(NS).withName(name).get();
  }

  private static String phase(KubernetesClient user, String name) {
    PodCapture cr = cr(user, name);
    return cr == null || cr.getStatus() == null || cr.getStatus().getPhase() == null
        ? ""
        : cr.getStatus().getPhase();
  }

  private static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("sets phase: timed out waiting for " + what);
      }
      AgentProcess.sleepMillis(10);
    }
  }

  private static void registerSetCrd(KubernetesClient admin) throws Exception {
    Path file = MockApiServer.projectDir().resolve("crds/podcapturesets.tcpdump.antrea.io.yaml");
    try (InputStream in = Files.newInputStream(file)) {
      admin
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .resource(Serialization.unmarshal(in, CustomResourceDefinition.class))
          .create();
    }
  }
}
