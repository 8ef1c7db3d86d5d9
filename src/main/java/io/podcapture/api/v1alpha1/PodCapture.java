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
 * A packet capture of one Pod: created directly ({@code spec.podName} names the Pod), or mirrored
 * from the Pod's {@code tcpdump.antrea.io} annotation into the PodCapture named after the Pod.
 */
@Group(PodCapture.GROUP)
@Version(PodCapture.VERSION)
@Kind("PodCapture")
@Plural("podcaptures")
@Singular("podcapture")
@ShortNames("podcap")
public class PodCapture extends CustomResource<PodCaptureSpec, PodCaptureStatus>
    implements Namespaced {
  public static final String GROUP = "tcpdump.antrea.io";
  public static final String VERSION = "v1alpha1";
  public static final String CRD_NAME = "podcaptures." + GROUP;
}
