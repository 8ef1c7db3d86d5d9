package io.podcapture.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Captures of a whole workload: the cluster controller keeps one child PodCapture per Pod of the
 * namespace that matches {@code spec.selector}, Pods that match later included, until the set's
 * window closes.
 */
@Group(PodCapture.GROUP)
@Version(PodCapture.VERSION)
@Kind("PodCaptureSet")
@Plural("podcapturesets")
@Singular("podcaptureset")
@ShortNames("podcapset")
public class PodCaptureSet extends CustomResource<PodCaptureSetSpec, PodCaptureSetStatus>
    implements Namespaced {
  public static final String CRD_NAME = "podcapturesets." + PodCapture.GROUP;
}
