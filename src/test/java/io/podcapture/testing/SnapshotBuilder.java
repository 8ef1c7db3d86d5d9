package io.podcapture.testing;

import io.podcapture.capture.CaptureRequest;
import io.podcapture.capture.CaptureSnapshot;
import io.podcapture.capture.RingFile;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Capture-layer snapshots for tests, running unless told otherwise: {@code
 * SnapshotBuilder.of(request).exited(1, "tcpdump: ...").restarts(2).build()}.
 */
public final class SnapshotBuilder {
  private final CaptureRequest request;
  private boolean running = true;
  private String filter;
  private Instant startTime = Instant.now();
  private List<RingFile> files = List.of();
  private Integer exitCode;
  private String lastOutput;
  private int restartCount;
  private String storageProblem;
  private boolean completed;

  private SnapshotBuilder(CaptureRequest request) {
    this.request = request;
    List<String> hosts = new ArrayList<>();
    for (String ip : request.ips()) {
      hosts.add("host " + ip);
    }
    this.filter = String.join(" or ", hosts);
  }

  /** A running capture of {@code request}, filter {@code host <ip>} for each IP, started now. */
  public static SnapshotBuilder of(CaptureRequest request) {
    return new SnapshotBuilder(request);
  }

  /** The same snapshot, to change. */
  public static SnapshotBuilder from(CaptureSnapshot s) {
    SnapshotBuilder b = new SnapshotBuilder(s.request());
    b.running = s.running();
    b.filter = s.filter();
    b.startTime = s.startTime();
    b.files = s.files();
    b.exitCode = s.exitCode();
    b.lastOutput = s.lastOutput();
    b.restartCount = s.restartCount();
    b.storageProblem = s.storageProblem();
    b.completed = s.completed();
    return b;
  }

  /** tcpdump ended on its own with this code and output (a crash). */
  public SnapshotBuilder exited(int code, String output) {
    running = false;
    exitCode = code;
    lastOutput = output;
    return this;
  }

  /** tcpdump ended as asked (packet count or duration): exit 0, files kept. */
  public SnapshotBuilder completed() {
    running = false;
    exitCode = 0;
    completed = true;
    return this;
  }

  public SnapshotBuilder filter(String filter) {
    this.filter = filter;
    return this;
  }

  public SnapshotBuilder startedAt(Instant startTime) {
    this.startTime = startTime;
    return this;
  }

  public SnapshotBuilder files(List<RingFile> files) {
    this.files = List.copyOf(files);
    return this;
  }

  public SnapshotBuilder restarts(int restartCount) {
    this.restartCount = restartCount;
    return this;
  }

  /** Runs but cannot write (its disk is full), for this reason. */
  public SnapshotBuilder storageProblem(String storageProblem) {
    this.storageProblem = storageProblem;
    return this;
  }

  public CaptureSnapshot build() {
    return new CaptureSnapshot(
        request,
        running,
        filter,
        startTime,
        files,
        exitCode,
        lastOutput,
        restartCount,
        storageProblem,
        completed);
  }
}
