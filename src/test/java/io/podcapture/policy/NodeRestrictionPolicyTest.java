package io.podcapture.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.Validation;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.controller.RecordedReconcileRun;
import io.podcapture.policy.AdmissionPolicies.Decision;
import io.podcapture.policy.AdmissionRequest.User;
import io.podcapture.testing.MockApiServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * deploy/node-restriction.yaml's policies for the agent, evaluated with Google's Java CEL: every
 * write the agent makes in the RBAC coverage test's reconcile scenarios is allowed, with the node
 * claim of the agent that made it; forged writes by the same ServiceAccount (another node's
 * objects, other changes than the agent's, no node claim, what only the cluster controller does
 * since issue 21) are denied with the policy's message. (SetPolicyTest covers the policy for sets'
 * children.)
 */
@Tag("integration")
class NodeRestrictionPolicyTest {
  static final String MANIFEST = "deploy/node-restriction.yaml";
  static final String NODE = "node-a";
  static final String OTHER_NODE = "node-b";
  static final String ANNOTATION = "tcpdump.antrea.io";
  static final String NODE_LABEL = "tcpdump.antrea.io/node";
  static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String FINALIZER = "tcpdump.antrea.io/cleanup";
  static final String CAPTURE_GROUP = "tcpdump.antrea.io";
  static final String CAPTURE_VERSION = "v1alpha1";

  // Distinctive parts of the policy's messages, one per validation.
  static final String NO_NODE_CLAIM = "the request carries no node name";
  static final String POD_OF_OTHER_NODE = "may write only Pods of its own node";
  static final String POD_CHANGED = "may only remove the tcpdump.antrea.io annotation from a Pod";
  static final String CAPTURE_OF_OTHER_NODE =
      "may write only PodCaptures labelled tcpdump.antrea.io/node";
  static final String SPEC_CHANGED = "may not change a PodCapture's spec";
  static final String STATUS_WRONG = "may write a PodCapture's status only";
  static final String EVENT_WRONG = "may only record Events about Pods and PodCaptures";

  /**
   * The spec fields of the API decided in issue 11 (DESIGN.md), whether or not the checked-in CRD
   * has them yet.
   */
  static final Map<String, String> DECIDED_SPEC_FIELDS =
      Map.of(
          "podName",
          "string",
          "maxFiles",
          "integer",
          "fileSizeMB",
          "integer",
          "filter",
          "string",
          "durationSeconds",
          "integer",
          "packetCount",
          "integer",
          "snapLength",
          "integer",
          "ttlSecondsAfterFinished",
          "integer");

  static AdmissionPolicies policies;
  static ServiceAccount agentAccount;
  static User agent;
  static List<AdmissionRequest> recordedWrites;

  @BeforeAll
  static void recordTheAgentsWrites() throws Exception {
    policies = AdmissionPolicies.load(MockApiServer.projectDir().resolve(MANIFEST));
    agentAccount = agentServiceAccount();
    agent =
        User.serviceAccount(
            agentAccount.getMetadata().getNamespace(),
            agentAccount.getMetadata().getName(),
            "podcapture-agent-x1",
            NODE);
    recordedWrites =
        AgentWrites.of(
            RecordedReconcileRun.record(),
            agentAccount.getMetadata().getNamespace(),
            agentAccount.getMetadata().getName());
  }

  // ---- the manifest

  @Test
  void everyExpressionOfThePolicyCompilesWithJavaCel() throws IOException {
    int inFile = 0;
    for (ValidatingAdmissionPolicy p : documents(ValidatingAdmissionPolicy.class)) {
      inFile +=
          p.getSpec().getMatchConditions().size()
              + p.getSpec().getVariables().size()
              + p.getSpec().getValidations().size();
    }
    // load() compiled each expression of each bound policy (and throws on the first that does not
    // compile).
    assertEquals(inFile, policies.expressions().size());
    assertEquals(
        List.of(
            "podcapture-agent-pods",
            "podcapture-agent-podcaptures",
            "podcapture-agent-events",
            "podcapture-set-children"),
        policies.policies().stream().map(AdmissionPolicies.Policy::name).toList(),
        "a bound policy for the agent's Pods, PodCaptures and Events, and one for sets' children");
  }

  @Test
  void everyPolicyFailsClosedAndIsBoundToDeny() throws IOException {
    for (ValidatingAdmissionPolicy p : documents(ValidatingAdmissionPolicy.class)) {
      assertEquals("Fail", p.getSpec().getFailurePolicy(), p.getMetadata().getName());
      List<ValidatingAdmissionPolicyBinding> bindings =
          documents(ValidatingAdmissionPolicyBinding.class).stream()
              .filter(b -> p.getMetadata().getName().equals(b.getSpec().getPolicyName()))
              .toList();
      assertEquals(1, bindings.size(), p.getMetadata().getName());
      assertEquals(List.of("Deny"), bindings.get(0).getSpec().getValidationActions());
      assertEquals(
          null, bindings.get(0).getSpec().getParamRef(), "no parameters: nothing to look up");
      for (Validation v : p.getSpec().getValidations()) {
        // The API server refuses a message with a line break.
        assertFalse(v.getMessage().contains("\n"), v.getMessage());
        String prefix =
            p.getMetadata().getName().startsWith("podcapture-agent-")
                ? "podcapture-agent: "
                : "podcapture: ";
        assertTrue(v.getMessage().startsWith(prefix), v.getMessage());
      }
    }
  }

  @Test
  void appliesOnlyToTheAgentsServiceAccountFromTheRbacManifest() {
    AdmissionRequest relabel =
        podUpdate(
            pod("web", NODE, Map.of(ANNOTATION, "3")),
            "{\"metadata\":{\"labels\":" + "{\"app\":\"other\"}}}",
            agent);
    assertEquals(List.of("podcapture-agent-pods"), policies.admit(relabel).applied());

    User admin =
        new User("kubernetes-admin", List.of("system:masters", "system:authenticated"), Map.of());
    User sameNameElsewhere =
        User.serviceAccount("default", agentAccount.getMetadata().getName(), "x", NODE);
    for (User other : List.of(admin, sameNameElsewhere)) {
      Decision d = policies.admit(relabel.withUser(other));
      assertEquals(List.of(), d.applied(), other.username());
      assertTrue(d.allowed());
    }
    // Leases are matched by no policy: the agent has no Lease grant at all (RBAC), and the
    // controller's election Lease is left to its Role in its own namespace.
    Map<String, Object> lease =
        AgentWrites.json(
            "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                + "\"metadata\":{\"name\":\"podcapture-controller\",\"namespace\":\"kube-system\"},"
                + "\"spec\":{\"holderIdentity\":\"agent-a\"}}");
    assertEquals(
        List.of(),
        policies
            .admit(
                new AdmissionRequest(
                    "UPDATE",
                    "coordination.k8s.io",
                    "v1",
                    "leases",
                    "",
                    "kube-system",
                    "podcapture-controller",
                    agent,
                    lease,
                    lease))
            .applied());
  }

  // ---- the agent's real writes

  /** The agent's writes: every one of them is governed by a policy of its own. */
  static List<AdmissionRequest> governedWrites() {
    return recordedWrites;
  }

  @Test
  void theAgentWritesNoLeaseAndEveryWriteItMakesIsGoverned() {
    List<String> others = new ArrayList<>();
    for (AdmissionRequest write : recordedWrites) {
      if ("leases".equals(write.resource())) {
        others.add("a Lease: the election is the controller's since issue 21: " + write);
      }
      if (policies.admit(write).applied().stream()
          .noneMatch(p -> p.startsWith("podcapture-agent-"))) {
        others.add("no policy of the agent's applies to " + write);
      }
    }
    assertFalse(recordedWrites.isEmpty());
    assertEquals(List.of(), others);
  }

  @Test
  void everyWriteTheAgentMakesInItsReconcileScenariosIsAllowed() {
    List<String> refused = new ArrayList<>();
    Map<String, Integer> byKind = new TreeMap<>();
    for (AdmissionRequest write : governedWrites()) {
      Decision d = policies.admit(write);
      byKind.merge(
          write.operation()
              + " "
              + write.resource()
              + (write.subResource().isEmpty() ? "" : "/" + write.subResource()),
          1,
          Integer::sum);
      if (d.applied().stream().noneMatch(p -> p.startsWith("podcapture-agent-"))
          || !d.allowed()
          || !d.errors().isEmpty()) {
        refused.add(write + ": " + d);
      }
    }
    assertEquals(List.of(), refused);
    // Every kind of write the agent makes was among them (what RbacCoverageMockTest's scenarios go
    // through).
    assertEquals(
        Set.of(
            "CREATE podcaptures",
            "UPDATE podcaptures",
            "UPDATE podcaptures/status",
            "DELETE podcaptures",
            "UPDATE pods",
            "CREATE events",
            "UPDATE events"),
        byKind.keySet(),
        "" + byKind);
  }

  @Test
  void withoutTheNodeClaimEveryOneOfTheAgentsWritesIsRefused() {
    List<String> allowed = new ArrayList<>();
    for (AdmissionRequest write : governedWrites()) {
      AdmissionRequest forged = write.withUser(write.user().withoutNode());
      Decision d = policies.admit(forged);
      if (d.allowed() || !d.denial().contains(NO_NODE_CLAIM) || !d.errors().isEmpty()) {
        allowed.add(forged + ": " + d);
      }
    }
    assertFalse(recordedWrites.isEmpty());
    assertEquals(List.of(), allowed);
  }

  // ---- forged writes on Pods

  @Test
  void aLabelChangeOnAPodOfItsNodeIsDenied() {
    Map<String, Object> web = pod("web", NODE, Map.of(ANNOTATION, "3"));
    assertDenied(
        POD_CHANGED, podUpdate(web, "{\"metadata\":{\"labels\":{\"app\":\"not-web\"}}}", agent));
    // Even together with the annotation's removal.
    assertDenied(
        POD_CHANGED,
        podUpdate(
            web,
            "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null},\"labels\":{\"app\":\"not-web\"}}}",
            agent));
  }

  @Test
  void anImageChangeOnAPodOfItsNodeIsDenied() {
    Map<String, Object> web = pod("web", NODE, Map.of(ANNOTATION, "3"));
    String image =
        "{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"evil:latest\"}";
    assertDenied(POD_CHANGED, podUpdate(web, "[" + image + "]", agent));
    // Even together with the annotation's removal.
    assertDenied(
        POD_CHANGED,
        podUpdate(
            web,
            "[{\"op\":\"remove\",\"path\":\"/metadata/annotations/"
                + "tcpdump.antrea.io\"},"
                + image
                + "]",
            agent));
    assertDenied(POD_CHANGED, podUpdate(pod("web", NODE, Map.of()), "[" + image + "]", agent));
  }

  @Test
  void anotherAnnotationChangedOrAFinalizerAddedOnAPodOfItsNodeIsDenied() {
    Map<String, Object> web = pod("web", NODE, Map.of(ANNOTATION, "3", "team", "a"));
    assertDenied(
        POD_CHANGED, podUpdate(web, "{\"metadata\":{\"annotations\":{\"team\":\"b\"}}}", agent));
    assertDenied(
        POD_CHANGED,
        podUpdate(web, "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":\"9\"}}}", agent));
    assertDenied(
        POD_CHANGED,
        podUpdate(
            web,
            "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null},"
                + "\"finalizers\":[\"x/y\"]}}",
            agent));
    assertDenied(
        POD_CHANGED,
        podUpdate(
            web,
            "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null},"
                + "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n\",\"uid\":\"u\"}]}}",
            agent));
    assertDenied(
        POD_CHANGED,
        podUpdate(
            web,
            "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null," + "\"team\":null}}}",
            agent));
    assertDenied(
        POD_CHANGED,
        podUpdate(
            web,
            "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null," + "\"team\":\"b\"}}}",
            agent));
    assertDenied(
        POD_CHANGED,
        podUpdate(
            web,
            "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null," + "\"new\":\"x\"}}}",
            agent));
    // An update that leaves the annotation in place is no removal.
    assertDenied(POD_CHANGED, podUpdate(web, "{}", agent));
    // Removing only the annotation, with another one kept, is the agent's write.
    assertAllowed(
        podUpdate(web, "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null}}}", agent));
  }

  @Test
  void removingTheAnnotationFromAPodOfAnotherNodeIsDenied() {
    Map<String, Object> elsewhere = pod("web", OTHER_NODE, Map.of(ANNOTATION, "3"));
    assertDenied(
        POD_OF_OTHER_NODE,
        podUpdate(
            elsewhere, "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null}}}", agent));
    // The same write by the agent of that node is its own.
    assertAllowed(
        podUpdate(
            elsewhere,
            "{\"metadata\":{\"annotations\":{\"tcpdump.antrea.io\":null}}}",
            User.serviceAccount(
                agentAccount.getMetadata().getNamespace(),
                agentAccount.getMetadata().getName(),
                "podcapture-agent-x2",
                OTHER_NODE)));
  }

  @Test
  void otherWritesOnPodsAreDenied() {
    Map<String, Object> web = pod("web", NODE, Map.of(ANNOTATION, "3"));
    assertDenied(
        POD_CHANGED,
        new AdmissionRequest("DELETE", "", "v1", "pods", "", "default", "web", agent, null, web));
    assertDenied(
        POD_CHANGED,
        new AdmissionRequest("CREATE", "", "v1", "pods", "", "default", "web", agent, web, null));
    Map<String, Object> ready = AgentWrites.patched(web, "{\"status\":{\"phase\":\"Failed\"}}");
    assertDenied(
        POD_CHANGED,
        new AdmissionRequest(
            "UPDATE", "", "v1", "pods", "status", "default", "web", agent, ready, web));
  }

  // ---- forged writes on PodCaptures

  @Test
  void aPodCaptureStatusWrittenForAnotherNodesPodIsDenied() {
    Map<String, Object> theirs =
        podCapture("web", "web", Map.of(NODE_LABEL, OTHER_NODE), List.of(FINALIZER));
    Map<String, Object> forged =
        AgentWrites.patched(
            theirs,
            "{\"status\":{\"phase\":\"Failed\",\"node\":\"node-a\",\"message\":\"forged\"}}");
    assertDenied(CAPTURE_OF_OTHER_NODE, captureUpdate("status", theirs, forged, agent));
    // ... and claiming the other node in status.node on its own PodCapture is no better.
    Map<String, Object> mine =
        podCapture("web", "web", Map.of(NODE_LABEL, NODE), List.of(FINALIZER));
    assertDenied(
        STATUS_WRONG,
        captureUpdate(
            "status",
            mine,
            AgentWrites.patched(mine, "{\"status\":{\"phase\":\"Running\",\"node\":\"node-b\"}}"),
            agent));
  }

  @Test
  void anotherNodesPodCaptureCannotBeTakenOverDeletedOrCreated() {
    Map<String, Object> theirs =
        podCapture("web", "web", Map.of(NODE_LABEL, OTHER_NODE), List.of(FINALIZER));
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        captureUpdate(
            "",
            theirs,
            AgentWrites.patched(
                theirs, "{\"metadata\":{\"labels\":{\"tcpdump.antrea.io/node\":\"node-a\"}}}"),
            agent));
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        captureUpdate(
            "",
            theirs,
            AgentWrites.patched(theirs, "{\"metadata\":{\"finalizers\":null}}"),
            agent));
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        new AdmissionRequest(
            "DELETE",
            CAPTURE_GROUP,
            CAPTURE_VERSION,
            "podcaptures",
            "",
            "default",
            "web",
            agent,
            null,
            theirs));
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        new AdmissionRequest(
            "CREATE",
            CAPTURE_GROUP,
            CAPTURE_VERSION,
            "podcaptures",
            "",
            "default",
            "web",
            agent,
            theirs,
            null));
    // Handing its own PodCapture to another node is not letting go of it.
    Map<String, Object> mine =
        podCapture("web", "web", Map.of(NODE_LABEL, NODE), List.of(FINALIZER));
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        captureUpdate(
            "",
            mine,
            AgentWrites.patched(
                mine, "{\"metadata\":{\"labels\":{\"tcpdump.antrea.io/node\":\"node-b\"}}}"),
            agent));
    Map<String, Object> unlabelled = podCapture("web", "web", Map.of(), List.of());
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        new AdmissionRequest(
            "DELETE",
            CAPTURE_GROUP,
            CAPTURE_VERSION,
            "podcaptures",
            "",
            "default",
            "web",
            agent,
            null,
            unlabelled));
  }

  @Test
  void aPodCaptureNoNodeHoldsIsTheControllersAndNoAgentWritesIt() {
    Map<String, Object> unlabelled = podCapture("db", "db", Map.of("team", "a"), List.of());
    // Labelling it with the Pod's node, another node or its own, is the controller's answer now,
    // even when nothing else changes.
    for (String node : List.of(OTHER_NODE, NODE)) {
      assertDenied(
          CAPTURE_OF_OTHER_NODE,
          captureUpdate(
              "",
              unlabelled,
              AgentWrites.patched(
                  unlabelled,
                  "{\"metadata\":{\"labels\":{\"tcpdump.antrea.io/node\":\"" + node + "\"}}}"),
              agent));
    }
    // So is its status: Pending with the reason (PodNotFound, NoAgentOnNode) or any other.
    for (String phase : List.of("Pending", "Failed")) {
      assertDenied(
          CAPTURE_OF_OTHER_NODE,
          captureUpdate(
              "status",
              unlabelled,
              AgentWrites.patched(
                  unlabelled,
                  "{\"status\":{\"phase\":\""
                      + phase
                      + "\",\"message\":\"Pod db does not exist\"}}"),
              agent));
    }
    // Changing it without labelling it.
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        captureUpdate(
            "",
            unlabelled,
            AgentWrites.patched(
                unlabelled, "{\"metadata\":{\"finalizers\":[\"tcpdump.antrea.io/cleanup\"]}}"),
            agent));
    // Adopting it as the annotation's PodCapture needs it to be named after its Pod.
    Map<String, Object> otherName = podCapture("cap-1", "db", Map.of(), List.of());
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        captureUpdate(
            "",
            otherName,
            AgentWrites.patched(
                otherName,
                "{\"metadata\":{\"labels\":{\""
                    + MANAGED_BY
                    + "\":\"podcapture-agent\",\""
                    + NODE_LABEL
                    + "\":\"node-a\"}}}"),
            agent));
  }

  @Test
  void aStatusForAPodCaptureOfAnotherNodeIsDeniedWhateverItsPhase() {
    Map<String, Object> theirs =
        podCapture("web", "web", Map.of(NODE_LABEL, OTHER_NODE), List.of(FINALIZER));
    assertDenied(
        CAPTURE_OF_OTHER_NODE,
        captureUpdate(
            "status",
            theirs,
            AgentWrites.patched(
                theirs, "{\"status\":{\"phase\":\"Pending\",\"message\":\"no agent on node-b\"}}"),
            agent));
  }

  static Stream<String> guardedSpecFields() {
    Set<String> fields = new TreeSet<>(DECIDED_SPEC_FIELDS.keySet());
    fields.addAll(crdSpecFields().keySet());
    fields.remove("maxFiles");
    return fields.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("guardedSpecFields")
  void changingAUsersPodCaptureSpecIsDenied(String field) {
    String type = crdSpecFields().getOrDefault(field, DECIDED_SPEC_FIELDS.get(field));
    assertNotNull(type, field);
    Object before = type.equals("integer") ? 1 : type.equals("boolean") ? false : "before";
    Object after = type.equals("integer") ? 2 : type.equals("boolean") ? true : "after";
    // A direct PodCapture the agent has taken on, and the annotation's own PodCapture.
    for (Map<String, String> labels :
        List.of(
            Map.of(NODE_LABEL, NODE), Map.of(NODE_LABEL, NODE, MANAGED_BY, "podcapture-agent"))) {
      Map<String, Object> mine = podCapture("web", "web", labels, List.of(FINALIZER));
      Map<String, Object> old =
          AgentWrites.patched(
              mine, "{\"spec\":{\"" + field + "\":" + Serialization.asJson(before) + "}}");
      for (String change : List.of(Serialization.asJson(after), "null")) {
        Map<String, Object> changed =
            AgentWrites.patched(old, "{\"spec\":{\"" + field + "\":" + change + "}}");
        assertDenied(SPEC_CHANGED, captureUpdate("", old, changed, agent));
        assertDenied(SPEC_CHANGED, captureUpdate("", changed, old, agent));
      }
    }
  }

  @Test
  void maxFilesChangesOnlyOnTheAnnotationsPodCapture() {
    Map<String, Object> direct =
        podCapture("web", "web", Map.of(NODE_LABEL, NODE), List.of(FINALIZER));
    assertDenied(
        SPEC_CHANGED,
        captureUpdate(
            "", direct, AgentWrites.patched(direct, "{\"spec\":{\"maxFiles\":7}}"), agent));
    assertDenied(
        SPEC_CHANGED,
        captureUpdate(
            "", direct, AgentWrites.patched(direct, "{\"spec\":{\"maxFiles\":null}}"), agent));
    Map<String, Object> someoneElses =
        podCapture(
            "web", "web", Map.of(NODE_LABEL, NODE, MANAGED_BY, "someone-else"), List.of(FINALIZER));
    assertDenied(
        SPEC_CHANGED,
        captureUpdate(
            "",
            someoneElses,
            AgentWrites.patched(someoneElses, "{\"spec\":{\"maxFiles\":7}}"),
            agent));
    Map<String, Object> otherName =
        podCapture(
            "mine",
            "web",
            Map.of(NODE_LABEL, NODE, MANAGED_BY, "podcapture-agent"),
            List.of(FINALIZER));
    assertDenied(
        SPEC_CHANGED,
        captureUpdate(
            "", otherName, AgentWrites.patched(otherName, "{\"spec\":{\"maxFiles\":7}}"), agent));
    Map<String, Object> annotations =
        podCapture(
            "web",
            "web",
            Map.of(NODE_LABEL, NODE, MANAGED_BY, "podcapture-agent"),
            List.of(FINALIZER));
    assertAllowed(
        captureUpdate(
            "",
            annotations,
            AgentWrites.patched(annotations, "{\"spec\":{\"maxFiles\":7}}"),
            agent));
  }

  // ---- Events

  @Test
  void eventsAboutOtherKindsOrClaimingAnotherNodeAreDenied() {
    assertAllowed(eventCreate(event("Pod", NODE)));
    assertAllowed(eventCreate(event("PodCapture", NODE)));
    assertDenied(EVENT_WRONG, eventCreate(event("Secret", NODE)));
    assertDenied(EVENT_WRONG, eventCreate(event("Pod", OTHER_NODE)));
    Map<String, Object> theirs = event("Pod", OTHER_NODE);
    assertDenied(
        EVENT_WRONG,
        new AdmissionRequest(
            "UPDATE",
            "",
            "v1",
            "events",
            "",
            "default",
            "web.1",
            agent,
            AgentWrites.patched(theirs, "{\"count\":9}"),
            theirs));
    // Taking another node's Event over as one's own while bumping it.
    assertDenied(
        EVENT_WRONG,
        new AdmissionRequest(
            "UPDATE",
            "",
            "v1",
            "events",
            "",
            "default",
            "web.1",
            agent,
            AgentWrites.patched(theirs, "{\"count\":9,\"source\":{\"host\":\"node-a\"}}"),
            theirs));
    Map<String, Object> mine = event("Pod", NODE);
    assertAllowed(
        new AdmissionRequest(
            "UPDATE",
            "",
            "v1",
            "events",
            "",
            "default",
            "web.1",
            agent,
            AgentWrites.patched(mine, "{\"count\":2}"),
            mine));
    assertDenied(
        EVENT_WRONG,
        new AdmissionRequest(
            "UPDATE",
            "",
            "v1",
            "events",
            "",
            "default",
            "web.1",
            agent,
            AgentWrites.patched(mine, "{\"involvedObject\":{\"name\":\"db\"}}"),
            mine));
    assertDenied(
        EVENT_WRONG,
        new AdmissionRequest(
            "DELETE", "", "v1", "events", "", "default", "web.1", agent, null, mine));
  }

  // ---- the agent's writes on direct and annotation PodCaptures

  @Test
  void adoptingAPodCaptureNamedAfterItsPodIsAllowed() {
    Map<String, Object> users = podCapture("web", "web", Map.of(), List.of());
    Map<String, Object> adopted =
        AgentWrites.patched(
            users,
            "{\"metadata\":{\"labels\":{\""
                + MANAGED_BY
                + "\":\"podcapture-agent\",\""
                + NODE_LABEL
                + "\":\"node-a\"},\"finalizers\":[\""
                + FINALIZER
                + "\"],\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"web\",\"uid\":\"u1\"}]},"
                + "\"spec\":{\"maxFiles\":5}}");
    assertAllowed(captureUpdate("", users, adopted, agent));
  }

  @Test
  void runningAndHandingBackADirectPodCaptureTheControllerLabelledIsAllowed() {
    Map<String, Object> direct = podCapture("cap-443", "web", Map.of(NODE_LABEL, NODE), List.of());
    Map<String, Object> taken =
        AgentWrites.patched(direct, "{\"metadata\":{\"finalizers\":[\"" + FINALIZER + "\"]}}");
    assertAllowed(captureUpdate("", direct, taken, agent));
    assertAllowed(
        captureUpdate(
            "status",
            taken,
            AgentWrites.patched(taken, "{\"status\":{\"phase\":\"Running\",\"node\":\"node-a\"}}"),
            agent));
    // Its Pod is not on the node: the agent removes its node label, handing it back to the
    // controller (and may release its finalizer).
    assertAllowed(
        captureUpdate(
            "",
            taken,
            AgentWrites.patched(taken, "{\"metadata\":{\"labels\":{\"" + NODE_LABEL + "\":null}}}"),
            agent));
    // Finished and past its TTL: deleted, then its finalizer released by a JSON patch.
    assertAllowed(
        new AdmissionRequest(
            "DELETE",
            CAPTURE_GROUP,
            CAPTURE_VERSION,
            "podcaptures",
            "",
            "default",
            "cap-443",
            agent,
            null,
            taken));
    assertAllowed(
        captureUpdate(
            "",
            taken,
            AgentWrites.patched(
                taken,
                "[{\"op\":\"test\",\"path\":"
                    + "\"/metadata/finalizers\",\"value\":[\""
                    + FINALIZER
                    + "\"]},{\"op\":\"replace\",\"path\":"
                    + "\"/metadata/finalizers\",\"value\":[]}]"),
            agent));
  }

  // ---- helpers

  static void assertDenied(String messagePart, AdmissionRequest request) {
    Decision d = policies.admit(request);
    assertFalse(d.allowed(), "allowed: " + request);
    assertEquals(List.of(), d.errors(), "expressions failed on " + request);
    String message = policyMessage(messagePart);
    assertTrue(
        d.denial().endsWith("denied request: " + message),
        request + "\n  denied with: " + d.denial() + "\n  expected: " + message);
  }

  static void assertAllowed(AdmissionRequest request) {
    Decision d = policies.admit(request);
    assertFalse(d.applied().isEmpty(), "no policy applied to " + request);
    assertTrue(d.allowed(), request + ": " + d.denial());
    assertEquals(List.of(), d.errors());
  }

  /**
   * The one validation message of the manifest that contains this part (the same text in all three
   * policies).
   */
  static String policyMessage(String part) {
    Set<String> found =
        policies.policies().stream()
            .flatMap(
                p -> p.validations().stream().map(AdmissionPolicies.CompiledValidation::message))
            .filter(m -> m.contains(part))
            .collect(Collectors.toSet());
    assertEquals(1, found.size(), "messages containing '" + part + "': " + found);
    return found.iterator().next();
  }

  static AdmissionRequest podUpdate(Map<String, Object> pod, String patch, User who) {
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) pod.get("metadata");
    return new AdmissionRequest(
        "UPDATE",
        "",
        "v1",
        "pods",
        "",
        String.valueOf(meta.get("namespace")),
        String.valueOf(meta.get("name")),
        who,
        AgentWrites.patched(pod, patch),
        pod);
  }

  static AdmissionRequest captureUpdate(
      String sub, Map<String, Object> old, Map<String, Object> object, User who) {
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) old.get("metadata");
    return new AdmissionRequest(
        "UPDATE",
        CAPTURE_GROUP,
        CAPTURE_VERSION,
        "podcaptures",
        sub,
        "default",
        String.valueOf(meta.get("name")),
        who,
        object,
        old);
  }

  static AdmissionRequest eventCreate(Map<String, Object> event) {
    return new AdmissionRequest(
        "CREATE", "", "v1", "events", "", "default", "web.1", agent, event, null);
  }

  static Map<String, Object> pod(String name, String node, Map<String, String> annotations) {
    return AgentWrites.json(
        """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"default","uid":"u-%s",
         "labels":{"app":"web"},"annotations":%s},
         "spec":{"nodeName":"%s","containers":[{"name":"c","image":"busybox"}]},
         "status":{"phase":"Running","podIP":"10.1.0.5"}}
        """
            .formatted(name, name, Serialization.asJson(new TreeMap<>(annotations)), node));
  }

  static Map<String, Object> podCapture(
      String name, String podName, Map<String, String> labels, List<String> finalizers) {
    return AgentWrites.json(
        """
        {"apiVersion":"tcpdump.antrea.io/v1alpha1","kind":"PodCapture",
         "metadata":{"name":"%s","namespace":"default","uid":"pc-%s","labels":%s,"finalizers":%s},
         "spec":{"podName":"%s","maxFiles":1,"fileSizeMB":1}}
        """
            .formatted(
                name,
                name,
                Serialization.asJson(new TreeMap<>(labels)),
                Serialization.asJson(finalizers),
                podName));
  }

  static Map<String, Object> event(String kind, String sourceHost) {
    return AgentWrites.json(
        """
        {"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1","namespace":"default"},
         "involvedObject":{"kind":"%s","name":"web","namespace":"default"},"reason":"CaptureStarted",
         "message":"m","type":"Normal","count":1,"source":{"component":"podcapture-agent","host":"%s"},
         "reportingComponent":"podcapture-agent","reportingInstance":"%s"}
        """
            .formatted(kind, sourceHost, sourceHost));
  }

  /** The spec fields of the checked-in CRD, with their OpenAPI types. */
  static Map<String, String> crdSpecFields() {
    JSONSchemaProps spec = MockApiServer.crdSpecSchema();
    Map<String, String> fields = new LinkedHashMap<>();
    spec.getProperties().forEach((name, schema) -> fields.put(name, schema.getType()));
    return fields;
  }

  static ServiceAccount agentServiceAccount() throws IOException {
    List<ServiceAccount> accounts = documents(Path.of("deploy/rbac.yaml"), ServiceAccount.class);
    assertEquals(1, accounts.size());
    return accounts.get(0);
  }

  static <T> List<T> documents(Class<T> type) throws IOException {
    return documents(Path.of(MANIFEST), type);
  }

  static <T> List<T> documents(Path relative, Class<T> type) throws IOException {
    try (InputStream in = Files.newInputStream(MockApiServer.projectDir().resolve(relative))) {
      Object parsed = Serialization.unmarshal(in);
      List<?> docs = parsed instanceof List<?> list ? list : List.of(parsed);
      return docs.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }
}
