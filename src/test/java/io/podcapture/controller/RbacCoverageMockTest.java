package io.podcapture.controller;

import static io.podcapture.testing.Pods.running;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.podcapture.agentfiles.ApiTokenReviewer;
import io.podcapture.agentfiles.TokenCheck;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.capture.CaptureKey;
import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher.Request;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Records every request the agent makes while it goes through every reconcile path, and checks the
 * result against the agent's roles in {@code deploy/rbac.yaml}: each request is allowed by them,
 * and each verb they grant is used by at least one request (least privilege, both ways).
 */
@Tag("integration")
class RbacCoverageMockTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String AGENT = "podcapture-agent";
  private static final Pattern PATH =
      Pattern.compile(
          "^/(?:api/v1|apis/(?<group>[^/]+)/[^/]+)(?:/namespaces/(?<ns>[^/]+))?/(?<resource>[^/?]+)"
              + "(?:/(?<name>[^/?]+))?(?:/(?<sub>[^/?]+))?(?:\\?(?<query>.*))?$");

  /**
   * One permission as RBAC sees it: verb on group/resource[/subresource], in a namespace ("*" for a
   * ClusterRole's grant, which holds in every namespace).
   */
  record Permission(String verb, String group, String resource, String namespace)
      implements Comparable<Permission> {
    Permission(String verb, String group, String resource) {
      this(verb, group, resource, "*");
    }

    boolean allows(Permission request) {
      return verb.equals(request.verb)
          && group.equals(request.group)
          && resource.equals(request.resource)
          && (namespace.equals("*") || namespace.equals(request.namespace));
    }

    @Override
    public int compareTo(Permission o) {
      return toString().compareTo(o.toString());
    }

    @Override
    public String toString() {
      return verb
          + " "
          + (group.isEmpty() ? "core" : group)
          + "/"
          + resource
          + (namespace.equals("*") ? "" : " in " + namespace);
    }
  }

  static Permission permission(Request request) {
    Matcher m = PATH.matcher(request.path());
    if (!m.matches()) {
      throw new AssertionError("unexpected request path " + request.path());
    }
    String group = m.group("group") == null ? "" : m.group("group");
    String resource = m.group("resource") + (m.group("sub") == null ? "" : "/" + m.group("sub"));
    boolean named = m.group("name") != null;
    String query = m.group("query") == null ? "" : m.group("query");
    String verb =
        switch (request.method()) {
          case "GET" -> named ? "get" : query.contains("watch=true") ? "watch" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> named ? "delete" : "deletecollection";
          default -> throw new AssertionError("unexpected method " + request.method());
        };
    return new Permission(verb, group, resource, m.group("ns") == null ? "*" : m.group("ns"));
  }

  /**
   * The agent's grants in deploy/rbac.yaml: its ClusterRole ({@code podcapture-agent}) everywhere,
   * a Role of that name in the Role's namespace; the agent has no other (no Lease: it takes part in
   * no election).
   */
  static Set<Permission> granted() throws Exception {
    Set<Permission> granted = new TreeSet<>();
    try (InputStream in =
        Files.newInputStream(MockApiServer.projectDir().resolve("deploy/rbac.yaml"))) {
      Object parsed = Serialization.unmarshal(in);
      List<?> docs = parsed instanceof List<?> list ? list : List.of(parsed);
      for (Object doc : docs) {
        if (doc instanceof ClusterRole role && AGENT.equals(role.getMetadata().getName())) {
          add(granted, role.getRules(), "*");
        } else if (doc instanceof Role role && AGENT.equals(role.getMetadata().getName())) {
          add(granted, role.getRules(), role.getMetadata().getNamespace());
        }
      }
    }
    return granted;
  }

  private static void add(Set<Permission> granted, List<PolicyRule> rules, String namespace) {
    for (PolicyRule rule : rules) {
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            granted.add(new Permission(verb, group, resource, namespace));
          }
        }
      }
    }
  }

  @Test
  void theAgentUsesExactlyThePermissionsTheRbacGrants() throws Exception {
    Set<Permission> used = new TreeSet<>();
    try (MockApiServer api = new MockApiServer()) {
      FakePacketCapturer capturer = new FakePacketCapturer();
      try (AgentHarness agent = new AgentHarness(api, capturer, Map.of()).start()) {
        exerciseEveryPath(agent, capturer);
      }
      for (Request r : api.dispatcher().requests()) {
        if (AgentHarness.AGENT_USER_AGENT.equals(r.userAgent())) {
          used.add(permission(r));
        }
      }
    }
    Set<Permission> granted = granted();

    Set<Permission> notGranted = new TreeSet<>();
    for (Permission request : used) {
      if (granted.stream().noneMatch(g -> g.allows(request))) {
        notGranted.add(request);
      }
    }
    assertEquals(Set.of(), notGranted, "requests the RBAC does not allow");
    Set<Permission> unused = new TreeSet<>();
    for (Permission grant : granted) {
      if (used.stream().noneMatch(grant::allows)) {
        unused.add(grant);
      }
    }
    assertEquals(Set.of(), unused, "grants no recorded request needs");
  }

  /**
   * Every path through the passes that talks to the API server (also replayed by the
   * node-restriction test).
   */
  static void exerciseEveryPath(AgentHarness agent, FakePacketCapturer capturer) {
    // Start: PodCapture created, status written, Event created.
    agent.create(running("default", "web", "node-a", "2", "10.1.0.5"));
    awaitPhase(agent, "web", "Running");
    // Annotation changed: spec updated.
    agent.annotate("default", "web", "3");
    await().atMost(WAIT).until(() -> agent.cr("default", "web").getSpec().getMaxFiles() == 3);
    // The same warning twice: the second bumps the Event's count (patch).
    agent.annotate("default", "web", "bad");
    awaitPhase(agent, "web", "Failed");
    agent.annotate("default", "web", "3");
    awaitPhase(agent, "web", "Running");
    agent.annotate("default", "web", "bad");
    await()
        .atMost(WAIT)
        .until(
            () ->
                agent.events("default").stream()
                    .anyMatch(
                        e ->
                            Names.REASON_INVALID_ANNOTATION.equals(e.getReason())
                                && e.getCount() == 2));
    agent.annotate("default", "web", "3");
    awaitPhase(agent, "web", "Running");
    capturer.exit(new CaptureKey("default", "web"), 1, "gone");
    await().atMost(WAIT).until(() -> capturer.starts.size() >= 3);
    // PodCapture deleted by hand: annotation removed from the Pod (patch), finalizer released
    // (patch).
    agent.user.resources(PodCapture.class).inNamespace("default").withName("web").delete();
    await().atMost(WAIT).until(() -> agent.cr("default", "web") == null);
    // Annotation removed: PodCapture deleted.
    agent.create(running("default", "db", "node-a", "2", "10.1.0.6"));
    awaitPhase(agent, "db", "Running");
    agent.annotate("default", "db", null);
    await().atMost(WAIT).until(() -> agent.cr("default", "db") == null);
    // A direct PodCapture labelled with this node: the agent adds its finalizer (patch) and starts
    // it. It completes, and its TTL deletes it (delete).
    agent.create(running("default", "late", "node-a", null, "10.1.0.7"));
    PodCapture direct = PodCaptureControllerMockTest.direct("later", "late");
    direct.getSpec().setPacketCount(10);
    direct.getSpec().setTtlSecondsAfterFinished(0);
    agent.user.resources(PodCapture.class).inNamespace("default").resource(direct).create();
    awaitPhase(agent, "later", "Running");
    capturer.complete(new CaptureKey("default", "later"));
    await().atMost(WAIT).until(() -> agent.cr("default", "later") == null);
    // A direct PodCapture whose Pod is deleted while it runs: Completed, files kept (status update,
    // Event).
    agent.create(running("default", "moving", "node-a", null, "10.1.0.8"));
    agent
        .user
        .resources(PodCapture.class)
        .inNamespace("default")
        .resource(PodCaptureControllerMockTest.direct("moving", "moving"))
        .create();
    awaitPhase(agent, "moving", "Running");
    agent.user.pods().inNamespace("default").withName("moving").delete();
    awaitPhase(agent, "moving", "Completed");
    // A PodCapture labelled with this node whose Pod is on another node: the agent asks for the Pod
    // (get) and hands the PodCapture back to the cluster controller (patch).
    agent.create(running("default", "remote", "node-b", null, "10.2.0.5"));
    agent
        .user
        .resources(PodCapture.class)
        .inNamespace("default")
        .resource(PodCaptureControllerMockTest.direct("api", "remote"))
        .create();
    await()
        .atMost(WAIT)
        .until(() -> PodCaptures.label(agent.cr("default", "api"), Names.LABEL_NODE) == null);
    // An annotation on a Pod whose name is taken by a PodCapture this agent does not hold: create
    // fails (409), the agent reads it (get) and refuses the annotation.
    agent.create(running("default", "api", "node-a", "1", "10.1.0.9"));
    await()
        .atMost(WAIT)
        .until(() -> agent.hasEvent("default", "Pod", "api", Names.REASON_NAME_TAKEN));
    agent.user.resources(PodCapture.class).inNamespace("default").withName("moving").delete();
    await().atMost(WAIT).until(() -> agent.cr("default", "moving") == null);
    assertTrue(capturer.captures().isEmpty());
    // The file server checks a caller's token with a TokenReview before it serves anything. Only
    // the request counts here: the real API server answers it (not authenticated); the CRUD mock
    // refuses a review without a name, which the real server neither needs nor keeps.
    try {
      assertFalse(
          new ApiTokenReviewer(agent.agentClient)
              .review("not-a-token", TokenCheck.AUDIENCE)
              .authenticated());
    } catch (KubernetesClientException e) {
      assertEquals(422, e.getCode(), e.getMessage());
    }
  }

  private static void awaitPhase(AgentHarness agent, String name, String phase) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              PodCapture cr = agent.cr("default", name);
              return cr != null
                  && cr.getStatus() != null
                  && phase.equals(cr.getStatus().getPhase());
            });
  }

  @Test
  void requestPathsMapToRbacPermissions() {
    assertEquals(
        new Permission("watch", "", "pods"),
        permission(
            new Request("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn&watch=true", "", "")));
    assertEquals(
        new Permission("list", "", "pods"),
        permission(new Request("GET", "/api/v1/pods?limit=1", "", "")));
    assertEquals(
        new Permission("patch", "", "pods", "default"),
        permission(new Request("PATCH", "/api/v1/namespaces/default/pods/web", "", "")));
    assertEquals(
        new Permission("update", "tcpdump.antrea.io", "podcaptures/status", "default"),
        permission(
            new Request(
                "PUT",
                "/apis/tcpdump.antrea.io/v1alpha1/namespaces/default/podcaptures/web/status",
                "",
                "")));
    assertEquals(
        new Permission("create", "", "events", "default"),
        permission(new Request("POST", "/api/v1/namespaces/default/events", "", "")));
  }

  @Test
  void aRoleAllowsOnlyInItsNamespaceAndAClusterRoleEverywhere() {
    Permission lease =
        permission(
            new Request(
                "PATCH",
                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podcapture-agent-leader",
                "",
                ""));
    Permission elsewhere =
        permission(
            new Request(
                "PATCH",
                "/apis/coordination.k8s.io/v1/namespaces/default/leases/podcapture-agent-leader",
                "",
                ""));

    assertTrue(
        new Permission("patch", "coordination.k8s.io", "leases", "kube-system").allows(lease));
    assertFalse(
        new Permission("patch", "coordination.k8s.io", "leases", "kube-system").allows(elsewhere));
    assertTrue(new Permission("patch", "coordination.k8s.io", "leases").allows(elsewhere));
  }
}
