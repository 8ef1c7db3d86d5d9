package io.podcapture.bench;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The API server a session's agent talks to: the mock one in the benchmark's JVM, which records
 * every request, or a real kube-apiserver (controlplane/up.sh), which records none.
 */
interface ApiServer extends AutoCloseable {

  /** A client for the benchmark itself. */
  KubernetesClient client();

  /** A kubeconfig file pointing at this server, for an agent in another process. */
  Path writeKubeconfig(Path file) throws IOException;

  /** Creates one of the node's Pods as the kubelet would leave it: Running, with its IPs. */
  Pod createPod(KubernetesClient user, Pod pod);

  /** Whether {@link #agentCalls} knows the agent's requests. */
  boolean recordsCalls();

  /** The agent's requests answered in [from, to) (System.nanoTime); none if not recorded. */
  List<BenchApiServer.Call> agentCalls(long from, long to);

  /** Drops recorded requests, to bound memory in long phases. */
  void forget();

  /** Which server this is, for BENCHMARKS.md. */
  String describe();

  @Override
  void close();
}
