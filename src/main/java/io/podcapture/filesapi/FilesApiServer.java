package io.podcapture.filesapi;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The aggregated files API's HTTPS server, on every controller replica. Each request, in order: the
 * front proxy's client certificate ({@link FrontProxyAuthenticator}; 401), the route (404, 400),
 * discovery answered at once, the user from the headers (401), a SubjectAccessReview ({@link
 * AccessReviewer}; 403), a free slot among {@code maxConcurrent} (429), then the bytes ({@link
 * FileRoutes}). Every error is a metav1 Status. The TLS handshake asks for a client certificate but
 * accepts any, or none: it is checked per request, so that a request without one gets a clean 401
 * rather than a failed handshake.
 */
public final class FilesApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FilesApiServer.class);

  /** A write that makes no progress for this long ends its request. */
  static final Duration MAX_STALL = Duration.ofSeconds(60);

  /**
   * @param port the port (0: any free one)
   * @param maxConcurrent authorized requests served at once; beyond, 429
   * @param maxRequest the longest a request may last
   * @param maxStall the longest a write may stay blocked
   */
  public record Settings(int port, int maxConcurrent, Duration maxRequest, Duration maxStall) {}

  private final HttpsServer server;
  private final FrontProxyAuthenticator authenticator;
  private final AccessReviewer reviewer;
  private final FileRoutes routes;
  private final Semaphore slots;
  private final int maxConcurrent;
  private final RequestWatchdog watchdog;
  private final ExecutorService handlers;
  private final ExecutorService fetches;
  private final ScheduledExecutorService ticks;
  private final ScheduledFuture<?> tick;

  private FilesApiServer(
      Settings settings,
      Supplier<TlsMaterial> serving,
      FrontProxyAuthenticator authenticator,
      AccessReviewer reviewer,
      AgentFileClient agents,
      io.fabric8.kubernetes.client.KubernetesClient client)
      throws IOException {
    this.authenticator = authenticator;
    this.reviewer = reviewer;
    this.maxConcurrent = settings.maxConcurrent();
    this.slots = new Semaphore(settings.maxConcurrent());
    this.watchdog =
        new RequestWatchdog(settings.maxRequest(), settings.maxStall(), System::nanoTime);
    // Threads beyond the slots answer 429 and 401 at once instead of queueing behind downloads.
    int threads = settings.maxConcurrent() + 8;
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(256),
            daemon("files-api-"));
    pool.allowCoreThreadTimeOut(true);
    this.handlers = pool;
    this.fetches = Executors.newFixedThreadPool(8, daemon("files-api-fetch-"));
    this.routes = new FileRoutes(client, agents, fetches);
    this.ticks = Executors.newSingleThreadScheduledExecutor(daemon("files-api-watchdog-"));
    SSLContext tls;
    try {
      tls = SSLContext.getInstance("TLS");
      tls.init(
          new KeyManager[] {new CurrentKeyManager(serving)},
          new TrustManager[] {new AnyClientCertificate(authenticator)},
          null);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS: " + e.getMessage(), e);
    }
    server = HttpsServer.create(new InetSocketAddress(settings.port()), 128);
    server.setHttpsConfigurator(
        new HttpsConfigurator(tls) {
          @Override
          public void configure(HttpsParameters params) {
            SSLParameters parameters = getSSLContext().getDefaultSSLParameters();
            parameters.setWantClientAuth(true);
            params.setSSLParameters(parameters);
          }
        });
    server.setExecutor(handlers);
    server.createContext("/", this::handle);
    server.start();
    tick = ticks.scheduleWithFixedDelay(watchdog::check, 1, 1, TimeUnit.SECONDS);
  }

  /** Starts serving at once with the given parts (the controller uses {@link FilesApi}). */
  static FilesApiServer start(
      Settings settings,
      Supplier<TlsMaterial> serving,
      FrontProxyAuthenticator authenticator,
      AccessReviewer reviewer,
      AgentFileClient agents,
      io.fabric8.kubernetes.client.KubernetesClient client)
      throws IOException {
    FilesApiServer started =
        new FilesApiServer(settings, serving, authenticator, reviewer, agents, client);
    LOG.info("files API on port {}", started.port());
    return started;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String what = exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath();
    try (RequestWatchdog.Guard guard = watchdog.start(what)) {
      Reply reply = new Reply(exchange, guard);
      try {
        serve(exchange, reply);
      } catch (StatusException e) {
        LOG.debug("files API: {} -> {} {}", what, e.code(), e.getMessage());
        if (reply.started()) {
          throw new IOException("cut short: " + e.getMessage(), e);
        }
        reply.status(e);
      } catch (IOException | RuntimeException e) {
        if (reply.started() || guard.aborted()) {
          // The reader went, the watchdog ended it, or an agent broke off: the answer cannot be
          // completed, so the connection is dropped (a closed chunked stream would look whole).
          LOG.debug("files API: {} cut short: {}", what, e.toString());
          throw e instanceof IOException io ? io : new IOException(e);
        }
        LOG.warn("files API: {} failed: {}", what, e.toString(), e);
        reply.status(
            new StatusException(500, "InternalError", "the files API failed: " + e.getMessage()));
      }
    }
    exchange.close();
  }

  private void serve(HttpExchange exchange, Reply reply) throws StatusException, IOException {
    authenticator.verifyProxy(peer(exchange));
    FilesRequest request =
        FilesRequest.parse(
            exchange.getRequestURI().getRawPath(), exchange.getRequestURI().getRawQuery());
    if (!"GET".equals(exchange.getRequestMethod())) {
      throw new StatusException(
          405, "MethodNotAllowed", exchange.getRequestMethod() + " is not supported: only get");
    }
    if (request.kind() == FilesRequest.Kind.DISCOVERY) {
      reply.json(200, Discovery.json());
      return;
    }
    RequestUser user =
        FrontProxyAuthenticator.user(authenticator.config(), exchange.getRequestHeaders());
    reviewer.check(user, request);
    if (!slots.tryAcquire()) {
      throw StatusException.tooManyRequests(
          "the files API is serving "
              + maxConcurrent
              + " requests already (FILES_API_MAX_CONCURRENT): try again later");
    }
    try {
      LOG.debug(
          "files API: {} {} {}/{} for {}",
          request.resourcePath(),
          request.file() == null ? "" : request.file(),
          request.namespace(),
          request.name(),
          user.name());
      routes.serve(request, reply);
    } finally {
      slots.release();
    }
  }

  private static X509Certificate[] peer(HttpExchange exchange) {
    if (!(exchange instanceof HttpsExchange https)) {
      return null;
    }
    try {
      Certificate[] chain = https.getSSLSession().getPeerCertificates();
      List<X509Certificate> x509 = new ArrayList<>();
      for (Certificate c : chain) {
        if (c instanceof X509Certificate x) {
          x509.add(x);
        }
      }
      return x509.toArray(new X509Certificate[0]);
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /** Requests running now (for tests). */
  int running() {
    return watchdog.running();
  }

  @Override
  public void close() {
    server.stop(0);
    tick.cancel(false);
    ticks.shutdownNow();
    handlers.shutdownNow();
    fetches.shutdownNow();
  }

  private static java.util.concurrent.ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Serves with whatever certificate the Secret holds now. */
  private static final class CurrentKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "files-api";
    private final Supplier<TlsMaterial> serving;

    CurrentKeyManager(Supplier<TlsMaterial> serving) {
      this.serving = serving;
    }

    private String alias(String keyType) {
      TlsMaterial current = serving.get();
      return current != null && current.key().getAlgorithm().equalsIgnoreCase(keyType)
          ? ALIAS
          : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return alias(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return alias(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      String alias = alias(keyType);
      return alias == null ? null : new String[] {alias};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      TlsMaterial current = serving.get();
      return current == null ? null : current.chain().toArray(new X509Certificate[0]);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      TlsMaterial current = serving.get();
      return current == null ? null : current.key();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }

  /**
   * Accepts any client certificate at the handshake: {@link FrontProxyAuthenticator} checks it per
   * request. Names the front-proxy CA in the certificate request, so a client picks the right one.
   */
  private static final class AnyClientCertificate extends X509ExtendedTrustManager {
    private final FrontProxyAuthenticator authenticator;

    AnyClientCertificate(FrontProxyAuthenticator authenticator) {
      this.authenticator = authenticator;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("server side only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("server side only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("server side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return authenticator.config().clientCa().toArray(new X509Certificate[0]);
    }
  }
}
