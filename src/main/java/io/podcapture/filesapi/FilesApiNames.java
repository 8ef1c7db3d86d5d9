package io.podcapture.filesapi;

/** Every name the files API and its certificates use, in one place (issue 22's contract). */
public final class FilesApiNames {
  private FilesApiNames() {}

  public static final String GROUP = "files.tcpdump.antrea.io";
  public static final String VERSION = "v1alpha1";
  public static final String GROUP_VERSION = GROUP + "/" + VERSION;

  /** The path prefix the aggregator forwards to us. */
  public static final String PREFIX = "/apis/" + GROUP_VERSION;

  public static final String API_SERVICE = VERSION + "." + GROUP;

  /** The Service in front of the controller's replicas, named in the serving certificate. */
  public static final String SERVICE = "podcapture-controller";

  public static final String CONTROLLER_TLS_SECRET = "podcapture-controller-tls";
  public static final String AGENT_TLS_SECRET = "podcapture-agent-tls";
  public static final String TLS_CRT = "tls.crt";
  public static final String TLS_KEY = "tls.key";

  /** The audience of the tokens the controller shows the agents. */
  public static final String AGENT_AUDIENCE = "podcapture-agent";

  /** The agent's files port when its Pod names none (container port named {@value #PORT_NAME}). */
  public static final int DEFAULT_AGENT_PORT = 9398;

  public static final String PORT_NAME = "files";

  public static final String FRONT_PROXY_NAMESPACE = "kube-system";
  public static final String FRONT_PROXY_CONFIGMAP = "extension-apiserver-authentication";

  public static final String CAPTURE_FILES = "podcapturefiles";
  public static final String SET_FILES = "podcapturesetfiles";

  public static final String PCAP_TYPE = "application/vnd.tcpdump.pcap";
  public static final String PCAPNG_TYPE = "application/x-pcapng";
}
