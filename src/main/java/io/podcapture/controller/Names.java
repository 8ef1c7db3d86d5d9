package io.podcapture.controller;

/**
 * Every annotation, label, finalizer, phase, reason and event name the agent uses, in one place.
 */
public final class Names {
  private Names() {}

  /** The Pod annotation that starts a capture; its value is the number of rotating files. */
  public static final String ANNOTATION = "tcpdump.antrea.io";

  public static final String FINALIZER = "tcpdump.antrea.io/cleanup";
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "podcapture-agent";

  /**
   * The node whose agent holds the PodCapture; node agents watch only PodCaptures carrying their
   * node's.
   */
  public static final String LABEL_NODE = "tcpdump.antrea.io/node";

  /** Field manager / component name shown in Events. */
  public static final String COMPONENT = "podcapture-agent";

  /** The cluster controller's component name (Events, field manager, Lease holder prefix). */
  public static final String CONTROLLER_COMPONENT = "podcapture-controller";

  /** On a PodCaptureSet's children: the set's name (the child is also owned by the set). */
  public static final String LABEL_SET = "tcpdump.antrea.io/set";

  public static final String PHASE_PENDING = "Pending";
  public static final String PHASE_RUNNING = "Running";
  public static final String PHASE_FAILED = "Failed";
  public static final String PHASE_COMPLETED = "Completed";

  public static final String CONDITION_READY = "Ready";

  // Reasons: used both as the Ready condition's reason and as Event reasons.
  public static final String REASON_RUNNING = "CaptureRunning";
  public static final String REASON_STARTED = "CaptureStarted";
  public static final String REASON_STOPPED = "CaptureStopped";
  public static final String REASON_INVALID_ANNOTATION = "InvalidAnnotation";

  /**
   * The annotation was refused: the PodCapture of the Pod's name exists and targets another Pod.
   */
  public static final String REASON_NAME_TAKEN = "PodCaptureNameTaken";

  public static final String REASON_INVALID_SPEC = "InvalidSpec";
  public static final String REASON_INVALID_FILTER = "InvalidFilter";
  public static final String REASON_HOST_NETWORK = "HostNetworkPod";
  public static final String REASON_COMPLETED = "CaptureCompleted";
  public static final String REASON_POD_NOT_FOUND = "PodNotFound";
  public static final String REASON_POD_NOT_SCHEDULED = "PodNotScheduled";
  public static final String REASON_WAITING_FOR_AGENT = "WaitingForAgent";
  public static final String REASON_POD_TERMINATING = "PodTerminating";
  public static final String REASON_NAMESPACE_DENIED = "NamespaceDenied";
  public static final String REASON_WAITING_FOR_IP = "WaitingForPodIP";
  public static final String REASON_WAITING_FOR_SLOT = "WaitingForSlot";
  public static final String REASON_WAITING_FOR_DISK = "WaitingForDiskBudget";
  public static final String REASON_TOO_LARGE = "ExceedsDiskBudget";
  public static final String REASON_INVALID_INPUT = "InvalidInput";
  public static final String REASON_START_FAILED = "StartFailed";
  public static final String REASON_TCPDUMP_EXITED = "TcpdumpExited";
  public static final String REASON_GAVE_UP = "RestartLimitReached";
  public static final String REASON_DISK_FULL = "DiskFull";
  public static final String REASON_CR_DELETED = "PodCaptureDeleted";

  /** A direct or set capture whose Pod was deleted while it ran: Completed, files kept. */
  public static final String REASON_POD_DELETED = "PodDeleted";

  // Why a capture was stopped, besides the failure reasons above (metric labels and logs).
  public static final String STOP_ANNOTATION_REMOVED = "AnnotationRemoved";
  public static final String STOP_POD_GONE = "PodGone";
  public static final String STOP_POD_TERMINATING = "PodTerminating";
}
