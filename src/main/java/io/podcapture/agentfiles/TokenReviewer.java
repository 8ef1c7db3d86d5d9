package io.podcapture.agentfiles;

import java.util.List;

/** Asks the API server who a bearer token belongs to (a TokenReview). */
@FunctionalInterface
public interface TokenReviewer {

  /**
   * The API server's answer for {@code token} reviewed for {@code audience}.
   *
   * @throws RuntimeException when the API server cannot be asked (the request is then refused with
   *     503, never let through)
   */
  Review review(String token, String audience);

  /**
   * A TokenReview's status.
   *
   * @param audiences the audiences the token is valid for, as the review says; empty if it says
   *     none
   */
  record Review(boolean authenticated, String username, List<String> audiences) {}
}
