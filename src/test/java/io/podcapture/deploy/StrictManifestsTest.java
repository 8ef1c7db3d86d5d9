package io.podcapture.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proves that {@link StrictManifests} catches the mistakes it is there for, by breaking the
 * project's real manifests one typo at a time: each broken copy must be reported, at the right
 * place.
 */
class StrictManifestsTest {

  @ParameterizedTest(name = "{0}: ''{1}'' -> ''{2}''")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      # file                                   | correct text                 | typo                         | reported
      deploy/daemonset.yaml                    | readOnlyRootFilesystem:      | readOnlyRootFileSystem:      | spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem
      deploy/daemonset.yaml                    | hostNetwork:                 | hostNetwrok:                 | spec.template.spec.hostNetwrok
      deploy/daemonset.yaml                    | allowPrivilegeEscalation:    | allowPrivilegeEscalaton:     | securityContext.allowPrivilegeEscalaton
      deploy/daemonset.yaml                    | updateStrategy:              | updatestrategy:              | spec.updatestrategy
      deploy/daemonset.yaml                    | sizeLimit: 2Gi               | sizelimit: 2Gi               | spec.template.spec.volumes[0].emptyDir.sizelimit
      deploy/daemonset.yaml                    | kind: DaemonSet              | kind: Daemonset              | no typed model for apps/v1 Daemonset
      deploy/rbac.yaml                         | verbs:                       | verb:                        | rules[0].verb
      deploy/rbac.yaml                         | roleRef:                     | roleref:                     | roleref
      deploy/test-pod.yaml                     | seccompProfile:              | seccompProfle:               | securityContext.seccompProfle
      examples/annotated-pod.yaml              | annotations:                 | anotations:                  | metadata.anotations
      examples/podcapture-sample-output.yaml   | finalizers:                  | finaliser:                   | items[0].metadata.finaliser
      examples/podcapture-sample-output.yaml   | - type: Ready                | - typ: Ready                 | items[0].status.conditions[0].typ
      examples/podcapture-sample-output.yaml   | sizeBytes: 1000184           | sizeByte: 1000184            | Unrecognized field "sizeByte"
      examples/podcapture-sample-output.yaml   | maxFiles: 5                  | maxfiles: 5                  | Unrecognized field "maxfiles"
      examples/podcapture-sample-output.yaml   | observedGeneration: 1\\n      restartCount | observedGen: 1\\n      restartCount | Unrecognized field "observedGen"
      crds/podcaptures.tcpdump.antrea.io.yaml  | shortNames:                  | shortName:                   | spec.names.shortName
      """)
  void aMisspelledFieldIsReportedWhereItIs(
      String file, String correct, String typo, String reported) {
    List<String> problems =
        problemsAfterReplacing(file, correct.replace("\\n", "\n"), typo.replace("\\n", "\n"));

    assertTrue(
        problems.stream().anyMatch(p -> p.contains(reported)),
        "expected a problem mentioning '" + reported + "', got " + problems);
  }

  @ParameterizedTest(name = "{0}: ''{1}'' -> ''{2}''")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      # file                        | correct text               | wrong type                 | reported
      examples/annotated-pod.yaml   | tcpdump.antrea.io: "5"     | tcpdump.antrea.io: 5       | Cannot coerce Integer value (5) to `java.lang.String`
      deploy/daemonset.yaml         | prometheus.io/scrape: "true" | prometheus.io/scrape: true | Cannot coerce Boolean value (true) to `java.lang.String`
      deploy/daemonset.yaml         | value: "64"                | value: 64                  | Cannot coerce Integer value (64) to `java.lang.String`
      deploy/daemonset.yaml         | containerPort: 9397        | containerPort: "9397"      | Cannot coerce String value ("9397") to `java.lang.Integer`
      deploy/daemonset.yaml         | hostNetwork: true          | hostNetwork: "true"        | Cannot coerce String value ("true") to `java.lang.Boolean`
      examples/podcapture-sample-output.yaml | fileCount: 3      | fileCount: "3"             | Cannot coerce String value ("3") to `java.lang.Integer`
      """)
  void aScalarOfTheWrongTypeIsReported(String file, String correct, String wrong, String reported) {
    List<String> problems = problemsAfterReplacing(file, correct, wrong);

    assertTrue(
        problems.stream().anyMatch(p -> p.contains(reported)),
        "expected a problem mentioning '" + reported + "', got " + problems);
  }

  @Test
  void aDuplicateKeyIsRejected() {
    String yaml =
        replaceOnce(
            ProjectFiles.read("deploy/daemonset.yaml"),
            "hostNetwork: true\n",
            "hostNetwork: true\n      hostNetwork: false\n");

    Exception e =
        assertThrows(RuntimeException.class, () -> StrictManifests.load("daemonset.yaml", yaml));
    assertTrue(e.getMessage().contains("found duplicate key hostNetwork"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "deploy/daemonset.yaml",
        "deploy/rbac.yaml",
        "examples/podcapture-sample-output.yaml",
        "crds/podcaptures.tcpdump.antrea.io.yaml"
      })
  void theUnbrokenFilesHaveNoProblem(String file) {
    List<String> problems =
        StrictManifests.load(file, ProjectFiles.read(file)).stream()
            .flatMap(d -> StrictManifests.problems(d).stream())
            .collect(Collectors.toList());

    assertEquals(List.of(), problems);
  }

  private static List<String> problemsAfterReplacing(String file, String correct, String typo) {
    String broken = replaceOnce(ProjectFiles.read(file), correct, typo);
    return StrictManifests.load(file, broken).stream()
        .flatMap(d -> StrictManifests.problems(d).stream())
        .collect(Collectors.toList());
  }

  /**
   * Replaces the first occurrence, failing if there is none (so a test cannot pass by breaking
   * nothing).
   */
  private static String replaceOnce(String text, String target, String replacement) {
    int at = text.indexOf(target);
    assertTrue(at >= 0, "the manifest no longer contains '" + target + "': update this test");
    return text.substring(0, at) + replacement + text.substring(at + target.length());
  }
}
