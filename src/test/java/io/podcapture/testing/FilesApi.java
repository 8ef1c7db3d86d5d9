package io.podcapture.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The files API registered with the real API server for a controller on this machine: APIService
 * {@value #API_SERVICE} from deploy/files-api.yaml as shipped, and Service podcapture-controller in
 * kube-system, which here is of type ExternalName {@code localhost}: the aggregator resolves an
 * ExternalName Service to {@code https://<externalName>:<port>} (k8s.io/apiserver
 * util/proxy.ResolveCluster; no ClusterIP, no endpoints, no kube-proxy needed), and still sends the
 * TLS server name {@code podcapture-controller.kube-system.svc} and checks the certificate against
 * the APIService's caBundle, as in a cluster. The APIService's port, and the Service's, is {@link
 * #port()}: start the controller with {@link #controllerEnv()} so it listens there.
 *
 * <p>{@link #close()} deletes both: while an APIService is registered and nobody serves it,
 * discovery fails for its group, and the namespace controller then deletes no namespace.
 */
public final class FilesApi implements AutoCloseable {
  public static final String GROUP = "files.tcpdump.antrea.io";
  public static final String VERSION = "v1alpha1";
  public static final String API_SERVICE = VERSION + "." + GROUP;

  /** The path prefix of the group's version. */
  public static final String PREFIX = "/apis/" + GROUP + "/" + VERSION;

  public static final String SERVICE = "podcapture-controller";

  /** The controller's serving certificate, made by the controller. */
  public static final String CONTROLLER_TLS_SECRET = "podcapture-controller-tls";

  private final ControlPlane plane;
  private final int port;

  private FilesApi(ControlPlane plane, int port) {
    this.plane = plane;
    this.port = port;
  }

  /** Registers the files API at a free port of this machine. */
  public static FilesApi register(ControlPlane plane) {
    int port = FreePorts.pick();
    plane
        .kubectl(
            "apply", "-f", MockApiServer.projectDir().resolve("deploy/files-api.yaml").toString())
        .orThrow();
    plane
        .kubectl(
            "patch",
            "apiservice",
            API_SERVICE,
            "--type=merge",
            "-p",
            "{\"spec\":{\"service\":{\"port\":" + port + "}}}")
        .orThrow();
    plane
        .admin()
        .services()
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withNamespace(ControlPlane.AGENT_NAMESPACE)
                .withName(SERVICE)
                .endMetadata()
                .withNewSpec()
                .withType("ExternalName")
                .withExternalName("localhost")
                .addNewPort()
                .withName("https")
                .withPort(port)
                .withProtocol("TCP")
                .endPort()
                .endSpec()
                .build())
        .createOr(existing -> existing.update());
    return new FilesApi(plane, port);
  }

  /** The port the aggregator dials on localhost: the controller's FILES_API_PORT. */
  public int port() {
    return port;
  }

  /** The controller's settings that make it serve at {@link #port()}. */
  public Map<String, String> controllerEnv() {
    return Map.of("FILES_API_PORT", String.valueOf(port));
  }

  /**
   * Waits until the API server reports the APIService available (it reached the controller and
   * trusted its certificate) and its caBundle is set; returns the caBundle (base64 of PEM).
   */
  public String awaitAvailable(Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (true) {
      GenericKubernetesResource service = apiService().get();
      String caBundle = service == null ? null : service.get("spec", "caBundle");
      if (caBundle != null && !caBundle.isEmpty() && available(service)) {
        return caBundle;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "APIService "
                + API_SERVICE
                + " not available after "
                + atMost
                + ": "
                + (service == null ? "gone" : String.valueOf(service.get("status"))));
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static boolean available(GenericKubernetesResource service) {
    List<Map<String, Object>> conditions = service.get("status", "conditions");
    return conditions != null
        && conditions.stream()
            .anyMatch(c -> "Available".equals(c.get("type")) && "True".equals(c.get("status")));
  }

  private Resource<GenericKubernetesResource> apiService() {
    KubernetesClient admin = plane.admin();
    return admin
        .genericKubernetesResources("apiregistration.k8s.io/v1", "APIService")
        .withName(API_SERVICE);
  }

  /** Deletes the APIService and the Service, and waits until the APIService is gone. */
  @Override
  public void close() {
    apiService().delete();
    plane.admin().services().inNamespace(ControlPlane.AGENT_NAMESPACE).withName(SERVICE).delete();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (apiService().get() != null && System.nanoTime() < deadline) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
