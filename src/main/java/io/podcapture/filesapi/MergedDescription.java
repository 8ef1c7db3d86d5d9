package io.podcapture.filesapi;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.api.v1alpha1.PodCaptureStatus;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The section comment of a merged pcapng: what was captured (the capture or set, its Pods and
 * nodes), with which filter, from when to when (the status times; "running" while it runs).
 */
final class MergedDescription {
  private MergedDescription() {}

  static String ofCapture(FileRoutes.Located capture) {
    PodCapture cr = capture.capture();
    PodCaptureStatus status = cr.getStatus();
    return "PodCapture "
        + capture.namespace()
        + "/"
        + capture.name()
        + ": Pod "
        + capture.namespace()
        + "/"
        + capture.pod()
        + " on node "
        + capture.node()
        + ". Filter: "
        + filter(status == null ? null : status.getFilter())
        + ". From "
        + orUnknown(status == null ? null : status.getStartTime())
        + " to "
        + end(status)
        + ".";
  }

  static String ofSet(
      PodCaptureSet set, List<FileRoutes.Located> children, List<String> withoutFiles) {
    String ns = set.getMetadata().getNamespace();
    String pods =
        children.isEmpty()
            ? "none yet"
            : children.stream()
                .map(
                    c ->
                        ns
                            + "/"
                            + c.pod()
                            + " (node "
                            + c.node()
                            + ", PodCapture "
                            + c.name()
                            + ")")
                .collect(Collectors.joining(", "));
    List<String> filters =
        children.stream()
            .map(c -> c.capture().getStatus() == null ? null : c.capture().getStatus().getFilter())
            .filter(Objects::nonNull)
            .distinct()
            .toList();
    String filter =
        filters.size() == 1
            ? filter(filters.get(0))
            : filters.isEmpty()
                ? filter(set.getSpec() == null ? null : set.getSpec().getFilter())
                : String.join(" | ", filters);
    String start =
        set.getStatus() != null && set.getStatus().getStartTime() != null
            ? set.getStatus().getStartTime()
            : children.stream()
                .map(
                    c ->
                        c.capture().getStatus() == null
                            ? null
                            : c.capture().getStatus().getStartTime())
                .filter(Objects::nonNull)
                .min(String::compareTo)
                .orElse("unknown");
    boolean running =
        children.isEmpty()
            || children.stream().anyMatch(c -> "running".equals(end(c.capture().getStatus())));
    String end =
        running
            ? "running"
            : children.stream()
                .map(c -> c.capture().getStatus().getCompletionTime())
                .max(String::compareTo)
                .orElse("running");
    return "PodCaptureSet "
        + ns
        + "/"
        + set.getMetadata().getName()
        + ": Pods "
        + pods
        + (withoutFiles.isEmpty() ? "" : "; no files yet from PodCaptures " + withoutFiles)
        + ". Filter: "
        + filter
        + ". From "
        + start
        + " to "
        + end
        + ".";
  }

  private static String filter(String filter) {
    return filter == null || filter.isBlank() ? "none (all packets)" : filter;
  }

  private static String orUnknown(String time) {
    return time == null ? "unknown" : time;
  }

  private static String end(PodCaptureStatus status) {
    return status == null || status.getCompletionTime() == null
        ? "running"
        : status.getCompletionTime();
  }
}
