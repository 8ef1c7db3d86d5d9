package io.podcapture.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** One pcap file of a capture ring, as listed in the status. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CaptureFile {
  @JsonPropertyDescription("File name, e.g. capture-web.pcap0.")
  private String name;

  @JsonPropertyDescription("Absolute path inside the agent Pod, for kubectl cp.")
  private String path;

  @JsonPropertyDescription("Size in bytes when the status was last refreshed.")
  private Long sizeBytes;

  public CaptureFile() {}

  public CaptureFile(String name, String path, Long sizeBytes) {
    this.name = name;
    this.path = path;
    this.sizeBytes = sizeBytes;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getPath() {
    return path;
  }

  public void setPath(String path) {
    this.path = path;
  }

  public Long getSizeBytes() {
    return sizeBytes;
  }

  public void setSizeBytes(Long sizeBytes) {
    this.sizeBytes = sizeBytes;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof CaptureFile that)) {
      return false;
    }
    return Objects.equals(name, that.name)
        && Objects.equals(path, that.path)
        && Objects.equals(sizeBytes, that.sizeBytes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, path, sizeBytes);
  }

  @Override
  public String toString() {
    return name + "(" + sizeBytes + ")";
  }
}
