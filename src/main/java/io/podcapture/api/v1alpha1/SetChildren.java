package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import java.util.Objects;

/** A set's children counted by phase (a child with no status yet counts as pending). */
public class SetChildren {
  @JsonPropertyDescription("Children not running yet (Pending or no status).")
  private int pending;

  @PrinterColumn(name = "Running")
  @JsonPropertyDescription("Children whose tcpdump runs.")
  private int running;

  @PrinterColumn(name = "Completed")
  @JsonPropertyDescription("Children that ended as asked or because their Pod was deleted.")
  private int completed;

  @JsonPropertyDescription("Children that failed.")
  private int failed;

  public SetChildren() {}

  public SetChildren(int pending, int running, int completed, int failed) {
    this.pending = pending;
    this.running = running;
    this.completed = completed;
    this.failed = failed;
  }

  public int getPending() {
    return pending;
  }

  public void setPending(int pending) {
    this.pending = pending;
  }

  public int getRunning() {
    return running;
  }

  public void setRunning(int running) {
    this.running = running;
  }

  public int getCompleted() {
    return completed;
  }

  public void setCompleted(int completed) {
    this.completed = completed;
  }

  public int getFailed() {
    return failed;
  }

  public void setFailed(int failed) {
    this.failed = failed;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SetChildren c
        && pending == c.pending
        && running == c.running
        && completed == c.completed
        && failed == c.failed;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pending, running, completed, failed);
  }

  @Override
  public String toString() {
    return pending
        + " pending, "
        + running
        + " running, "
        + completed
        + " completed, "
        + failed
        + " failed";
  }
}
