package io.podcapture.faults;

import io.podcapture.testing.Requirements;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture the fault tests share: an outage-capable API server, a user's view of it, and an in-process agent
 * with real tcpdump writing into a temporary capture folder. Everything is stopped after each test, and any
 * tcpdump still writing into the folder is killed.
 */
abstract class LocalAgentFaultTest {
  @TempDir
  Path captureDir;
  OutageApiServer api;
  Cluster cluster;
  LocalAgent agent;

  @BeforeEach
  void startApiServer() {
    Requirements.realCapture();
    api = new OutageApiServer();
    cluster = new Cluster(api.client());
  }

  @AfterEach
  void stopEverything() {
    if (agent != null) {
      agent.close();
    }
    cluster.client().close();
    api.close();
    Cluster.killProcessesWritingInto(captureDir);
  }

  void startAgent(Map<String, String> env) throws Exception {
    agent = LocalAgent.start(api.client(), captureDir, env);
  }
}
