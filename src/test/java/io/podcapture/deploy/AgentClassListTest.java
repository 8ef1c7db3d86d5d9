package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deploy/agent.classlist, from which the image makes its class data archive (see the Dockerfile),
 * names classes that exist: a class renamed or removed since the list was written would be left out
 * of the archive, silently. Written by {@code bench/run.sh --phases=footprint --footprint=shipped
 * --server=mock --classlist=deploy/agent.classlist} (docs/development.md).
 */
class AgentClassListTest {

  private static List<String> classes() {
    return ProjectFiles.read("deploy/agent.classlist")
        .lines()
        .filter(line -> !line.isBlank() && !line.startsWith("#") && !line.startsWith("@"))
        .map(line -> line.split("\\s+")[0].replace('/', '.'))
        // dynamic proxies (jdk.proxyN.$ProxyM) are made at run time; the dump skips them
        .filter(name -> !name.startsWith("jdk.proxy"))
        .toList();
  }

  @Test
  void everyClassTheListNamesExists() {
    List<String> missing = new ArrayList<>();
    for (String name : classes()) {
      try {
        Class.forName(name, false, getClass().getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        missing.add(name);
      }
    }
    assertEquals(
        List.of(),
        missing,
        "classes in deploy/agent.classlist that are gone: write the list again (docs/development.md)");
  }

  @Test
  void theListIsOfAnAgentThatRanCapturesAndServedFiles() {
    List<String> classes = classes();
    for (String expected :
        List.of(
            "io.podcapture.Main",
            "io.podcapture.capture.CaptureManager",
            "io.podcapture.agentfiles.FilesServer",
            "sun.security.ssl.SSLEngineImpl")) {
      assertTrue(classes.contains(expected), expected + " is not in deploy/agent.classlist");
    }
  }
}
