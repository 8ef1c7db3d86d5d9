package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.Objects;

/** What to capture: which Pod, with the {@link CaptureOptions} every capture has. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodCaptureSpec extends CaptureOptions {
  @Required
  @PrinterColumn(name = "Pod")
  @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
  @JsonPropertyDescription("Name of the Pod to capture, in the same namespace as this PodCapture.")
  private String podName;

  public PodCaptureSpec() {}

  public PodCaptureSpec(String podName, Integer maxFiles, Integer fileSizeMB) {
    this.podName = podName;
    setMaxFiles(maxFiles);
    setFileSizeMB(fileSizeMB);
  }

  public String getPodName() {
    return podName;
  }

  public void setPodName(String podName) {
    this.podName = podName;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof PodCaptureSpec that)) {
      return false;
    }
    return Objects.equals(podName, that.podName) && sameOptions(that);
  }

  @Override
  public int hashCode() {
    return Objects.hash(podName, optionsHash());
  }

  @Override
  public String toString() {
    return "PodCaptureSpec{podName=" + podName + ", " + optionsString() + "}";
  }
}
