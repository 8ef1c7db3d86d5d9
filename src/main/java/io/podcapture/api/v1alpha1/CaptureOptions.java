package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Objects;

/**
 * The capture options a PodCapture and a PodCaptureSet share: into how many rotating files of what
 * size, narrowed by an optional filter, and when to stop by itself. One set of annotated fields, so
 * both CRDs carry the same defaults and validation.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public abstract class CaptureOptions {
  /** Upper bound the schema accepts; the agent's MAX_FILES setting is usually lower. */
  public static final int SCHEMA_MAX_FILES = 1000;

  public static final int SCHEMA_MAX_FILE_SIZE_MB = 1024;

  /** tcpdump's own upper bound for -s (MAXIMUM_SNAPLEN). */
  public static final int MAX_SNAP_LENGTH = 262144;

  @Min(1)
  @Max(SCHEMA_MAX_FILES)
  @Default("1")
  @JsonPropertyDescription(
      "Number of rotating pcap files, at most the agent's MAX_FILES (for the annotation's "
          + "PodCapture, the annotation's value).")
  private Integer maxFiles;

  @Min(1)
  @Max(SCHEMA_MAX_FILE_SIZE_MB)
  @Default("1")
  @JsonPropertyDescription("Size in MB at which tcpdump moves on to the next file of the ring.")
  private Integer fileSizeMB;

  @ValidationRule(value = "self.size() <= 1024", message = "filter must be at most 1024 characters")
  @PrinterColumn(name = "Filter", priority = 1)
  @JsonPropertyDescription(
      "pcap-filter expression that narrows the capture: tcpdump runs "
          + "(<Pod filter>) and (<filter>). Compiled before the capture starts; an invalid one fails the PodCapture.")
  private String filter;

  @Min(1)
  @JsonPropertyDescription(
      "Stop after this many seconds; the PodCapture is then Completed and its files kept.")
  private Integer durationSeconds;

  @Min(1)
  @JsonPropertyDescription(
      "Stop after this many packets (tcpdump -c); the PodCapture is then Completed and its "
          + "files kept.")
  private Integer packetCount;

  @Min(0)
  @Max(MAX_SNAP_LENGTH)
  @JsonPropertyDescription(
      "Bytes kept of each packet (tcpdump -s); 0, the default, keeps whole packets.")
  private Integer snapLength;

  @Min(0)
  @JsonPropertyDescription(
      "Delete this PodCapture and its files this many seconds after it finished (Completed "
          + "or Failed); unset keeps it until someone deletes it.")
  private Integer ttlSecondsAfterFinished;

  public Integer getMaxFiles() {
    return maxFiles;
  }

  public void setMaxFiles(Integer maxFiles) {
    this.maxFiles = maxFiles;
  }

  public Integer getFileSizeMB() {
    return fileSizeMB;
  }

  public void setFileSizeMB(Integer fileSizeMB) {
    this.fileSizeMB = fileSizeMB;
  }

  public String getFilter() {
    return filter;
  }

  public void setFilter(String filter) {
    this.filter = filter;
  }

  public Integer getDurationSeconds() {
    return durationSeconds;
  }

  public void setDurationSeconds(Integer durationSeconds) {
    this.durationSeconds = durationSeconds;
  }

  public Integer getPacketCount() {
    return packetCount;
  }

  public void setPacketCount(Integer packetCount) {
    this.packetCount = packetCount;
  }

  public Integer getSnapLength() {
    return snapLength;
  }

  public void setSnapLength(Integer snapLength) {
    this.snapLength = snapLength;
  }

  public Integer getTtlSecondsAfterFinished() {
    return ttlSecondsAfterFinished;
  }

  public void setTtlSecondsAfterFinished(Integer ttlSecondsAfterFinished) {
    this.ttlSecondsAfterFinished = ttlSecondsAfterFinished;
  }

  /** Copies every option of {@code from} into this. */
  public void copyOptions(CaptureOptions from) {
    maxFiles = from.maxFiles;
    fileSizeMB = from.fileSizeMB;
    filter = from.filter;
    durationSeconds = from.durationSeconds;
    packetCount = from.packetCount;
    snapLength = from.snapLength;
    ttlSecondsAfterFinished = from.ttlSecondsAfterFinished;
  }

  /** Whether every option equals {@code o}'s. */
  protected boolean sameOptions(CaptureOptions o) {
    return Objects.equals(maxFiles, o.maxFiles)
        && Objects.equals(fileSizeMB, o.fileSizeMB)
        && Objects.equals(filter, o.filter)
        && Objects.equals(durationSeconds, o.durationSeconds)
        && Objects.equals(packetCount, o.packetCount)
        && Objects.equals(snapLength, o.snapLength)
        && Objects.equals(ttlSecondsAfterFinished, o.ttlSecondsAfterFinished);
  }

  protected int optionsHash() {
    return Objects.hash(
        maxFiles,
        fileSizeMB,
        filter,
        durationSeconds,
        packetCount,
        snapLength,
        ttlSecondsAfterFinished);
  }

  /** The options as {@code name=value} pairs, for toString. */
  protected String optionsString() {
    return "maxFiles="
        + maxFiles
        + ", fileSizeMB="
        + fileSizeMB
        + ", filter="
        + filter
        + ", durationSeconds="
        + durationSeconds
        + ", packetCount="
        + packetCount
        + ", snapLength="
        + snapLength
        + ", ttlSecondsAfterFinished="
        + ttlSecondsAfterFinished;
  }
}
