package io.podcapture.filesapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.podcapture.api.v1alpha1.PodCapture;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Calls the agent on a capture's node: finds it from the capture's {@code status.agentPod}, speaks
 * TLS to it trusting exactly the certificate of Secret {@value FilesApiNames#AGENT_TLS_SECRET}, and
 * shows it a token of the controller's own ServiceAccount (TokenRequest, audience {@value
 * FilesApiNames#AGENT_AUDIENCE}). Bodies come back as streams, never read whole.
 */
public final class AgentFileClient implements AutoCloseable {
  static final long TOKEN_SECONDS = 600;
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration HEADERS_TIMEOUT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final String namespace;
  private final String serviceAccount;
  private final Clock clock;
  private final HttpClient http;
  private String token;
  private Instant renewAt = Instant.MIN;

  /**
   * @param namespace the controller's namespace, where its ServiceAccount is
   * @param serviceAccount the controller's ServiceAccount
   * @param agentCertificate the agents' certificate, read at each handshake (it may be replaced)
   */
  public AgentFileClient(
      KubernetesClient client,
      String namespace,
      String serviceAccount,
      Supplier<X509Certificate> agentCertificate,
      Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.serviceAccount = serviceAccount;
    this.clock = clock;
    try {
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(null, new TrustManager[] {new PinnedTrustManager(agentCertificate)}, null);
      this.http =
          HttpClient.newBuilder()
              .sslContext(tls)
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(CONNECT_TIMEOUT)
              .build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has TLS", e);
    }
  }

  /** Where a capture's agent listens. */
  public record AgentAddress(String pod, String node, String host, int port) {
    URI uri(String path) {
      String h = host.contains(":") ? "[" + host + "]" : host;
      return URI.create("https://" + h + ":" + port + path);
    }

    String describe() {
      return "agent " + pod + " on node " + node + " (" + host + ":" + port + ")";
    }
  }

  /** The agent holding {@code capture}'s files; 404 if it has none yet, 503 if its Pod is gone. */
  public AgentAddress locate(PodCapture capture) throws StatusException {
    String captureName =
        capture.getMetadata().getNamespace() + "/" + capture.getMetadata().getName();
    String agentPod = capture.getStatus() == null ? null : capture.getStatus().getAgentPod();
    String node = capture.getStatus() == null ? null : capture.getStatus().getNode();
    if (agentPod == null || !agentPod.contains("/")) {
      throw StatusException.notFound(
          "PodCapture "
              + captureName
              + " has no files yet: no agent has taken it (status.agentPod is empty)");
    }
    String[] parts = agentPod.split("/", 2);
    Pod pod;
    try {
      pod = client.pods().inNamespace(parts[0]).withName(parts[1]).get();
    } catch (KubernetesClientException e) {
      throw StatusException.unavailable(
          "cannot read agent Pod "
              + agentPod
              + " of PodCapture "
              + captureName
              + ": "
              + e.getMessage(),
          e);
    }
    if (pod == null || pod.getStatus() == null) {
      throw StatusException.unavailable(
          "the agent of PodCapture "
              + captureName
              + " on node "
              + node
              + " cannot be reached: its Pod "
              + agentPod
              + " does not exist");
    }
    String host = pod.getStatus().getPodIP();
    if (host == null || host.isBlank()) {
      host = pod.getStatus().getHostIP();
    }
    if (host == null || host.isBlank()) {
      throw StatusException.unavailable(
          "the agent "
              + agentPod
              + " on node "
              + node
              + " cannot be reached: its Pod has no IP yet");
    }
    return new AgentAddress(
        agentPod, node != null ? node : pod.getSpec().getNodeName(), host, port(pod));
  }

  static int port(Pod pod) {
    if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
      for (Container c : pod.getSpec().getContainers()) {
        for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
          if (FilesApiNames.PORT_NAME.equals(p.getName()) && p.getContainerPort() != null) {
            return p.getContainerPort();
          }
        }
      }
    }
    return FilesApiNames.DEFAULT_AGENT_PORT;
  }

  /** The capture's files as the agent lists them. */
  public AgentListing list(AgentAddress agent, String ns, String name) throws StatusException {
    try (InputStream body = get(agent, capturePath(ns, name)).stream()) {
      return JSON.readValue(body, AgentListing.class);
    } catch (IOException e) {
      throw StatusException.unavailable(
          "the " + agent.describe() + " sent a listing that cannot be read: " + e.getMessage(), e);
    }
  }

  /** A body from the agent: the stream and its length (-1 if the agent did not say). */
  public record Body(InputStream stream, long length) {}

  /** One file's bytes, streamed. */
  public Body file(AgentAddress agent, String ns, String name, String file) throws StatusException {
    return get(
        agent, capturePath(ns, name) + "/files/" + URLEncoder.encode(file, StandardCharsets.UTF_8));
  }

  /** The live pcap of a running capture: header at once, then packets as they come. */
  public Body follow(AgentAddress agent, String ns, String name) throws StatusException {
    return get(agent, capturePath(ns, name) + "/follow");
  }

  private static String capturePath(String ns, String name) {
    return "/v1/captures/" + ns + "/" + name;
  }

  private Body get(AgentAddress agent, String path) throws StatusException {
    HttpRequest request =
        HttpRequest.newBuilder(agent.uri(path))
            .timeout(HEADERS_TIMEOUT)
            .header("Authorization", "Bearer " + token())
            .GET()
            .build();
    HttpResponse<InputStream> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw StatusException.unavailable("the " + agent.describe() + " cannot be reached: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw StatusException.unavailable("interrupted while calling the " + agent.describe());
    }
    int code = response.statusCode();
    if (code == 200) {
      return new Body(
          response.body(), response.headers().firstValueAsLong("Content-Length").orElse(-1));
    }
    String message = errorMessage(response.body());
    switch (code) {
      case 404 ->
          throw StatusException.notFound(
              message.isEmpty() ? "not found on the " + agent.describe() : message);
      case 401, 403 ->
          throw StatusException.unavailable(
              "the "
                  + agent.describe()
                  + " refused the controller's own credentials ("
                  + code
                  + (message.isEmpty() ? "" : ": " + message)
                  + "): check the agent's CONTROLLER_NAMESPACE and CONTROLLER_SERVICE_ACCOUNT and"
                  + " the controller's SERVICE_ACCOUNT");
      case 429 ->
          throw StatusException.tooManyRequests(
              "the " + agent.describe() + " is serving as many requests as it may: try again");
      default ->
          throw StatusException.unavailable(
              "the "
                  + agent.describe()
                  + " answered "
                  + code
                  + (message.isEmpty() ? "" : ": " + message));
    }
  }

  /** The {@code message} of an agent's JSON error, read from at most 4 KiB. */
  private static String errorMessage(InputStream body) {
    try (body) {
      byte[] bytes = body.readNBytes(4096);
      JsonNode node = JSON.readTree(bytes);
      return node == null ? "" : node.path("message").asText("");
    } catch (IOException e) {
      return "";
    }
  }

  /** A token of the controller's ServiceAccount for the agents, renewed after half its life. */
  synchronized String token() throws StatusException {
    Instant now = clock.instant();
    if (token != null && now.isBefore(renewAt)) {
      return token;
    }
    TokenRequest request =
        new TokenRequestBuilder()
            .withNewSpec()
            .withAudiences(FilesApiNames.AGENT_AUDIENCE)
            .withExpirationSeconds(TOKEN_SECONDS)
            .endSpec()
            .build();
    try {
      TokenRequest answer =
          client
              .serviceAccounts()
              .inNamespace(namespace)
              .withName(serviceAccount)
              .tokenRequest(request);
      if (answer == null || answer.getStatus() == null || answer.getStatus().getToken() == null) {
        throw StatusException.unavailable(
            "TokenRequest for ServiceAccount "
                + namespace
                + "/"
                + serviceAccount
                + " gave no token");
      }
      long seconds =
          answer.getSpec() != null && answer.getSpec().getExpirationSeconds() != null
              ? answer.getSpec().getExpirationSeconds()
              : TOKEN_SECONDS;
      token = answer.getStatus().getToken();
      renewAt = now.plusSeconds(Math.max(1, seconds / 2));
      return token;
    } catch (KubernetesClientException e) {
      throw StatusException.unavailable(
          "cannot get a token for the agents: TokenRequest for ServiceAccount "
              + namespace
              + "/"
              + serviceAccount
              + " failed ("
              + e.getMessage()
              + "): the controller needs create on serviceaccounts/token for it",
          e);
    }
  }

  @Override
  public void close() {
    // The JDK 17 HttpClient has no close: its threads end once it is unreachable.
  }

  /**
   * Trusts exactly the agents' certificate (byte equality). An X509ExtendedTrustManager does its
   * own endpoint identification, and this one does none: the agents share one certificate whatever
   * their addresses.
   */
  static final class PinnedTrustManager extends X509ExtendedTrustManager {
    private final Supplier<X509Certificate> pinned;

    PinnedTrustManager(Supplier<X509Certificate> pinned) {
      this.pinned = pinned;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      X509Certificate expected = pinned.get();
      if (expected == null) {
        throw new CertificateException(
            "the agents' certificate (Secret "
                + FilesApiNames.AGENT_TLS_SECRET
                + ") is not read yet");
      }
      if (chain == null
          || chain.length == 0
          || !Arrays.equals(encoded(chain[0]), encoded(expected))) {
        throw new CertificateException(
            "the agent's certificate is not the one in Secret " + FilesApiNames.AGENT_TLS_SECRET);
      }
    }

    private static byte[] encoded(X509Certificate c) throws CertificateEncodingException {
      return c.getEncoded();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
