package io.podcapture.sets;

import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import java.time.Instant;
import java.util.List;

/**
 * Everything one pass over a set decides from, read before it acts.
 *
 * @param set the set, as the cache holds it
 * @param pods the Pods its selector matches now (metadata only)
 * @param children its existing children
 * @param madeBefore children this set made before this pass, as far as the controller remembers
 *     (the status it last wrote, or its own count when the cache has not caught up): children that
 *     were deleted since (a TTL) still count against maxPods
 * @param maxPodsCap the cluster admin's cap
 * @param now the pass's clock reading
 */
public record SetInputs(
    PodCaptureSet set,
    List<MatchedPod> pods,
    List<PodCapture> children,
    int madeBefore,
    int maxPodsCap,
    Instant now) {}
