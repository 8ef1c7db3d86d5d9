package io.podcapture.clusterwide;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the node agents' Pods (AGENT_NAMESPACE, AGENT_SELECTOR) and keeps {@link AgentNodes}
 * current; tells the listener which nodes gained or lost their agent. Only the agents' Pods are
 * watched, never all Pods of the cluster.
 */
final class AgentPresence implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AgentPresence.class);

  private final AgentNodes nodes;
  private final SharedIndexInformer<Pod> informer;

  AgentPresence(
      KubernetesClient client,
      ControllerConfig config,
      AgentNodes nodes,
      Consumer<Set<String>> changed) {
    this.nodes = nodes;
    this.informer =
        client
            .pods()
            .inNamespace(config.agentNamespace())
            .withLabels(config.agentSelector())
            .runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Pod pod) {
            tell(nodes.update(key(pod), nodeOf(pod)));
          }

          @Override
          public void onUpdate(Pod old, Pod pod) {
            tell(nodes.update(key(pod), nodeOf(pod)));
          }

          @Override
          public void onDelete(Pod pod, boolean finalStateUnknown) {
            tell(nodes.remove(key(pod)));
          }

          private void tell(Set<String> nodes) {
            if (!nodes.isEmpty()) {
              LOG.debug("agent presence changed on {}", nodes);
              changed.accept(nodes);
            }
          }
        });
  }

  /** Starts the watch; returns at once. */
  void start() {
    var unused = informer.start();
  }

  boolean synced() {
    return informer.hasSynced();
  }

  AgentNodes nodes() {
    return nodes;
  }

  private static String key(Pod pod) {
    return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }

  /** The Pod's node, or null while it is unscheduled or being deleted (it no longer serves). */
  static String nodeOf(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null || pod.getSpec() == null) {
      return null;
    }
    String node = pod.getSpec().getNodeName();
    return node == null || node.isEmpty() ? null : node;
  }

  @Override
  public void close() {
    informer.close();
  }
}
