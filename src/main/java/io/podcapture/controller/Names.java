package io.podcapture.controller;

/** Every annotation, label, finalizer, phase, reason and event name the agent uses, in one place. */
public final class Names {
  private Names() {
  }

  /** The Pod annotation that starts a capture; its value is the number of rotating files. */
  public static final String ANNOTATION = "tcpdump.antrea.io";
  public static final String FINALIZER = "tcpdump.antrea.io/cleanup";
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "podcapture-agent";
  public static final String LABEL_NODE = "tcpdump.antrea.io/node";
  /** Field manager / component name shown in Events. */
  public static final String COMPONENT = "podcapture-agent";

  public static final String PHASE_PENDING = "Pending";
  public static final String PHASE_RUNNING = "Running";
  public static final String PHASE_FAILED = "Failed";

  public static final String CONDITION_READY = "Ready";

  // Reasons: used both as the Ready condition's reason and as Event reasons.
  public static final String REASON_RUNNING = "CaptureRunning";
  public static final String REASON_STARTED = "CaptureStarted";
  public static final String REASON_STOPPED = "CaptureStopped";
  public static final String REASON_INVALID_ANNOTATION = "InvalidAnnotation";
  public static final String REASON_NOT_ANNOTATED = "PodNotAnnotated";
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

  // Why a capture was stopped, besides the failure reasons above (metric labels and logs).
  public static final String STOP_ANNOTATION_REMOVED = "AnnotationRemoved";
  public static final String STOP_POD_GONE = "PodGone";
  public static final String STOP_POD_TERMINATING = "PodTerminating";
}
