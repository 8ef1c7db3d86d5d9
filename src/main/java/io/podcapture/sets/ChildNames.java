package io.podcapture.sets;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names of a set's children, deterministic from the set and the Pod: {@code <set>-<pod>} when that
 * fits in 63 characters, else its first characters and a hash of both names. At most 63 characters
 * keeps a child's name usable as a label value and its file names short.
 */
public final class ChildNames {
  public static final int MAX_LENGTH = 63;

  /** Hex characters of the hash suffix (40 bits: a collision needs about a million Pods). */
  static final int HASH_LENGTH = 10;

  private ChildNames() {}

  /** The readable name, or the hashed one when the readable one is too long. */
  public static String of(String set, String pod) {
    String readable = set + "-" + pod;
    return readable.length() <= MAX_LENGTH ? readable : hashed(set, pod);
  }

  /**
   * The name with a hash suffix, whatever the length: used when the readable name is taken by a
   * PodCapture that is not this set's child ({@code a} + {@code b-c} and {@code a-b} + {@code c}
   * give the same readable name).
   */
  public static String hashed(String set, String pod) {
    String hash = hash(set + "/" + pod);
    String prefix = set + "-" + pod;
    int keep = Math.min(prefix.length(), MAX_LENGTH - HASH_LENGTH - 1);
    String head = prefix.substring(0, keep);
    // A DNS-1123 name's parts end with a letter or digit: drop a cut-off '-' or '.'.
    int end = head.length();
    while (end > 0 && (head.charAt(end - 1) == '-' || head.charAt(end - 1) == '.')) {
      end--;
    }
    head = head.substring(0, end);
    return head.isEmpty() ? hash : head + "-" + hash;
  }

  private static String hash(String s) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, HASH_LENGTH);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
