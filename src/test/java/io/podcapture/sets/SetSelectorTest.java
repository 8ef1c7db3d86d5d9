package io.podcapture.sets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SetSelectorTest {
  @Test
  void labelsAndExpressionsBecomeOneSortedQuery() {
    LabelSelector selector =
        new LabelSelectorBuilder()
            .withMatchLabels(Map.of("tier", "front", "app", "web"))
            .withMatchExpressions(
                new LabelSelectorRequirement("track", "In", List.of("stable", "canary")),
                new LabelSelectorRequirement("zone", "NotIn", List.of("b")),
                new LabelSelectorRequirement("debug", "Exists", null),
                new LabelSelectorRequirement("skip", "DoesNotExist", List.of()))
            .build();
    assertEquals(
        new SetSelector.Valid(
            "app=web,tier=front,track in (canary,stable),zone notin (b),debug,!skip"),
        SetSelector.parse(selector));
  }

  @Test
  void equalSelectorsGiveEqualQueries() {
    LabelSelector one =
        new LabelSelectorBuilder().withMatchLabels(Map.of("a", "1", "b", "2")).build();
    LabelSelector two =
        new LabelSelectorBuilder().withMatchLabels(Map.of("b", "2", "a", "1")).build();
    assertEquals(SetSelector.parse(one), SetSelector.parse(two));
  }

  @Test
  void prefixedKeysAreAccepted() {
    assertEquals(
        new SetSelector.Valid("app.kubernetes.io/name=web"),
        SetSelector.parse(
            new LabelSelectorBuilder()
                .withMatchLabels(Map.of("app.kubernetes.io/name", "web"))
                .build()));
  }

  static Stream<Arguments> badSelectors() {
    return Stream.of(
        Arguments.of(null, "missing"),
        Arguments.of(new LabelSelector(), "every Pod of the namespace"),
        Arguments.of(
            new LabelSelectorBuilder().withMatchLabels(Map.of("app", "web,tier=x")).build(),
            "label value \"web,tier=x\" is invalid"),
        Arguments.of(
            new LabelSelectorBuilder().withMatchLabels(Map.of("bad key", "x")).build(),
            "label key \"bad key\" is invalid"),
        Arguments.of(
            new LabelSelectorBuilder().withMatchLabels(Map.of("UPPER.case/x", "x")).build(),
            "invalid prefix"),
        Arguments.of(
            new LabelSelectorBuilder().withMatchLabels(Map.of("app", "v".repeat(64))).build(),
            "at most 63"),
        Arguments.of(
            new LabelSelectorBuilder()
                .withMatchExpressions(new LabelSelectorRequirement("app", "In", List.of()))
                .build(),
            "operator In needs at least one value"),
        Arguments.of(
            new LabelSelectorBuilder()
                .withMatchExpressions(new LabelSelectorRequirement("app", "Exists", List.of("x")))
                .build(),
            "operator Exists takes no values"),
        Arguments.of(
            new LabelSelectorBuilder()
                .withMatchExpressions(new LabelSelectorRequirement("app", "Like", List.of("x")))
                .build(),
            "operator \"Like\" is not one of In, NotIn, Exists, DoesNotExist"));
  }

  @ParameterizedTest
  @MethodSource("badSelectors")
  void selectorsTheApiServerWouldRefuseAreRefusedWithAReason(LabelSelector s, String says) {
    SetSelector.Invalid invalid = assertInstanceOf(SetSelector.Invalid.class, SetSelector.parse(s));
    assertTrue(invalid.message().contains(says), invalid.message());
  }
}
