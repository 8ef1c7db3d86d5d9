package io.podcapture.sets;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A set's {@code spec.selector} parsed into the label-selector query the API server takes ({@code
 * app=web,tier in (a,b),!canary}), with the rules kube-apiserver applies to label keys and values,
 * so that a selector the API server would refuse never reaches a watch. Equal selectors give equal
 * queries (labels sorted, values sorted): two sets with the same selector share one Pod watch.
 */
public final class SetSelector {
  private static final int MAX_NAME = 63;
  private static final int MAX_PREFIX = 253;
  private static final Pattern NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern PREFIX = Pattern.compile(DNS_LABEL + "(\\." + DNS_LABEL + ")*");

  private SetSelector() {}

  /** The outcome of parsing: a query, or what is wrong. */
  public sealed interface Parsed permits Valid, Invalid {}

  /** A selector the API server accepts, as its query string. */
  public record Valid(String query) implements Parsed {}

  /** A selector refused, with a message for the set's status. */
  public record Invalid(String message) implements Parsed {}

  public static Parsed parse(LabelSelector selector) {
    if (selector == null) {
      return new Invalid("spec.selector is missing: say which Pods of the namespace to capture");
    }
    Map<String, String> labels =
        new TreeMap<>(selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels());
    List<LabelSelectorRequirement> expressions =
        selector.getMatchExpressions() == null ? List.of() : selector.getMatchExpressions();
    if (labels.isEmpty() && expressions.isEmpty()) {
      return new Invalid(
          "spec.selector is empty: it would select every Pod of the namespace; give matchLabels"
              + " or matchExpressions");
    }
    List<String> terms = new ArrayList<>();
    for (Map.Entry<String, String> e : labels.entrySet()) {
      String problem = keyProblem(e.getKey());
      if (problem == null) {
        problem = valueProblem(e.getValue());
      }
      if (problem != null) {
        return new Invalid("spec.selector.matchLabels[\"" + e.getKey() + "\"]: " + problem);
      }
      terms.add(e.getKey() + "=" + e.getValue());
    }
    for (int i = 0; i < expressions.size(); i++) {
      LabelSelectorRequirement r = expressions.get(i);
      String where = "spec.selector.matchExpressions[" + i + "]: ";
      String problem = keyProblem(r.getKey());
      if (problem != null) {
        return new Invalid(where + problem);
      }
      List<String> values =
          r.getValues() == null ? List.of() : r.getValues().stream().sorted().distinct().toList();
      String operator = r.getOperator() == null ? "" : r.getOperator();
      switch (operator) {
        case "In", "NotIn" -> {
          if (values.isEmpty()) {
            return new Invalid(where + "operator " + operator + " needs at least one value");
          }
          for (String v : values) {
            String bad = valueProblem(v);
            if (bad != null) {
              return new Invalid(where + bad);
            }
          }
          String word = "In".equals(operator) ? " in (" : " notin (";
          terms.add(r.getKey() + word + String.join(",", values) + ")");
        }
        case "Exists", "DoesNotExist" -> {
          if (!values.isEmpty()) {
            return new Invalid(where + "operator " + operator + " takes no values");
          }
          terms.add(("Exists".equals(operator) ? "" : "!") + r.getKey());
        }
        default -> {
          return new Invalid(
              where
                  + "operator \""
                  + operator
                  + "\" is not one of In, NotIn, Exists, DoesNotExist");
        }
      }
    }
    return new Valid(String.join(",", terms));
  }

  /** Why a label key is refused, or null: {@code [prefix/]name}, as kube-apiserver checks it. */
  static String keyProblem(String key) {
    if (key == null || key.isEmpty()) {
      return "a label key must not be empty";
    }
    String name = key;
    int slash = key.indexOf('/');
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      name = key.substring(slash + 1);
      if (prefix.isEmpty() || prefix.length() > MAX_PREFIX || !PREFIX.matcher(prefix).matches()) {
        return "label key \""
            + key
            + "\" has an invalid prefix: a DNS subdomain of at most 253 characters is accepted";
      }
    }
    if (name.isEmpty() || name.length() > MAX_NAME || !NAME.matcher(name).matches()) {
      return "label key \""
          + key
          + "\" is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending"
          + " with a letter or digit";
    }
    return null;
  }

  /** Why a label value is refused, or null. */
  static String valueProblem(String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    if (value.length() > MAX_NAME || !NAME.matcher(value).matches()) {
      return "label value \""
          + value
          + "\" is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending"
          + " with a letter or digit";
    }
    return null;
  }
}
