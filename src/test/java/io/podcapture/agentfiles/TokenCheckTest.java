package io.podcapture.agentfiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.podcapture.agentfiles.TokenCheck.Verdict;
import io.podcapture.agentfiles.TokenReviewer.Review;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenCheckTest {
  private static final String CONTROLLER =
      "system:serviceaccount:kube-system:podcapture-controller";

  /** Answers from a table of tokens, noting every review asked for. */
  private static final class Reviews implements TokenReviewer {
    final Map<String, Review> answers;
    final List<String> asked = new ArrayList<>();
    final List<String> audiences = new ArrayList<>();

    Reviews(Map<String, Review> answers) {
      this.answers = answers;
    }

    @Override
    public Review review(String token, String audience) {
      asked.add(token);
      audiences.add(audience);
      if (token.equals("api-down")) {
        throw new IllegalStateException("connection refused");
      }
      return answers.getOrDefault(token, new Review(false, null, List.of()));
    }
  }

  private final Reviews reviews =
      new Reviews(
          Map.of(
              "controller",
              new Review(true, CONTROLLER, List.of("podcapture-agent")),
              "controller-no-audiences",
              new Review(true, CONTROLLER, List.of()),
              "controller-for-api",
              new Review(true, CONTROLLER, List.of("https://kubernetes.default.svc")),
              "other",
              new Review(
                  true,
                  "system:serviceaccount:kube-system:podcapture-agent",
                  List.of("podcapture-agent")),
              "same-name-other-namespace",
              new Review(
                  true,
                  "system:serviceaccount:shop:podcapture-controller",
                  List.of("podcapture-agent"))));

  private Instant now = Instant.parse("2026-12-05T11:00:00Z");
  private final Clock clock =
      new Clock() {
        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now;
        }
      };
  private final TokenCheck check = new TokenCheck(reviews, CONTROLLER, clock);

  private static List<String> bearer(String token) {
    return List.of("Bearer " + token);
  }

  @Test
  void theControllersTokenForTheAgentIsAllowedAndReviewedForThatAudience() {
    assertEquals(Verdict.ALLOWED, check.check(bearer("controller")));
    assertEquals(List.of("podcapture-agent"), reviews.audiences);
  }

  @Test
  void aReviewThatNamesNoAudiencesIsTakenAsForTheAudienceAskedFor() {
    assertEquals(Verdict.ALLOWED, check.check(bearer("controller-no-audiences")));
  }

  @Test
  void theControllersTokenForAnotherAudienceIsForbidden() {
    assertEquals(Verdict.FORBIDDEN, check.check(bearer("controller-for-api")));
  }

  @Test
  void validTokensOfAnyoneElseAreForbidden() {
    assertEquals(Verdict.FORBIDDEN, check.check(bearer("other")));
    assertEquals(Verdict.FORBIDDEN, check.check(bearer("same-name-other-namespace")));
  }

  @Test
  void aTokenTheApiServerRejectsIsUnauthenticated() {
    assertEquals(Verdict.UNAUTHENTICATED, check.check(bearer("forged")));
  }

  @Test
  void anApiServerThatCannotBeAskedLetsNothingThrough() {
    assertEquals(Verdict.UNAVAILABLE, check.check(bearer("api-down")));
  }

  @Test
  void aYesIsRememberedForAMinuteANoNever() {
    check.check(bearer("controller"));
    now = now.plusSeconds(59);
    assertEquals(Verdict.ALLOWED, check.check(bearer("controller")));
    assertEquals(1, reviews.asked.size());
    now = now.plus(Duration.ofSeconds(2));
    assertEquals(Verdict.ALLOWED, check.check(bearer("controller")));
    assertEquals(2, reviews.asked.size());

    check.check(bearer("other"));
    check.check(bearer("other"));
    check.check(bearer("forged"));
    check.check(bearer("forged"));
    assertEquals(6, reviews.asked.size());
  }

  @Test
  void atMostSixteenTokensAreRemembered() {
    Map<String, Review> many = new HashMap<>();
    for (int i = 0; i < 17; i++) {
      many.put("t" + i, new Review(true, CONTROLLER, List.of()));
    }
    Reviews counted = new Reviews(many);
    TokenCheck bounded = new TokenCheck(counted, CONTROLLER, clock);
    for (int i = 0; i < 17; i++) {
      bounded.check(bearer("t" + i));
    }
    bounded.check(bearer("t16"));
    assertEquals(17, counted.asked.size());
    bounded.check(bearer("t0"));
    assertEquals(18, counted.asked.size());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token controller",
        "controller",
        "Bearer contr oller",
        "Bearer contr\u00e9ller"
      })
  void malformedHeadersCarryNoToken(String header) {
    assertNull(TokenCheck.bearer(List.of(header)), header);
    assertEquals(Verdict.UNAUTHENTICATED, check.check(List.of(header)));
    assertEquals(List.of(), reviews.asked);
  }

  @Test
  void noHeaderOrTwoHeadersCarryNoToken() {
    assertNull(TokenCheck.bearer(null));
    assertNull(TokenCheck.bearer(List.of()));
    assertNull(TokenCheck.bearer(List.of("Bearer controller", "Bearer other")));
  }

  @Test
  void anOverlongTokenIsNotSentForReview() {
    assertEquals(
        Verdict.UNAUTHENTICATED, check.check(bearer("a".repeat(TokenCheck.MAX_TOKEN_LENGTH + 1))));
    assertEquals(List.of(), reviews.asked);
  }

  @Test
  void theSchemeIsCaseInsensitive() {
    assertEquals("controller", TokenCheck.bearer(List.of("bearer controller")));
    assertEquals("controller", TokenCheck.bearer(List.of("BEARER  controller ")));
  }
}
