package io.podcapture.controller;

import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher.Request;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;

/**
 * Every request made while the agent goes through {@link RbacCoverageMockTest}'s reconcile scenarios, the
 * user's and the agent's, in the order the mock API server received them, with bodies. Other checks of the
 * agent's requests (the node-restriction policy) read them from here, so they follow the scenarios as those
 * change instead of keeping a copy.
 *
 * @param requests every request, in order (the CRD's registration and the user's writes included)
 * @param nodeByUserAgent the node of each agent that made requests, by its User-Agent
 */
public record RecordedReconcileRun(List<Request> requests, Map<String, String> nodeByUserAgent) {

  /** Runs the scenarios against a fresh mock API server and returns what it recorded. */
  public static RecordedReconcileRun record() throws Exception {
    try (MockApiServer api = new MockApiServer()) {
      FakePacketCapturer capturer = new FakePacketCapturer();
      String node;
      try (AgentHarness agent = new AgentHarness(api, capturer, Map.of()).start()) {
        node = agent.config.nodeName();
        scenarios().invoke(null, agent, capturer);
      } catch (InvocationTargetException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
      return new RecordedReconcileRun(api.dispatcher().requests(), Map.of(AgentHarness.AGENT_USER_AGENT, node));
    }
  }

  /**
   * The scenario method of the RBAC coverage test. It is private there, and that file belongs to the controller
   * work: reached by reflection until it offers a package-visible way to run the scenarios.
   */
  private static Method scenarios() {
    try {
      Method m = RbacCoverageMockTest.class.getDeclaredMethod("exerciseEveryPath", AgentHarness.class,
          FakePacketCapturer.class);
      m.setAccessible(true);
      return m;
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException("RbacCoverageMockTest no longer has exerciseEveryPath(AgentHarness, "
          + "FakePacketCapturer): point RecordedReconcileRun at the method that now runs its scenarios", e);
    }
  }
}
