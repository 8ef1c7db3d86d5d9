package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deploy/node-restriction.yaml parses strictly into fabric8's admissionregistration.k8s.io/v1
 * model: a policy and its binding for each of the agent's Pods, PodCaptures and Events, and one for
 * the children of PodCaptureSets, with no field the API server would drop.
 * (NodeRestrictionPolicyTest and SetPolicyTest evaluate what the policies say.)
 */
class NodeRestrictionManifestTest {
  static final String NODE_RESTRICTION = "deploy/node-restriction.yaml";

  @Test
  void parsesStrictlyIntoFourPoliciesAndTheirBindings() {
    List<String> problems = new ArrayList<>();
    List<String> kinds = new ArrayList<>();
    for (StrictManifests.Document d :
        StrictManifests.load(NODE_RESTRICTION, ProjectFiles.read(NODE_RESTRICTION))) {
      problems.addAll(StrictManifests.problems(d));
      KubernetesResource typed = StrictManifests.typed(d);
      if (typed instanceof ValidatingAdmissionPolicy p) {
        kinds.add("policy " + p.getMetadata().getName());
      } else if (typed instanceof ValidatingAdmissionPolicyBinding b) {
        kinds.add("binding " + b.getMetadata().getName() + " -> " + b.getSpec().getPolicyName());
      } else {
        kinds.add("unexpected " + typed.getClass().getSimpleName());
      }
    }
    assertEquals(List.of(), problems);
    assertEquals(
        List.of(
            "policy podcapture-agent-pods",
                "binding podcapture-agent-pods -> podcapture-agent-pods",
            "policy podcapture-agent-podcaptures",
                "binding podcapture-agent-podcaptures -> podcapture-agent-podcaptures",
            "policy podcapture-agent-events",
                "binding podcapture-agent-events -> podcapture-agent-events",
            "policy podcapture-set-children",
                "binding podcapture-set-children -> podcapture-set-children"),
        kinds);
  }
}
