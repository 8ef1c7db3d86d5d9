package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the agent on the Pod's node reports about the capture. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodCaptureStatus {
  @PrinterColumn(name = "Node")
  @JsonPropertyDescription("Node whose agent runs the capture.")
  private String node;

  @PrinterColumn(name = "Phase")
  @JsonPropertyDescription(
      "Pending (starts by itself), Running, Completed (ended as asked, files kept) or Failed "
          + "(needs a person).")
  private String phase;

  @PrinterColumn(name = "Files")
  @JsonPropertyDescription("Number of pcap files on disk.")
  private Integer fileCount;

  @PrinterColumn(name = "Bytes")
  @JsonPropertyDescription("Bytes on disk over all files of the ring.")
  private Long totalBytes;

  @JsonPropertyDescription("Agent Pod holding the files, as namespace/name, for kubectl cp.")
  private String agentPod;

  @JsonPropertyDescription("IPs of the captured Pod.")
  private List<String> podIPs;

  @JsonPropertyDescription("BPF filter expression tcpdump runs with.")
  private String filter;

  @JsonPropertyDescription("The pcap files of the ring with their sizes.")
  private List<CaptureFile> files;

  @JsonPropertyDescription("When the running tcpdump started (RFC 3339).")
  private String startTime;

  @JsonPropertyDescription(
      "When the capture ended as asked (Completed) or failed for good (Failed), RFC 3339; "
          + "ttlSecondsAfterFinished counts from here.")
  private String completionTime;

  @JsonPropertyDescription("How many times tcpdump was restarted after it exited unexpectedly.")
  private Integer restartCount;

  @JsonPropertyDescription("Human-readable explanation of the phase.")
  private String message;

  @JsonPropertyDescription("The metadata.generation the agent last acted on.")
  private Long observedGeneration;

  @JsonPropertyDescription("Standard conditions; Ready is True while tcpdump runs.")
  private List<Condition> conditions = new ArrayList<>();

  public String getNode() {
    return node;
  }

  public void setNode(String node) {
    this.node = node;
  }

  public String getPhase() {
    return phase;
  }

  public void setPhase(String phase) {
    this.phase = phase;
  }

  public Integer getFileCount() {
    return fileCount;
  }

  public void setFileCount(Integer fileCount) {
    this.fileCount = fileCount;
  }

  public Long getTotalBytes() {
    return totalBytes;
  }

  public void setTotalBytes(Long totalBytes) {
    this.totalBytes = totalBytes;
  }

  public String getAgentPod() {
    return agentPod;
  }

  public void setAgentPod(String agentPod) {
    this.agentPod = agentPod;
  }

  public List<String> getPodIPs() {
    return podIPs;
  }

  public void setPodIPs(List<String> podIPs) {
    this.podIPs = podIPs;
  }

  public String getFilter() {
    return filter;
  }

  public void setFilter(String filter) {
    this.filter = filter;
  }

  public List<CaptureFile> getFiles() {
    return files;
  }

  public void setFiles(List<CaptureFile> files) {
    this.files = files;
  }

  public String getStartTime() {
    return startTime;
  }

  public void setStartTime(String startTime) {
    this.startTime = startTime;
  }

  public String getCompletionTime() {
    return completionTime;
  }

  public void setCompletionTime(String completionTime) {
    this.completionTime = completionTime;
  }

  public Integer getRestartCount() {
    return restartCount;
  }

  public void setRestartCount(Integer restartCount) {
    this.restartCount = restartCount;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof PodCaptureStatus s)) {
      return false;
    }
    return Objects.equals(node, s.node)
        && Objects.equals(phase, s.phase)
        && Objects.equals(fileCount, s.fileCount)
        && Objects.equals(totalBytes, s.totalBytes)
        && Objects.equals(agentPod, s.agentPod)
        && Objects.equals(podIPs, s.podIPs)
        && Objects.equals(filter, s.filter)
        && Objects.equals(files, s.files)
        && Objects.equals(startTime, s.startTime)
        && Objects.equals(completionTime, s.completionTime)
        && Objects.equals(restartCount, s.restartCount)
        && Objects.equals(message, s.message)
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        node,
        phase,
        fileCount,
        totalBytes,
        agentPod,
        podIPs,
        filter,
        files,
        startTime,
        completionTime,
        restartCount,
        message,
        observedGeneration,
        conditions);
  }
}
