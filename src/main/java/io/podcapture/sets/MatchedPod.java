package io.podcapture.sets;

import java.time.Instant;

/**
 * What the set controller knows of a Pod its selector matches: only metadata (the Pod watch asks
 * for nothing else).
 *
 * @param created the Pod's creationTimestamp (children are made oldest Pod first), or null
 * @param terminating whether the Pod is being deleted (it gets no new child)
 */
public record MatchedPod(String name, Instant created, boolean terminating) {}
