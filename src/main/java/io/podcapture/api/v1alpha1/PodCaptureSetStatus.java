package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the cluster controller reports about a set and its children. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodCaptureSetStatus {
  @PrinterColumn(name = "Phase")
  @JsonPropertyDescription(
      "Running (the window is open: Pods that match get a child), Completed (the window "
          + "closed: no new child; children keep their files) or Failed (invalid spec; see the "
          + "message).")
  private String phase;

  @JsonPropertyDescription("When the set started (RFC 3339); its window counts from here.")
  private String startTime;

  @JsonPropertyDescription(
      "startTime + durationSeconds (RFC 3339); absent without durationSeconds: the set then runs "
          + "until deleted.")
  private String windowEnd;

  @PrinterColumn(name = "Matched")
  @JsonPropertyDescription(
      "Pods of the namespace that match the selector now (as the window closed, once it has).")
  private Integer matchedPods;

  @PrinterColumn(name = "Captured")
  @JsonPropertyDescription(
      "Children this set has made, in any phase (deleted ones count): maxPods bounds this.")
  private Integer capturedPods;

  @PrinterColumn(name = "OverMaxPods", priority = 1)
  @JsonPropertyDescription("Matching Pods left without a child because maxPods was reached.")
  private Integer podsOverMaxPods;

  @JsonPropertyDescription(
      "Children waiting for a capture slot or disk budget on their node (Pending WaitingForSlot or "
          + "WaitingForDiskBudget).")
  private Integer podsOnFullNodes;

  @JsonPropertyDescription("Children counted by phase.")
  private SetChildren children;

  @JsonPropertyDescription("Nodes the children run on, sorted.")
  private List<String> nodes;

  // A printer column cannot show a list (the API server refuses type object), so the count too.
  @PrinterColumn(name = "Nodes")
  @JsonPropertyDescription("How many nodes the children run on.")
  private Integer nodeCount;

  @PrinterColumn(name = "Bytes")
  @JsonPropertyDescription("Bytes on disk over all children.")
  private Long bytes;

  @JsonPropertyDescription("Human-readable explanation of the phase.")
  private String message;

  @JsonPropertyDescription("The metadata.generation the controller last acted on.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "Standard conditions: Ready (True while the window is open; False with reason "
          + "WindowClosed after it, or InvalidSpec).")
  private List<Condition> conditions = new ArrayList<>();

  public String getPhase() {
    return phase;
  }

  public void setPhase(String phase) {
    this.phase = phase;
  }

  public String getStartTime() {
    return startTime;
  }

  public void setStartTime(String startTime) {
    this.startTime = startTime;
  }

  public String getWindowEnd() {
    return windowEnd;
  }

  public void setWindowEnd(String windowEnd) {
    this.windowEnd = windowEnd;
  }

  public Integer getMatchedPods() {
    return matchedPods;
  }

  public void setMatchedPods(Integer matchedPods) {
    this.matchedPods = matchedPods;
  }

  public Integer getCapturedPods() {
    return capturedPods;
  }

  public void setCapturedPods(Integer capturedPods) {
    this.capturedPods = capturedPods;
  }

  public Integer getPodsOverMaxPods() {
    return podsOverMaxPods;
  }

  public void setPodsOverMaxPods(Integer podsOverMaxPods) {
    this.podsOverMaxPods = podsOverMaxPods;
  }

  public Integer getPodsOnFullNodes() {
    return podsOnFullNodes;
  }

  public void setPodsOnFullNodes(Integer podsOnFullNodes) {
    this.podsOnFullNodes = podsOnFullNodes;
  }

  public SetChildren getChildren() {
    return children;
  }

  public void setChildren(SetChildren children) {
    this.children = children;
  }

  public List<String> getNodes() {
    return nodes;
  }

  public void setNodes(List<String> nodes) {
    this.nodes = nodes;
  }

  public Integer getNodeCount() {
    return nodeCount;
  }

  public void setNodeCount(Integer nodeCount) {
    this.nodeCount = nodeCount;
  }

  public Long getBytes() {
    return bytes;
  }

  public void setBytes(Long bytes) {
    this.bytes = bytes;
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
    if (!(o instanceof PodCaptureSetStatus s)) {
      return false;
    }
    return Objects.equals(phase, s.phase)
        && Objects.equals(startTime, s.startTime)
        && Objects.equals(windowEnd, s.windowEnd)
        && Objects.equals(matchedPods, s.matchedPods)
        && Objects.equals(capturedPods, s.capturedPods)
        && Objects.equals(podsOverMaxPods, s.podsOverMaxPods)
        && Objects.equals(podsOnFullNodes, s.podsOnFullNodes)
        && Objects.equals(children, s.children)
        && Objects.equals(nodes, s.nodes)
        && Objects.equals(nodeCount, s.nodeCount)
        && Objects.equals(bytes, s.bytes)
        && Objects.equals(message, s.message)
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        phase,
        startTime,
        windowEnd,
        matchedPods,
        capturedPods,
        podsOverMaxPods,
        podsOnFullNodes,
        children,
        nodes,
        nodeCount,
        bytes,
        message,
        observedGeneration,
        conditions);
  }
}
