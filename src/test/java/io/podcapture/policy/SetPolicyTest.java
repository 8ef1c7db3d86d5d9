package io.podcapture.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.podcapture.policy.AdmissionPolicies.Decision;
import io.podcapture.policy.AdmissionRequest.User;
import io.podcapture.testing.MockApiServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/node-restriction.yaml's policy for the children of PodCaptureSets, and what it leaves to
 * the cluster controller and to users, evaluated with Google's Java CEL: only the controller's
 * ServiceAccount creates a PodCapture carrying the set label or a PodCaptureSet owner reference;
 * nobody adds, changes or removes either afterwards; the controller may set and correct the node
 * label, and so may users (the controller corrects it).
 */
class SetPolicyTest {
  static final String SET_LABEL = "tcpdump.antrea.io/set";
  static final String NODE_LABEL = NodeRestrictionPolicyTest.NODE_LABEL;
  static final String POLICY = "podcapture-set-children";
  static final String ONLY_THE_CONTROLLER_CREATES = "only the podcapture controller creates";
  static final String NEVER_CHANGE = "never change";

  static final User CONTROLLER =
      User.serviceAccount("kube-system", "podcapture-controller", "podcapture-controller-x1", "cp");
  static final User AGENT =
      User.serviceAccount("kube-system", "podcapture-agent", "podcapture-agent-x1", "node-a");
  static final User ALICE = new User("alice", List.of("system:authenticated"), Map.of());
  static final User ADMIN =
      new User("kubernetes-admin", List.of("system:masters", "system:authenticated"), Map.of());
  static final User GARBAGE_COLLECTOR =
      User.serviceAccount("kube-system", "generic-garbage-collector", "x", "cp");

  static AdmissionPolicies policies;

  @BeforeAll
  static void load() {
    policies =
        AdmissionPolicies.load(
            MockApiServer.projectDir().resolve(NodeRestrictionPolicyTest.MANIFEST));
  }

  // ---- creating children

  @Test
  void onlyTheControllerCreatesAPodCaptureWithTheSetLabel() {
    Map<String, Object> child = child("web-set-web-1", "web-1", "node-a", false);

    for (User other : List.of(ALICE, ADMIN, AGENT)) {
      assertDenied(ONLY_THE_CONTROLLER_CREATES, create(child, other));
    }
    assertAllowed(create(child, CONTROLLER));
    // An empty value is a set label too.
    Map<String, Object> empty =
        AgentWrites.patched(child, "{\"metadata\":{\"labels\":{\"" + SET_LABEL + "\":\"\"}}}");
    assertDenied(ONLY_THE_CONTROLLER_CREATES, create(empty, ALICE));
  }

  @Test
  void onlyTheControllerCreatesAPodCaptureOwnedByAPodCaptureSet() {
    Map<String, Object> owned = withoutSetLabel(child("web-set-web-1", "web-1", "node-a", true));

    for (User other : List.of(ALICE, ADMIN, AGENT)) {
      assertDenied(ONLY_THE_CONTROLLER_CREATES, create(owned, other));
    }
    assertAllowed(create(owned, CONTROLLER));
  }

  @Test
  void aUsersPodCaptureWithOtherOwnersAndLabelsIsNoneOfThePolicysBusiness() {
    Map<String, Object> direct =
        AgentWrites.patched(
            NodeRestrictionPolicyTest.podCapture("cap", "web", Map.of("team", "a"), List.of()),
            "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                + "\"name\":\"web\",\"uid\":\"d1\"}]}}");
    Decision d = policies.admit(create(direct, ALICE));

    assertEquals(List.of(POLICY), d.applied());
    assertTrue(d.allowed(), d.denial());
  }

  // ---- changing children

  @Test
  void nobodyMovesAPodCaptureIntoASet() {
    Map<String, Object> direct =
        NodeRestrictionPolicyTest.podCapture("cap", "web", Map.of(NODE_LABEL, "node-a"), List.of());
    String label = "{\"metadata\":{\"labels\":{\"" + SET_LABEL + "\":\"web-set\"}}}";
    String owner = "{\"metadata\":{\"ownerReferences\":[" + setOwner("web-set", "s1") + "]}}";

    for (User anyone : List.of(ALICE, ADMIN, AGENT, CONTROLLER)) {
      assertDenied(NEVER_CHANGE, update(direct, AgentWrites.patched(direct, label), anyone));
      assertDenied(NEVER_CHANGE, update(direct, AgentWrites.patched(direct, owner), anyone));
    }
  }

  @Test
  void nobodyTakesAChildOutOfItsSetOrMovesItToAnother() {
    Map<String, Object> child = child("web-set-web-1", "web-1", "node-a", true);
    List<String> changes =
        List.of(
            "{\"metadata\":{\"labels\":{\"" + SET_LABEL + "\":null}}}",
            "{\"metadata\":{\"labels\":{\"" + SET_LABEL + "\":\"other-set\"}}}",
            "{\"metadata\":{\"ownerReferences\":null}}",
            "{\"metadata\":{\"ownerReferences\":[" + setOwner("other-set", "s2") + "]}}",
            "{\"metadata\":{\"ownerReferences\":["
                + setOwner("web-set", "s1")
                + ","
                + setOwner("other-set", "s2")
                + "]}}");

    for (User anyone : List.of(ALICE, ADMIN, AGENT, CONTROLLER)) {
      for (String change : changes) {
        assertDenied(NEVER_CHANGE, update(child, AgentWrites.patched(child, change), anyone));
      }
    }
  }

  @Test
  void aChildsOtherMetadataMayChange() {
    Map<String, Object> child = child("web-set-web-1", "web-1", "node-a", true);
    // The agent of the child's node adds its finalizer, as for any PodCapture.
    Map<String, Object> finalized =
        AgentWrites.patched(
            child,
            "{\"metadata\":{\"finalizers\":[\"" + NodeRestrictionPolicyTest.FINALIZER + "\"]}}");
    assertAllowed(update(child, finalized, AGENT));
    // An owner reference of another kind next to the set's, a label of the user's.
    Map<String, Object> more =
        AgentWrites.patched(
            child,
            "{\"metadata\":{\"labels\":{\"team\":\"a\"},\"ownerReferences\":["
                + setOwner("web-set", "s1")
                + ",{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"c\",\"uid\":\"c1\"}]}}");
    assertAllowed(update(child, more, ADMIN));
  }

  @Test
  void theGarbageCollectorMayOrphanAChild() {
    Map<String, Object> child = child("web-set-web-1", "web-1", "node-a", true);
    Decision d =
        policies.admit(
            update(
                child,
                AgentWrites.patched(child, "{\"metadata\":{\"ownerReferences\":null}}"),
                GARBAGE_COLLECTOR));

    assertEquals(List.of(), d.applied(), "kubectl delete --cascade=orphan must not hang");
  }

  @Test
  void deletingAChildAndWritingItsStatusAreNotMatched() {
    Map<String, Object> child = child("web-set-web-1", "web-1", "node-a", true);
    AdmissionRequest delete =
        new AdmissionRequest(
            "DELETE",
            NodeRestrictionPolicyTest.CAPTURE_GROUP,
            NodeRestrictionPolicyTest.CAPTURE_VERSION,
            "podcaptures",
            "",
            "default",
            "web-set-web-1",
            ALICE,
            null,
            child);
    assertEquals(List.of(), policies.admit(delete).applied());
    Map<String, Object> pending =
        AgentWrites.patched(
            child, "{\"status\":{\"phase\":\"Pending\",\"message\":\"no agent on node-a\"}}");
    assertEquals(
        List.of(),
        policies
            .admit(NodeRestrictionPolicyTest.captureUpdate("status", child, pending, CONTROLLER))
            .applied());
  }

  // ---- the node label: the controller's to correct, the users' to set

  @Test
  void theControllerSetsAndCorrectsTheNodeLabelOfAnyPodCapture() {
    Map<String, Object> unlabelled =
        NodeRestrictionPolicyTest.podCapture("cap", "web", Map.of(), List.of());
    Map<String, Object> wrongNode =
        NodeRestrictionPolicyTest.podCapture("cap", "web", Map.of(NODE_LABEL, "node-z"), List.of());
    Map<String, Object> child = child("web-set-web-1", "web-1", "node-z", true);
    String toNodeB = "{\"metadata\":{\"labels\":{\"" + NODE_LABEL + "\":\"node-b\"}}}";

    for (Map<String, Object> capture : List.of(unlabelled, wrongNode, child)) {
      assertAllowed(update(capture, AgentWrites.patched(capture, toNodeB), CONTROLLER));
    }
    // And writes the status of one no agent serves (Pending, NoAgentOnNode); no policy limits it.
    Map<String, Object> pending =
        AgentWrites.patched(
            wrongNode,
            "{\"status\":{\"phase\":\"Pending\",\"message\":\"node node-z runs no agent\"}}");
    Decision d =
        policies.admit(
            NodeRestrictionPolicyTest.captureUpdate("status", wrongNode, pending, CONTROLLER));
    assertTrue(d.allowed(), d.denial());
  }

  @Test
  void usersMaySetTheNodeLabelAndTheControllerCorrectsIt() {
    // A PodCapture applied from a copied kubectl get -o yaml, with an old node label: admitted.
    Map<String, Object> copied =
        NodeRestrictionPolicyTest.podCapture("cap", "web", Map.of(NODE_LABEL, "node-z"), List.of());
    assertAllowed(create(copied, ALICE));
    assertAllowed(
        update(
            copied,
            AgentWrites.patched(
                copied, "{\"metadata\":{\"labels\":{\"" + NODE_LABEL + "\":\"node-b\"}}}"),
            ADMIN));
  }

  @Test
  void theAgentMaySetNoOtherNodesLabelAndHandsItsOwnBack() {
    Map<String, Object> mine =
        NodeRestrictionPolicyTest.podCapture("cap", "web", Map.of(NODE_LABEL, "node-a"), List.of());
    Decision toOther =
        policies.admit(
            update(
                mine,
                AgentWrites.patched(
                    mine, "{\"metadata\":{\"labels\":{\"" + NODE_LABEL + "\":\"node-b\"}}}"),
                AGENT));
    assertFalse(toOther.allowed());
    assertTrue(toOther.denial().contains("podcapture-agent-podcaptures"), toOther.denial());
    Decision handBack =
        policies.admit(
            update(
                mine,
                AgentWrites.patched(
                    mine, "{\"metadata\":{\"labels\":{\"" + NODE_LABEL + "\":null}}}"),
                AGENT));
    assertTrue(handBack.allowed(), handBack.denial());
  }

  // ---- helpers

  /** A set's child as the controller makes it: both labels, and (or not) the set as its owner. */
  static Map<String, Object> child(String name, String pod, String node, boolean owned) {
    Map<String, Object> child =
        NodeRestrictionPolicyTest.podCapture(
            name,
            pod,
            Map.of(
                SET_LABEL,
                "web-set",
                NODE_LABEL,
                node,
                NodeRestrictionPolicyTest.MANAGED_BY,
                "podcapture-controller"),
            List.of());
    return owned
        ? AgentWrites.patched(
            child, "{\"metadata\":{\"ownerReferences\":[" + setOwner("web-set", "s1") + "]}}")
        : child;
  }

  static Map<String, Object> withoutSetLabel(Map<String, Object> capture) {
    return AgentWrites.patched(capture, "{\"metadata\":{\"labels\":{\"" + SET_LABEL + "\":null}}}");
  }

  static String setOwner(String set, String uid) {
    return "{\"apiVersion\":\"tcpdump.antrea.io/v1alpha1\",\"kind\":\"PodCaptureSet\",\"name\":\""
        + set
        + "\",\"uid\":\""
        + uid
        + "\",\"controller\":true,\"blockOwnerDeletion\":true}";
  }

  static AdmissionRequest create(Map<String, Object> capture, User who) {
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) capture.get("metadata");
    return new AdmissionRequest(
        "CREATE",
        NodeRestrictionPolicyTest.CAPTURE_GROUP,
        NodeRestrictionPolicyTest.CAPTURE_VERSION,
        "podcaptures",
        "",
        "default",
        String.valueOf(meta.get("name")),
        who,
        capture,
        null);
  }

  static AdmissionRequest update(Map<String, Object> old, Map<String, Object> now, User who) {
    return NodeRestrictionPolicyTest.captureUpdate("", old, now, who);
  }

  static void assertDenied(String messagePart, AdmissionRequest request) {
    Decision d = policies.admit(request);
    assertFalse(d.allowed(), "allowed: " + request);
    assertEquals(List.of(), d.errors(), "expressions failed on " + request);
    assertTrue(
        d.denial().startsWith("ValidatingAdmissionPolicy '" + POLICY + "'")
            && d.denial().contains(messagePart),
        request + "\n  denied with: " + d.denial());
  }

  static void assertAllowed(AdmissionRequest request) {
    Decision d = policies.admit(request);
    assertTrue(d.applied().contains(POLICY), "the policy applied to " + request);
    assertTrue(d.allowed(), request + ": " + d.denial());
    assertEquals(List.of(), d.errors());
  }
}
