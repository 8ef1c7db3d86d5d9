package io.podcapture.agentfiles;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Decides whether a request's {@code Authorization: Bearer <token>} is the controller's: the API
 * server must say the token is valid for audience {@value #AUDIENCE} and belongs to exactly {@code
 * system:serviceaccount:<controller namespace>:<controller ServiceAccount>}. A yes is remembered
 * for {@link #REMEMBER} by the token's SHA-256 (the token itself is never kept), for at most {@link
 * #REMEMBERED} tokens: the controller uses one token at a time and renews it after half its life,
 * so a stream of its requests costs one TokenReview a minute.
 */
public final class TokenCheck {
  /** The audience the controller asks its tokens for; a token for the API server is refused. */
  public static final String AUDIENCE = "podcapture-agent";

  static final Duration REMEMBER = Duration.ofSeconds(60);
  static final int REMEMBERED = 16;

  /** Longer than any ServiceAccount token; a longer header is refused unread by the API server. */
  static final int MAX_TOKEN_LENGTH = 16 * 1024;

  /** What a request gets. */
  public enum Verdict {
    /** The controller: served. */
    ALLOWED,
    /** No token, a malformed header, or a token the API server does not accept: 401. */
    UNAUTHENTICATED,
    /** A valid token of someone else, or not meant for the agent: 403. */
    FORBIDDEN,
    /** The API server could not be asked: 503 (never let through). */
    UNAVAILABLE
  }

  private final TokenReviewer reviewer;
  private final String controllerUser;
  private final Clock clock;
  private final Map<String, Instant> allowed =
      new LinkedHashMap<>(REMEMBERED, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
          return size() > REMEMBERED;
        }
      };

  public TokenCheck(TokenReviewer reviewer, String controllerUser, Clock clock) {
    this.reviewer = reviewer;
    this.controllerUser = controllerUser;
    this.clock = clock;
  }

  /** The verdict for a request whose Authorization headers are {@code headers} (null if none). */
  public Verdict check(List<String> headers) {
    String token = bearer(headers);
    if (token == null) {
      return Verdict.UNAUTHENTICATED;
    }
    String key = sha256(token);
    Instant now = clock.instant();
    synchronized (allowed) {
      Instant until = allowed.get(key);
      if (until != null && now.isBefore(until)) {
        return Verdict.ALLOWED;
      }
      allowed.remove(key);
    }
    TokenReviewer.Review review;
    try {
      review = reviewer.review(token, AUDIENCE);
    } catch (RuntimeException e) {
      return Verdict.UNAVAILABLE;
    }
    Verdict verdict = judge(review);
    if (verdict == Verdict.ALLOWED) {
      synchronized (allowed) {
        allowed.put(key, now.plus(REMEMBER));
      }
    }
    return verdict;
  }

  /** The verdict the API server's answer earns. */
  Verdict judge(TokenReviewer.Review review) {
    if (review == null || !review.authenticated()) {
      return Verdict.UNAUTHENTICATED;
    }
    // An API server that reports audiences says which the token is valid for; it must be ours.
    boolean forUs = review.audiences().isEmpty() || review.audiences().contains(AUDIENCE);
    return forUs && controllerUser.equals(review.username()) ? Verdict.ALLOWED : Verdict.FORBIDDEN;
  }

  /**
   * The token of the one {@code Authorization: Bearer <token>} header, or null: no header, two of
   * them, another scheme, an empty or overlong token, or one with characters no token has.
   */
  static String bearer(List<String> headers) {
    if (headers == null || headers.size() != 1) {
      return null;
    }
    String value = headers.get(0).strip();
    int space = value.indexOf(' ');
    if (space < 0 || !value.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
      return null;
    }
    String token = value.substring(space + 1).strip();
    if (token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
      return null;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c <= ' ' || c > '~') {
        return null;
      }
    }
    return token;
  }

  private static String sha256(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
