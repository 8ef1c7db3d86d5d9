package io.podcapture.sets;

import io.podcapture.capture.CaptureKey;
import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.PacketCapturer;
import io.podcapture.capture.RingFile;
import io.podcapture.testing.SnapshotBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A node's capture layer without tcpdump: a capture is one file in the node's directory, written
 * when it starts and deleted when it is removed, and a capture with a duration completes when it
 * ends (files kept), as the real one does. What a set test needs to see on each node.
 */
final class FileCapturer implements PacketCapturer {
  private final Path dir;
  private final Map<CaptureKey, CaptureSnapshot> held = new ConcurrentHashMap<>();
  private final List<Consumer<CaptureKey>> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService timers =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "file-capturer-timer");
            t.setDaemon(true);
            return t;
          });

  FileCapturer(Path dir) {
    this.dir = dir;
  }

  /** The capture's one file on this node. */
  Path file(CaptureKey key) {
    return dir.resolve(key.namespace()).resolve("capture-" + key.name() + ".pcap0");
  }

  /** Captures whose file is on this node's disk now. */
  long filesOnDisk() {
    try (var files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Captures whose tcpdump would run now. */
  Set<CaptureKey> running() {
    Set<CaptureKey> running = ConcurrentHashMap.newKeySet();
    held.forEach(
        (k, s) -> {
          if (s.running()) {
            running.add(k);
          }
        });
    return running;
  }

  @Override
  public synchronized CaptureSnapshot ensure(CaptureRequest request) {
    CaptureSnapshot current = held.get(request.key());
    if (current != null
        && (current.running() || current.completed())
        && current.request().equals(request)) {
      return snapshot(request.key()).orElseThrow();
    }
    Path file = file(request.key());
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, "fake pcap");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    held.put(request.key(), SnapshotBuilder.of(request).build());
    if (request.duration() != null) {
      var unused =
          timers.schedule(
              () -> complete(request), request.duration().toMillis(), TimeUnit.MILLISECONDS);
    }
    return snapshot(request.key()).orElseThrow();
  }

  private void complete(CaptureRequest request) {
    synchronized (this) {
      CaptureSnapshot s = held.get(request.key());
      if (s == null || !s.request().equals(request) || !s.running()) {
        return;
      }
      held.put(request.key(), SnapshotBuilder.from(s).completed().build());
    }
    listeners.forEach(l -> l.accept(request.key()));
  }

  @Override
  public synchronized void remove(CaptureKey key) {
    held.remove(key);
    try {
      Files.deleteIfExists(file(key));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Optional<CaptureSnapshot> snapshot(CaptureKey key) {
    CaptureSnapshot s = held.get(key);
    if (s == null) {
      return Optional.empty();
    }
    Path file = file(key);
    long size;
    try {
      size = Files.exists(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      size = 0;
    }
    RingFile ring = new RingFile(file.getFileName().toString(), file, size, false);
    return Optional.of(SnapshotBuilder.from(s).files(List.of(ring)).build());
  }

  @Override
  public Set<CaptureKey> captures() {
    return Set.copyOf(held.keySet());
  }

  @Override
  public void removeLeftovers(Set<CaptureKey> keep) {}

  @Override
  public void onExit(Consumer<CaptureKey> listener) {
    listeners.add(listener);
  }

  @Override
  public void close() {
    timers.shutdownNow();
  }
}
