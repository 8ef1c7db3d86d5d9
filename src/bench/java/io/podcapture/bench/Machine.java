package io.podcapture.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What machine the numbers come from. */
record Machine(int cores, long memoryMiB, String cpu, String kernel, String jvm, String tcpdump) {

  static Machine read() {
    long memKiB = 0;
    String cpu = "?";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          memKiB = Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).strip();
          break;
        }
      }
    } catch (IOException e) {
      // leave unknown
    }
    String kernel = AgentProcess.run(List.of("uname", "-r")).strip();
    String tcpdump =
        AgentProcess.run(List.of("tcpdump", "--version")).lines().findFirst().orElse("?");
    String jvm =
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
    return new Machine(
        Runtime.getRuntime().availableProcessors(), memKiB / 1024, cpu, kernel, jvm, tcpdump);
  }

  /** The 1, 5 and 15 minute load averages. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }
}
