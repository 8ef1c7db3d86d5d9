package io.podcapture.faults;

import io.podcapture.testing.AgentHarness;
import io.podcapture.testing.MockApiServer;
import io.podcapture.testing.Processes;
import io.podcapture.testing.Requirements;
import io.podcapture.testing.User;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture the fault tests share: an outage-capable API server, a user's view of it, and an
 * in-process agent with real tcpdump writing into a temporary capture folder. Everything is stopped
 * after each test, and any tcpdump still writing into the folder is killed.
 */
@Tag("real-capture")
abstract class LocalAgentFaultTest {
  @TempDir Path captureDir;
  MockApiServer api;
  User cluster;
  AgentHarness agent;

  @BeforeEach
  void startApiServer() {
    Requirements.realCapture();
    api = new MockApiServer();
    cluster = new User(api.client());
  }

  @AfterEach
  void stopEverything() {
    if (agent != null) {
      agent.close();
    }
    cluster.client().close();
    api.close();
    Processes.killWritingInto(captureDir);
  }

  void startAgent(Map<String, String> env) throws Exception {
    agent = AgentHarness.wholeAgent(api, captureDir, env);
  }
}
