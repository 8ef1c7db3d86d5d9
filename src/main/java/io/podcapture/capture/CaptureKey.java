package io.podcapture.capture;

/** Identifies one capture: the captured Pod's namespace and name. */
public record CaptureKey(String namespace, String pod) {

  @Override
  public String toString() {
    return namespace + "/" + pod;
  }
}
