package io.podcapture.bench;

import java.util.ArrayList;
import java.util.List;

/** The targets the results are held to, in the order the phases ran, for the table at the top. */
final class Targets {

  /** One target: what it asks, what was measured, and whether that meets it. */
  record Target(String what, String measured, boolean met) {}

  private final List<Target> all = new ArrayList<>();

  void add(String what, String measured, boolean met) {
    all.add(new Target(what, measured, met));
  }

  String markdown() {
    StringBuilder md = new StringBuilder("## Targets\n\n| target | measured | |\n|---|---|---|\n");
    for (Target t : all) {
      md.append("| ")
          .append(t.what())
          .append(" | ")
          .append(t.measured())
          .append(" | ")
          .append(t.met() ? "met" : "**missed**")
          .append(" |\n");
    }
    return md.append('\n').toString();
  }
}
