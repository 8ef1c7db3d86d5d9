package io.podcapture.agentfiles;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.podcapture.pcap.PcapFollower;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's file server: HTTPS on {@code FILES_PORT}, for the podcapture controller only, serving
 * the files of this node's PodCaptures ({@link FilesRequest} lists the paths). It starts once
 * {@code tls.crt} and {@code tls.key} are in {@code FILES_TLS_DIR} (looked for every 10 s), so an
 * agent that comes up before the controller has made its Secret serves a little later, and an agent
 * without any controller captures as before.
 *
 * <p>Bounded, so that no reader can hold the agent's memory or threads: at most {@value
 * #MAX_IN_FLIGHT} requests at a time, of them at most {@value #MAX_FOLLOWS} live streams (429
 * beyond), each on a thread of a pool that keeps none while idle; a connection that sends no
 * request within 10 s closed; files streamed from disk through one {@value #BUFFER_BYTES}-byte
 * buffer per request, never read whole; a request ends at {@code FILES_MAX_REQUEST_SECONDS}, and a
 * watchdog closes one whose reader has not taken a byte for 60 s.
 *
 * <p>Every request answers, in this order: 429 when full; 401 without the controller's valid token
 * ({@link TokenCheck}); 403 for someone else's; 404 for anything that is not a file of a PodCapture
 * this agent holds, whatever the path tried ({@link ServedFiles}). Errors are JSON {@code
 * {"message": "..."}}.
 */
public final class FilesServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FilesServer.class);

  static final int MAX_IN_FLIGHT = 8;

  /**
   * Live streams at a time, of the {@value #MAX_IN_FLIGHT}: a stream whose reader has gone is
   * noticed only when its next packet cannot be written (the JDK's server offers no way to see a
   * closed connection otherwise), so on a quiet capture it keeps its slot until then, until the
   * capture stops or until FILES_MAX_REQUEST_SECONDS. The other slots stay for listings and
   * downloads.
   */
  static final int MAX_FOLLOWS = 4;

  /** Connections that may wait for a thread; more are closed at once. */
  static final int WAITING = 16;

  static final int BUFFER_BYTES = 64 * 1024;
  static final String PCAP_TYPE = "application/vnd.tcpdump.pcap";
  private static final String JSON_TYPE = "application/json";
  private static final DateTimeFormatter MODIFIED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

  /** Timings the tests shorten. */
  record Timings(Duration tlsCheck, Duration stall, Duration watchdogTick, Duration requestRead) {
    static final Timings DEFAULT =
        new Timings(
            Duration.ofSeconds(10),
            Duration.ofSeconds(60),
            Duration.ofSeconds(1),
            Duration.ofSeconds(10));
  }

  private final FilesConfig config;
  private final Path captureDir;
  private final Captures captures;
  private final TokenCheck tokens;
  private final Timings timings;
  private final ScheduledExecutorService watch;
  private final Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
  private final Semaphore follows = new Semaphore(MAX_FOLLOWS);
  private final Set<Transfer> transfers = ConcurrentHashMap.newKeySet();

  /** Threads reading a connection's request, and since when (System.nanoTime()). */
  private final Map<Thread, Long> reading = new ConcurrentHashMap<>();

  private final SwappableKeyManager keys = new SwappableKeyManager();
  private volatile HttpsServer server;
  private ThreadPoolExecutor pool;
  private volatile boolean closed;

  // TLS files as last seen (guarded by this)
  private byte[] loaded;
  private byte[] refused;
  private boolean toldWaiting;
  private boolean toldBindFailed;

  private FilesServer(
      FilesConfig config, Path captureDir, Captures captures, TokenCheck tokens, Timings timings) {
    this.config = config;
    this.captureDir = captureDir.toAbsolutePath().normalize();
    this.captures = captures;
    this.tokens = tokens;
    this.timings = timings;
    this.watch =
        config.enabled()
            ? Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "files-watch");
                  t.setDaemon(true);
                  return t;
                })
            : null;
  }

  /**
   * Starts the file server (now if its certificate and key are there, else once they are), or, with
   * {@code FILES_SERVER=off}, a server that does nothing.
   */
  public static FilesServer start(
      FilesConfig config, Path captureDir, Captures captures, TokenReviewer reviewer) {
    return start(config, captureDir, captures, reviewer, Timings.DEFAULT);
  }

  static FilesServer start(
      FilesConfig config,
      Path captureDir,
      Captures captures,
      TokenReviewer reviewer,
      Timings timings) {
    TokenCheck tokens = new TokenCheck(reviewer, config.controllerUser(), Clock.systemUTC());
    FilesServer files = new FilesServer(config, captureDir, captures, tokens, timings);
    if (!config.enabled()) {
      LOG.info("files server off (FILES_SERVER=off): capture files are not served");
      return files;
    }
    files.checkTls();
    // A task that threw would never run again: each one catches what it did not expect.
    var tlsTask =
        files.watch.scheduleWithFixedDelay(
            () -> files.guarded("certificate check", files::checkTls),
            timings.tlsCheck().toMillis(),
            timings.tlsCheck().toMillis(),
            TimeUnit.MILLISECONDS);
    var watchdogTask =
        files.watch.scheduleWithFixedDelay(
            () -> files.guarded("watchdog", files::watchdog),
            timings.watchdogTick().toMillis(),
            timings.watchdogTick().toMillis(),
            TimeUnit.MILLISECONDS);
    LOG.debug("files server tasks scheduled: {} {}", tlsTask, watchdogTask);
    return files;
  }

  private void guarded(String what, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.warn("files server {} failed, trying again on its next turn", what, e);
    }
  }

  /** The port served, or -1 while the server is not (yet) running. */
  public int port() {
    HttpsServer s = server;
    return s == null ? -1 : s.getAddress().getPort();
  }

  /** Requests being served now. */
  int inFlight() {
    return MAX_IN_FLIGHT - slots.availablePermits();
  }

  // --- certificate and key

  /**
   * Starts the server once the certificate and key are there and usable, and takes up a changed
   * pair (the Secret made anew) for new connections.
   */
  private synchronized void checkTls() {
    if (closed) {
      return;
    }
    Path dir = config.tlsDir();
    try {
      if (!TlsMaterial.present(dir)) {
        if (!toldWaiting) {
          LOG.info(
              "files server waiting for {} and {} in {} (looked for every {} s)",
              TlsMaterial.CERT_FILE,
              TlsMaterial.KEY_FILE,
              dir,
              timings.tlsCheck().toMillis() / 1000.0);
          toldWaiting = true;
        }
        return;
      }
      byte[] now = TlsMaterial.fingerprint(dir);
      if (!Arrays.equals(now, loaded) && !Arrays.equals(now, refused)) {
        TlsMaterial material;
        try {
          material = TlsMaterial.load(dir);
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
          refused = now;
          LOG.warn("files server cannot use the certificate and key in {}: {}", dir, e.toString());
          return;
        }
        keys.set(material.keyManager);
        boolean reloaded = loaded != null;
        loaded = now;
        if (reloaded && server != null) {
          LOG.info(
              "files server certificate replaced: {}, valid until {}",
              material.certificate.getSubjectX500Principal(),
              material.certificate.getNotAfter().toInstant());
        }
      }
      if (server == null && loaded != null) {
        listen();
      }
    } catch (IOException e) {
      // the files changed while they were read (the kubelet swaps the volume's link): next time
      LOG.debug("files server: cannot read {} yet: {}", dir, e.toString());
    }
  }

  private void listen() {
    ThreadPoolExecutor threads = pool();
    try {
      HttpsServer s = HttpsServer.create(new InetSocketAddress(config.port()), 50);
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(new KeyManager[] {keys}, null, null);
      s.setHttpsConfigurator(new HttpsConfigurator(tls));
      s.setExecutor(threads);
      s.createContext("/", this::handle);
      s.start();
      pool = threads;
      server = s;
      LOG.info("files server on port {}", port());
    } catch (IOException | GeneralSecurityException e) {
      threads.shutdownNow();
      if (!toldBindFailed) {
        LOG.error(
            "files server cannot listen on port {}: {}; trying again every {} s",
            config.port(),
            e.toString(),
            timings.tlsCheck().toSeconds());
        toldBindFailed = true;
      }
    }
  }

  /**
   * One thread per request in flight, plus one to turn the next away with 429; threads end after 30
   * s idle, so an idle agent keeps none. At most {@value #WAITING} connections wait for a thread;
   * the JDK's server closes any beyond (it closes a connection its executor refuses).
   *
   * <p>The JDK's server reads a request's TLS handshake, line and headers on the executor's thread,
   * before any handler runs, so a client that connects and then sends nothing would hold a thread
   * for as long as it likes: each thread is timed from the moment it takes a connection until the
   * handler starts ({@link #reading}), and the watchdog interrupts it after {@link
   * Timings#requestRead} (the interrupt closes the socket under the blocked read).
   */
  private ThreadPoolExecutor pool() {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor threads =
        new ThreadPoolExecutor(
            MAX_IN_FLIGHT + 1,
            MAX_IN_FLIGHT + 1,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(WAITING),
            r -> {
              Thread t = new Thread(r, "files-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            }) {
          @Override
          protected void beforeExecute(Thread t, Runnable r) {
            reading.put(t, System.nanoTime());
          }

          @Override
          protected void afterExecute(Runnable r, Throwable failure) {
            reading.remove(Thread.currentThread());
            // an interrupt meant for this connection must not reach the next one
            boolean interrupted = Thread.interrupted();
            LOG.trace("files connection done (interrupted: {})", interrupted);
          }
        };
    threads.allowCoreThreadTimeOut(true);
    return threads;
  }

  // --- requests

  private void handle(HttpExchange exchange) {
    reading.remove(Thread.currentThread());
    try {
      if (!slots.tryAcquire()) {
        error(exchange, 429, "too many requests: the agent serves " + MAX_IN_FLIGHT + " at a time");
        return;
      }
      try {
        serve(exchange);
      } finally {
        slots.release();
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("files request {} ended: {}", exchange.getRequestURI(), e.toString());
    } finally {
      exchange.close();
    }
  }

  private void serve(HttpExchange exchange) throws IOException {
    if (!"GET".equals(exchange.getRequestMethod())) {
      exchange.getResponseHeaders().set("Allow", "GET");
      error(exchange, 405, "only GET is served");
      return;
    }
    switch (tokens.check(exchange.getRequestHeaders().get("Authorization"))) {
      case UNAUTHENTICATED -> {
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        error(exchange, 401, "a valid bearer token of the podcapture controller is required");
        return;
      }
      case FORBIDDEN -> {
        error(exchange, 403, "only " + config.controllerUser() + " may read capture files");
        return;
      }
      case UNAVAILABLE -> {
        error(exchange, 503, "cannot check the token now: the API server did not answer");
        return;
      }
      case ALLOWED -> {
        // served below
      }
    }
    Optional<FilesRequest> parsed = FilesRequest.parse(exchange.getRequestURI().getRawPath());
    if (parsed.isEmpty()) {
      error(exchange, 404, "not a capture file: " + exchange.getRequestURI().getRawPath());
      return;
    }
    FilesRequest request = parsed.get();
    String key = request.namespace() + "/" + request.name();
    Optional<Captures.Capture> capture = captures.find(request.namespace(), request.name());
    if (capture.isEmpty()) {
      error(exchange, 404, "no PodCapture " + key + " on this node");
      return;
    }
    List<ServedFile> files = files(request, capture.get());
    Instant deadline = Instant.now().plus(config.maxRequest());
    if (request instanceof FilesRequest.Download d) {
      Optional<ServedFile> file = files.stream().filter(f -> f.name().equals(d.file())).findFirst();
      if (file.isEmpty()) {
        error(exchange, 404, "PodCapture " + key + " has no file " + d.file());
        return;
      }
      download(exchange, key, file.get(), deadline);
    } else if (request instanceof FilesRequest.Follow f) {
      follow(exchange, f, capture.get(), files, deadline);
    } else {
      respond(exchange, 200, JSON_TYPE, listing(request, capture.get(), files));
    }
  }

  private List<ServedFile> files(FilesRequest request, Captures.Capture capture) {
    return ServedFiles.of(captureDir, request.namespace(), request.name(), capture.claimed());
  }

  private void download(HttpExchange exchange, String key, ServedFile file, Instant deadline)
      throws IOException {
    SeekableByteChannel channel;
    try {
      channel =
          Files.newByteChannel(file.path(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      // gone since it was listed, or replaced by a symlink, which NOFOLLOW_LINKS refuses to open
      error(exchange, 404, "PodCapture " + key + " has no file " + file.name());
      return;
    }
    try (channel) {
      // The size when opened: a ring file tcpdump still writes is sent as far as it was then.
      long size = channel.size();
      exchange.getResponseHeaders().set("Content-Type", PCAP_TYPE);
      exchange.sendResponseHeaders(200, size == 0 ? -1 : size);
      long started = System.nanoTime();
      try (Transfer transfer = watched(exchange, deadline)) {
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
        long left = size;
        while (left > 0) {
          if (Instant.now().isAfter(deadline)) {
            throw new IOException("FILES_MAX_REQUEST_SECONDS reached");
          }
          buffer.clear();
          buffer.limit((int) Math.min(buffer.capacity(), left));
          int n = channel.read(buffer);
          if (n < 0) {
            // tcpdump reopened the file (its ring came round): what was promised is gone
            throw new IOException(file.name() + " shrank while it was sent");
          }
          transfer.out.write(buffer.array(), 0, n);
          left -= n;
        }
        transfer.out.flush();
      }
      LOG.info(
          "files: sent {} of {} ({} bytes) in {} ms",
          file.name(),
          key,
          size,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }
  }

  private void follow(
      HttpExchange exchange,
      FilesRequest.Follow request,
      Captures.Capture capture,
      List<ServedFile> now,
      Instant deadline)
      throws IOException {
    String key = request.namespace() + "/" + request.name();
    if (now.stream().allMatch(ServedFile::previous) && !capture.running()) {
      error(exchange, 404, "PodCapture " + key + " has no ring file to follow: it does not run");
      return;
    }
    Supplier<List<Path>> ring =
        () ->
            captures
                .find(request.namespace(), request.name())
                .map(c -> files(request, c))
                .orElse(List.of())
                .stream()
                .filter(f -> !f.previous())
                .map(ServedFile::path)
                .toList();
    BooleanSupplier running =
        () ->
            !closed
                && captures
                    .find(request.namespace(), request.name())
                    .map(Captures.Capture::running)
                    .orElse(false);
    if (!follows.tryAcquire()) {
      error(
          exchange,
          429,
          "too many live streams: the agent follows " + MAX_FOLLOWS + " captures at a time");
      return;
    }
    try {
      exchange.getResponseHeaders().set("Content-Type", PCAP_TYPE);
      exchange.sendResponseHeaders(200, 0);
      LOG.info("files: following {}", key);
      long packets;
      try (Transfer transfer = watched(exchange, deadline)) {
        packets = PcapFollower.follow(ring, running, deadline, transfer.out);
        transfer.out.flush();
      }
      LOG.info("files: follow of {} ended after {} packets", key, packets);
    } finally {
      follows.release();
    }
  }

  // --- the watchdog

  /**
   * A response body being written, watched for a reader that stopped and for its deadline.
   *
   * <p>It is ended by interrupting the thread that writes it, not by closing the exchange: the
   * JDK's HTTPS server closes a connection by first sending TLS's close_notify, under the same lock
   * the blocked write holds, so a close from another thread waits as long as the write (measured
   * with JDK 17: the watchdog itself hung). An interrupt closes the socket channel under the write
   * (it is an interruptible channel), which fails the write at once.
   */
  private final class Transfer implements AutoCloseable {
    final WatchedOutput out;
    final Instant deadline;
    private final String path;
    private final Thread writer = Thread.currentThread();
    private boolean ended;

    Transfer(HttpExchange exchange, Instant deadline) {
      this.out = new WatchedOutput(exchange.getResponseBody());
      this.deadline = deadline;
      this.path = exchange.getRequestURI().getRawPath();
    }

    synchronized void abort(String why) {
      if (!ended) {
        ended = true;
        LOG.info("files: ending {}: {}", path, why);
        writer.interrupt();
      }
    }

    @Override
    public void close() {
      synchronized (this) {
        ended = true;
      }
      transfers.remove(this);
    }
  }

  private Transfer watched(HttpExchange exchange, Instant deadline) {
    Transfer transfer = new Transfer(exchange, deadline);
    transfers.add(transfer);
    return transfer;
  }

  /**
   * Ends each transfer whose reader has not taken a byte for the stall time, or that outlived its
   * deadline (a grace of the stall time, for a transfer that ends on its own at the deadline).
   */
  private void watchdog() {
    long now = System.nanoTime();
    for (Map.Entry<Thread, Long> e : reading.entrySet()) {
      // remove(key, value): a thread that has reached its handler since is left alone
      if (now - e.getValue() > timings.requestRead().toNanos()
          && reading.remove(e.getKey(), e.getValue())) {
        LOG.debug(
            "files: closing a connection that sent no request in {} s",
            timings.requestRead().toSeconds());
        e.getKey().interrupt();
      }
    }
    Instant wall = Instant.now();
    for (Transfer t : transfers) {
      if (t.out.blockedNanos(now) > timings.stall().toNanos()) {
        t.abort("the reader took nothing for " + timings.stall().toSeconds() + " s");
      } else if (wall.isAfter(t.deadline.plus(timings.stall()))) {
        t.abort("FILES_MAX_REQUEST_SECONDS reached");
      }
    }
  }

  // --- answers

  private String listing(FilesRequest request, Captures.Capture capture, List<ServedFile> files) {
    StringBuilder json = new StringBuilder();
    json.append("{\"namespace\":")
        .append(quote(request.namespace()))
        .append(",\"name\":")
        .append(quote(request.name()))
        .append(",\"node\":")
        .append(quote(capture.node()))
        .append(",\"running\":")
        .append(capture.running())
        .append(",\"files\":[");
    for (int i = 0; i < files.size(); i++) {
      ServedFile f = files.get(i);
      json.append(i == 0 ? "" : ",")
          .append("{\"name\":")
          .append(quote(f.name()))
          .append(",\"sizeBytes\":")
          .append(f.sizeBytes())
          .append(",\"modified\":")
          .append(quote(MODIFIED.format(f.modified())))
          .append('}');
    }
    return json.append("]}").toString();
  }

  private static void error(HttpExchange exchange, int code, String message) throws IOException {
    LOG.debug(
        "files: {} {} -> {} {}",
        exchange.getRequestMethod(),
        exchange.getRequestURI().getRawPath(),
        code,
        message);
    respond(exchange, code, JSON_TYPE, "{\"message\":" + quote(message) + "}");
  }

  private static void respond(HttpExchange exchange, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  /** Stops serving: open requests end, follows stop, threads go. */
  @Override
  public void close() {
    closed = true;
    if (watch != null) {
      watch.shutdownNow();
    }
    synchronized (this) {
      HttpsServer s = server;
      if (s != null) {
        // Interrupt the request threads first: the server's stop closes each connection with a
        // close_notify, which would wait behind a write blocked on a reader that stopped reading.
        pool.shutdownNow();
        s.stop(0);
        server = null;
      }
    }
  }
}
