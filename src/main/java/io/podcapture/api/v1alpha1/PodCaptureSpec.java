package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.Objects;

/** What to capture: which Pod, how many rotating files and how large each is. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodCaptureSpec {
  /** Upper bound the schema accepts; the agent's MAX_FILES setting is usually lower. */
  public static final int SCHEMA_MAX_FILES = 1000;
  public static final int SCHEMA_MAX_FILE_SIZE_MB = 1024;

  @Required
  @PrinterColumn(name = "Pod")
  @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
  @JsonPropertyDescription("Name of the Pod to capture, in the same namespace as this PodCapture.")
  private String podName;

  @Min(1)
  @Max(SCHEMA_MAX_FILES)
  @JsonPropertyDescription("Number of rotating pcap files (the annotation's value).")
  private Integer maxFiles;

  @Min(1)
  @Max(SCHEMA_MAX_FILE_SIZE_MB)
  @Default("1")
  @JsonPropertyDescription("Size in MB at which tcpdump moves on to the next file of the ring.")
  private Integer fileSizeMB;

  public PodCaptureSpec() {
  }

  public PodCaptureSpec(String podName, Integer maxFiles, Integer fileSizeMB) {
    this.podName = podName;
    this.maxFiles = maxFiles;
    this.fileSizeMB = fileSizeMB;
  }

  public String getPodName() {
    return podName;
  }

  public void setPodName(String podName) {
    this.podName = podName;
  }

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

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof PodCaptureSpec)) {
      return false;
    }
    PodCaptureSpec that = (PodCaptureSpec) o;
    return Objects.equals(podName, that.podName) && Objects.equals(maxFiles, that.maxFiles)
        && Objects.equals(fileSizeMB, that.fileSizeMB);
  }

  @Override
  public int hashCode() {
    return Objects.hash(podName, maxFiles, fileSizeMB);
  }

  @Override
  public String toString() {
    return "PodCaptureSpec{podName=" + podName + ", maxFiles=" + maxFiles + ", fileSizeMB=" + fileSizeMB + "}";
  }
}
