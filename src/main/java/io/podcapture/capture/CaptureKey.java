package io.podcapture.capture;

/**
 * Identifies one capture: the namespace and name of the PodCapture it serves (for the annotation's
 * capture, the name is the Pod's). Its files are {@code <dir>/<namespace>/capture-<name>.pcap<k>}.
 */
public record CaptureKey(String namespace, String name) {

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
