package io.podcapture.controller;

import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.NodeAwareCrudDispatcher.Request;
import java.util.List;
import java.util.Map;

/**
 * Every request made while the agent goes through {@link RbacCoverageMockTest}'s reconcile
 * scenarios, the user's and the agent's, in the order the mock API server received them, with
 * bodies. Other checks of the agent's requests (the node-restriction policy) read them from here,
 * so they follow the scenarios as those change instead of keeping a copy.
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
        RbacCoverageMockTest.exerciseEveryPath(agent, capturer);
      }
      return new RecordedReconcileRun(
          api.dispatcher().requests(), Map.of(AgentHarness.AGENT_USER_AGENT, node));
    }
  }
}
