package io.podcapture.bench;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The tests' {@link MockApiServer} (CRUD, the PodCapture CRD, Pods selectable by {@code
 * spec.nodeName}), with every request timed and told apart by its User-Agent: the benchmark's own
 * requests from the agent's.
 */
final class BenchApiServer implements ApiServer {
  static final String DRIVER_USER_AGENT = "podcapture-bench-driver";

  /** One request: when it was answered, who sent it, and the answer's status code. */
  record Call(long nanos, String method, String path, int code, boolean fromDriver, String body) {

    /**
     * Whether the request is about the object named {@code object} (a Pod or a PodCapture): the
     * object itself, or an Event about it (Events are named {@code <object>.<suffix>}, and a new
     * one names its object in the body).
     */
    boolean concerns(String object) {
      String name = name();
      if (name != null && (name.equals(object) || name.startsWith(object + "."))) {
        return true;
      }
      return name == null && body != null && body.contains("\"name\":\"" + object + "\"");
    }

    /**
     * The path without its query, e.g. {@code
     * /apis/tcpdump.antrea.io/v1alpha1/namespaces/b/podcaptures/p/status}.
     */
    String objectPath() {
      int q = path.indexOf('?');
      return q < 0 ? path : path.substring(0, q);
    }

    boolean isWatch() {
      return path.contains("watch=true") || path.contains("watch=1");
    }

    boolean isWrite() {
      return !"GET".equals(method);
    }

    /** The verb as Kubernetes names it: list, watch, get, create, update, patch, delete. */
    String verb() {
      String[] parts = objectPath().split("/");
      boolean collection = isCollection(parts);
      return switch (method) {
        case "GET" -> isWatch() ? "watch" : collection ? "list" : "get";
        case "POST" -> "create";
        case "PUT" -> "update";
        case "PATCH" -> "patch";
        case "DELETE" -> collection ? "deletecollection" : "delete";
        default -> method.toLowerCase(java.util.Locale.ROOT);
      };
    }

    /**
     * The resource, with its subresource: {@code pods}, {@code podcaptures}, {@code
     * podcaptures/status}, {@code events}.
     */
    String resource() {
      String[] parts = objectPath().split("/");
      // /api/v1/[namespaces/ns/]res[/name[/sub]] or
      // /apis/group/version/[namespaces/ns/]res[/name[/sub]]
      int i = parts.length > 1 && "api".equals(parts[1]) ? 3 : 4;
      if (parts.length > i + 1 && "namespaces".equals(parts[i])) {
        i += 2;
      }
      if (parts.length <= i) {
        return objectPath();
      }
      String res = parts[i];
      return parts.length > i + 2 ? res + "/" + parts[i + 2] : res;
    }

    /** The object's name for object requests, else null. */
    String name() {
      String[] parts = objectPath().split("/");
      int i = parts.length > 1 && "api".equals(parts[1]) ? 3 : 4;
      if (parts.length > i + 1 && "namespaces".equals(parts[i])) {
        i += 2;
      }
      return parts.length > i + 1 ? parts[i + 1] : null;
    }

    private static boolean isCollection(String[] parts) {
      int i = parts.length > 1 && "api".equals(parts[1]) ? 3 : 4;
      if (parts.length > i + 1 && "namespaces".equals(parts[i])) {
        i += 2;
      }
      return parts.length <= i + 1;
    }
  }

  private final Recorder dispatcher = new Recorder();
  private final MockApiServer api;

  /** Over plain HTTP, as the latency phases have always measured. */
  BenchApiServer() {
    this(false);
  }

  /** Over HTTPS when {@code https}, as a real API server serves (see {@link MockApiServer}). */
  BenchApiServer(boolean https) {
    api = new MockApiServer(dispatcher, https);
  }

  /**
   * A client for the benchmark itself (JDK HTTP client, marked so its requests are not counted as
   * the agent's).
   */
  @Override
  public KubernetesClient client() {
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(api.url())
            .withNamespace("default")
            .withUserAgent(DRIVER_USER_AGENT)
            .withTrustCerts(true)
            .withRequestTimeout(10_000)
            .withConnectionTimeout(2_000)
            .build();
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(new JdkHttpClientFactory())
        .build();
  }

  /** A kubeconfig file pointing at this server, for an agent in another process. */
  @Override
  public Path writeKubeconfig(Path file) throws java.io.IOException {
    return api.writeKubeconfig(file);
  }

  /** Every request answered so far, oldest first. */
  List<Call> calls() {
    return new ArrayList<>(dispatcher.calls);
  }

  @Override
  public Pod createPod(KubernetesClient user, Pod pod) {
    return user.pods().inNamespace(Workload.NAMESPACE).resource(pod).create();
  }

  @Override
  public boolean recordsCalls() {
    return true;
  }

  @Override
  public String describe() {
    return "fabric8's mock API server";
  }

  /** The agent's requests answered in [from, to) (System.nanoTime). */
  @Override
  public List<Call> agentCalls(long from, long to) {
    List<Call> out = new ArrayList<>();
    for (Call c : dispatcher.calls) {
      if (!c.fromDriver() && c.nanos() >= from && c.nanos() < to) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * Drops recorded requests (and the bodies the base dispatcher keeps), to bound memory in long
   * phases.
   */
  @Override
  public void forget() {
    dispatcher.calls.clear();
    dispatcher.clearRequests();
  }

  @Override
  public void close() {
    api.close();
  }

  private static final class Recorder extends NodeAwareCrudDispatcher {
    final Queue<Call> calls = new ConcurrentLinkedQueue<>();

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String agent = request.getHeader("User-Agent");
      // copied, not read: the CRUD handlers still need the body
      String body =
          "GET".equals(request.getMethod()) || request.getBody() == null
              ? null
              : new String(request.getBody().getBytes(), java.nio.charset.StandardCharsets.UTF_8);
      MockResponse response = super.dispatch(request);
      calls.add(
          new Call(
              System.nanoTime(),
              request.getMethod(),
              request.getPath(),
              response.code(),
              DRIVER_USER_AGENT.equals(agent),
              body));
      return response;
    }
  }
}
