package io.podcapture.controller;

import io.podcapture.capture.CaptureException;
import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.capture.RingFile;
import io.podcapture.testing.SnapshotBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A capturer that runs nothing: it keeps the captures the controller asked for and lets tests play
 * exits.
 */
final class FakePacketCapturer implements PacketCapturer {
  private final Map<CaptureKey, CaptureSnapshot> held = new ConcurrentHashMap<>();
  private final List<Consumer<CaptureKey>> listeners = new CopyOnWriteArrayList<>();
  final List<CaptureRequest> starts = new CopyOnWriteArrayList<>();
  final List<CaptureKey> removals = new CopyOnWriteArrayList<>();
  final List<CaptureKey> stops = new CopyOnWriteArrayList<>();
  final List<Set<CaptureKey>> leftoverCalls = new CopyOnWriteArrayList<>();

  /** When set, ensure() throws this instead of starting. */
  volatile CaptureException failStarts;

  /** Size reported for each file. */
  volatile long fileSize = 1000;

  volatile boolean closed;

  @Override
  public synchronized CaptureSnapshot ensure(CaptureRequest request) throws CaptureException {
    CaptureSnapshot current = held.get(request.key());
    if (current != null
        && (current.running() || current.completed())
        && current.request().equals(request)) {
      return snapshot(request.key()).orElseThrow();
    }
    if (failStarts != null) {
      throw failStarts;
    }
    int restarts =
        current == null
            ? 0
            : current.restartCount()
                + (!current.running() && current.request().equals(request) ? 1 : 0);
    starts.add(request);
    held.put(
        request.key(),
        SnapshotBuilder.of(request).filter(filter(request)).restarts(restarts).build());
    return snapshot(request.key()).orElseThrow();
  }

  static String filter(CaptureRequest request) {
    List<String> parts = new ArrayList<>();
    for (String ip : request.ips()) {
      parts.add("host " + ip);
    }
    String pod = String.join(" or ", parts);
    return request.filter() == null ? pod : "(" + pod + ") and (" + request.filter() + ")";
  }

  @Override
  public synchronized void remove(CaptureKey key) {
    if (held.remove(key) != null) {
      removals.add(key);
    }
  }

  /** Stops the capture's tcpdump and keeps its files (as the real one does: exit 143, SIGTERM). */
  @Override
  public synchronized void stopKeepingFiles(CaptureKey key) {
    CaptureSnapshot s = held.get(key);
    if (s != null && s.running()) {
      held.put(key, SnapshotBuilder.from(s).exited(143, "").build());
      stops.add(key);
    }
  }

  @Override
  public Optional<CaptureSnapshot> snapshot(CaptureKey key) {
    CaptureSnapshot s = held.get(key);
    if (s == null) {
      return Optional.empty();
    }
    Path dir = Path.of("/capture", key.namespace());
    String name = "capture-" + key.name() + ".pcap0";
    List<RingFile> files = List.of(new RingFile(name, dir.resolve(name), fileSize, false));
    return Optional.of(SnapshotBuilder.from(s).files(files).storageProblem(null).build());
  }

  @Override
  public Set<CaptureKey> captures() {
    return Set.copyOf(held.keySet());
  }

  @Override
  public void removeLeftovers(Set<CaptureKey> keep) {
    leftoverCalls.add(Set.copyOf(keep));
  }

  @Override
  public void onExit(Consumer<CaptureKey> listener) {
    listeners.add(listener);
  }

  /** Plays a tcpdump that ends on its own. */
  void exit(CaptureKey key, int code, String output) {
    synchronized (this) {
      CaptureSnapshot s = held.get(key);
      held.put(key, SnapshotBuilder.from(s).files(List.of()).exited(code, output).build());
    }
    listeners.forEach(l -> l.accept(key));
  }

  /**
   * Plays a tcpdump that ended as asked (its packet count or duration reached): files kept, not
   * restarted.
   */
  void complete(CaptureKey key) {
    synchronized (this) {
      CaptureSnapshot s = held.get(key);
      held.put(key, SnapshotBuilder.from(s).files(List.of()).completed().build());
    }
    listeners.forEach(l -> l.accept(key));
  }

  boolean running(CaptureKey key) {
    CaptureSnapshot s = held.get(key);
    return s != null && s.running();
  }

  @Override
  public void close() {
    closed = true;
  }
}
