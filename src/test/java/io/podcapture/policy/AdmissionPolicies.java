package io.podcapture.policy;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MatchCondition;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.NamedRuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.Validation;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.Variable;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ValidatingAdmissionPolicies and their bindings from a manifest, with every expression compiled by
 * Google's Java CEL, evaluated as the API server does: a policy applies when a binding with the
 * Deny action names it, its resource rules match the request and all its matchConditions are true;
 * then its variables are computed in order, and the first validation that is false denies the
 * request with its message.
 *
 * <p>The CEL environment declares only {@code object}, {@code oldObject}, {@code request} and
 * {@code variables}, with CEL's standard functions and macros. Kubernetes offers more (params,
 * authorizer, its string and list libraries); an expression using them does not compile here, which
 * keeps the shipped policy to what both implementations agree on.
 */
final class AdmissionPolicies {
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();
  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("object", SimpleType.DYN)
          .addVar("oldObject", SimpleType.DYN)
          .addVar("request", SimpleType.DYN)
          .addVar("variables", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .build();

  /** One expression of a policy, compiled. */
  record Compiled(String where, String expression, CelRuntime.Program program) {
    Object eval(Map<String, Object> activation) throws CelEvaluationException {
      return program.eval(activation);
    }
  }

  record CompiledValidation(Compiled check, String message) {}

  /** A policy that some binding enforces with Deny. */
  record Policy(
      ValidatingAdmissionPolicy source,
      List<Compiled> matchConditions,
      List<Compiled> variables,
      List<String> variableNames,
      List<CompiledValidation> validations) {
    String name() {
      return source.getMetadata().getName();
    }

    boolean matches(AdmissionRequest r) {
      for (NamedRuleWithOperations rule :
          source.getSpec().getMatchConstraints().getResourceRules()) {
        if (matchesAny(rule.getApiGroups(), r.group())
            && matchesAny(rule.getApiVersions(), r.version())
            && matchesAny(rule.getOperations(), r.operation())
            && rule.getResources().stream()
                .anyMatch(res -> matchesResource(res, r.resource(), r.subResource()))) {
          return true;
        }
      }
      return false;
    }

    private static boolean matchesAny(List<String> allowed, String value) {
      return allowed.contains("*") || allowed.contains(value);
    }

    /**
     * "pods" is the object itself, "pods/*" any of its subresources, "*" and "*&#47;*" likewise for
     * all.
     */
    private static boolean matchesResource(String rule, String resource, String subResource) {
      int slash = rule.indexOf('/');
      if (slash < 0) {
        return subResource.isEmpty() && (rule.equals("*") || rule.equals(resource));
      }
      String main = rule.substring(0, slash);
      String sub = rule.substring(slash + 1);
      return !subResource.isEmpty()
          && (main.equals("*") || main.equals(resource))
          && (sub.equals("*") || sub.equals(subResource));
    }
  }

  /**
   * What the policies made of one request.
   *
   * @param applied the policies that applied to it
   * @param denial the first denying policy's message (null when allowed)
   * @param errors expressions that failed to evaluate (each denies the request under failurePolicy
   *     Fail, with an error in place of the policy's message)
   */
  record Decision(List<String> applied, String denial, List<String> errors) {
    boolean allowed() {
      return denial == null;
    }
  }

  private final List<Policy> policies;
  private final List<ValidatingAdmissionPolicyBinding> bindings;

  private AdmissionPolicies(
      List<Policy> policies, List<ValidatingAdmissionPolicyBinding> bindings) {
    this.policies = policies;
    this.bindings = bindings;
  }

  static AdmissionPolicies load(Path file) {
    List<ValidatingAdmissionPolicy> sources = new ArrayList<>();
    List<ValidatingAdmissionPolicyBinding> bindings = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file)) {
      Object parsed = Serialization.unmarshal(in);
      for (Object doc : parsed instanceof List<?> list ? list : List.of(parsed)) {
        if (doc instanceof ValidatingAdmissionPolicy policy) {
          sources.add(policy);
        } else if (doc instanceof ValidatingAdmissionPolicyBinding binding) {
          bindings.add(binding);
        } else {
          throw new IllegalArgumentException(
              file
                  + " holds a "
                  + doc.getClass().getSimpleName()
                  + ": only ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding are expected");
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
    List<Policy> enforced = new ArrayList<>();
    for (ValidatingAdmissionPolicy source : sources) {
      boolean bound =
          bindings.stream()
              .anyMatch(
                  b ->
                      source.getMetadata().getName().equals(b.getSpec().getPolicyName())
                          && b.getSpec().getValidationActions().contains("Deny"));
      if (bound) {
        enforced.add(compile(source));
      }
    }
    return new AdmissionPolicies(enforced, bindings);
  }

  private static Policy compile(ValidatingAdmissionPolicy source) {
    String name = source.getMetadata().getName();
    List<Compiled> conditions = new ArrayList<>();
    for (MatchCondition c : source.getSpec().getMatchConditions()) {
      conditions.add(compile(name + " matchCondition " + c.getName(), c.getExpression()));
    }
    List<Compiled> variables = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Variable v : source.getSpec().getVariables()) {
      variables.add(compile(name + " variable " + v.getName(), v.getExpression()));
      names.add(v.getName());
    }
    List<CompiledValidation> validations = new ArrayList<>();
    int i = 0;
    for (Validation v : source.getSpec().getValidations()) {
      if (v.getMessageExpression() != null) {
        throw new IllegalArgumentException(
            name + " validation " + i + ": messageExpression is not evaluated here");
      }
      validations.add(
          new CompiledValidation(
              compile(name + " validation " + i++, v.getExpression()), v.getMessage()));
    }
    return new Policy(source, conditions, variables, names, validations);
  }

  static Compiled compile(String where, String expression) {
    try {
      CelAbstractSyntaxTree ast = COMPILER.compile(expression).getAst();
      return new Compiled(where, expression, RUNTIME.createProgram(ast));
    } catch (CelValidationException | CelEvaluationException e) {
      throw new IllegalArgumentException(where + " does not compile: " + e.getMessage(), e);
    }
  }

  List<Policy> policies() {
    return policies;
  }

  List<ValidatingAdmissionPolicyBinding> bindings() {
    return bindings;
  }

  /** Every compiled expression, for counting. */
  List<Compiled> expressions() {
    List<Compiled> all = new ArrayList<>();
    for (Policy p : policies) {
      all.addAll(p.matchConditions());
      all.addAll(p.variables());
      p.validations().forEach(v -> all.add(v.check()));
    }
    return all;
  }

  Decision admit(AdmissionRequest request) {
    List<String> applied = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    String denial = null;
    for (Policy policy : policies) {
      if (!policy.matches(request)) {
        continue;
      }
      Map<String, Object> activation = new HashMap<>();
      activation.put("request", request.celRequest());
      activation.put("object", AdmissionRequest.cel(request.object()));
      activation.put("oldObject", AdmissionRequest.cel(request.oldObject()));
      Map<String, Object> variables = new LinkedHashMap<>();
      activation.put("variables", variables);
      String policyDenial = null;
      try {
        boolean applies = true;
        for (Compiled condition : policy.matchConditions()) {
          applies &= isTrue(condition, condition.eval(activation));
        }
        if (!applies) {
          continue;
        }
        applied.add(policy.name());
        // Kubernetes computes a variable when an expression first uses it; here all are computed up
        // front, which gives the same results as long as none fails (an error is reported below
        // either way).
        for (int i = 0; i < policy.variables().size(); i++) {
          variables.put(policy.variableNames().get(i), policy.variables().get(i).eval(activation));
        }
        for (CompiledValidation validation : policy.validations()) {
          if (!isTrue(validation.check(), validation.check().eval(activation))) {
            policyDenial = validation.message();
            break;
          }
        }
      } catch (CelEvaluationException | IllegalStateException e) {
        errors.add(policy.name() + ": " + e.getMessage());
        policyDenial = "error: " + e.getMessage();
      }
      if (denial == null && policyDenial != null) {
        denial =
            "ValidatingAdmissionPolicy '"
                + policy.name()
                + "' with binding '"
                + bindingOf(policy)
                + "' denied request: "
                + policyDenial;
      }
    }
    return new Decision(applied, denial, errors);
  }

  private String bindingOf(Policy policy) {
    return bindings.stream()
        .filter(b -> policy.name().equals(b.getSpec().getPolicyName()))
        .map(b -> b.getMetadata().getName())
        .findFirst()
        .orElseThrow();
  }

  private static boolean isTrue(Compiled expression, Object value) {
    if (value instanceof Boolean b) {
      return b;
    }
    throw new IllegalStateException(expression.where() + " returned " + value + ", not a bool");
  }
}
