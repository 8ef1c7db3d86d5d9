package io.podcapture.bench;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real kube-apiserver that bench/run.sh started with controlplane/up.sh, with the CRD applied and
 * the benchmark's namespace made. It records no requests: the API cost comes from the mock server.
 */
final class RealApiServer implements ApiServer {
  private final Path kubeconfig;
  private final String version;

  RealApiServer(Path kubeconfig, String version) {
    this.kubeconfig = kubeconfig;
    this.version = version;
  }

  @Override
  public KubernetesClient client() {
    try {
      Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
      config.setUserAgent(BenchApiServer.DRIVER_USER_AGENT);
      return new KubernetesClientBuilder()
          .withConfig(config)
          .withHttpClientFactory(new JdkHttpClientFactory())
          .build();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + kubeconfig, e);
    }
  }

  @Override
  public Path writeKubeconfig(Path file) throws IOException {
    return Files.copy(kubeconfig, file);
  }

  /**
   * Creates the Pod without owner references (the garbage collector would delete a Pod whose owner
   * does not exist), managed fields and priority (the server sets those itself), then writes its
   * status, which the server leaves out of a create, as the kubelet would.
   */
  @Override
  public Pod createPod(KubernetesClient user, Pod pod) {
    Pod bare =
        new PodBuilder(pod)
            .editMetadata()
            .withOwnerReferences(List.of())
            .withManagedFields(List.of())
            .withUid(null)
            .withCreationTimestamp(null)
            .endMetadata()
            .editSpec()
            .withPriority(null)
            .endSpec()
            .build();
    Pod created = user.pods().inNamespace(Workload.NAMESPACE).resource(bare).create();
    created.setStatus(pod.getStatus());
    return user.pods().inNamespace(Workload.NAMESPACE).resource(created).updateStatus();
  }

  @Override
  public boolean recordsCalls() {
    return false;
  }

  @Override
  public List<BenchApiServer.Call> agentCalls(long from, long to) {
    return List.of();
  }

  @Override
  public void forget() {
    // nothing recorded
  }

  @Override
  public String describe() {
    return version;
  }

  @Override
  public void close() {
    // the control plane is bench/run.sh's to stop
  }
}
