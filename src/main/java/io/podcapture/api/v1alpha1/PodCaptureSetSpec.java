package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.Objects;

/**
 * Which Pods of the set's namespace to capture, how many at most, and the {@link CaptureOptions}
 * every child PodCapture gets. {@code durationSeconds} is one window for the whole set, counted
 * from its start: children made later end at the same time.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodCaptureSetSpec extends CaptureOptions {
  public static final int DEFAULT_MAX_PODS = 10;
  public static final int SCHEMA_MAX_PODS = 1000;

  @Required
  // An empty selector selects every Pod of the namespace: refused, so a typo cannot capture all.
  @ValidationRule(
      value =
          "(has(self.matchLabels) && size(self.matchLabels) > 0)"
              + " || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",
      message = "selector must not be empty: it would select every Pod of the namespace")
  @JsonPropertyDescription(
      "Label selector over the Pods of this namespace; Pods that match later are captured too "
          + "while the set's window is open. Must not be empty.")
  private LabelSelector selector;

  @Min(1)
  @Max(SCHEMA_MAX_PODS)
  @Default("10")
  @JsonPropertyDescription(
      "Most child PodCaptures the set ever makes (completed and deleted ones count). Above the "
          + "cluster admin's cap (the controller's SET_MAX_PODS_CAP, default 100) the cap applies "
          + "instead, and the set's status message says so.")
  private Integer maxPods;

  public LabelSelector getSelector() {
    return selector;
  }

  public void setSelector(LabelSelector selector) {
    this.selector = selector;
  }

  public Integer getMaxPods() {
    return maxPods;
  }

  public void setMaxPods(Integer maxPods) {
    this.maxPods = maxPods;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof PodCaptureSetSpec that)) {
      return false;
    }
    return Objects.equals(selector, that.selector)
        && Objects.equals(maxPods, that.maxPods)
        && sameOptions(that);
  }

  @Override
  public int hashCode() {
    return Objects.hash(selector, maxPods, optionsHash());
  }

  @Override
  public String toString() {
    return "PodCaptureSetSpec{selector="
        + selector
        + ", maxPods="
        + maxPods
        + ", "
        + optionsString()
        + "}";
  }
}
