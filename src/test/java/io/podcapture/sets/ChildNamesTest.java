package io.podcapture.sets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChildNamesTest {
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  @Test
  void shortNamesAreTheSetAndThePodJoined() {
    assertEquals("web-web-7d9f-abcde", ChildNames.of("web", "web-7d9f-abcde"));
  }

  @Test
  void namesAreDeterministic() {
    assertEquals(ChildNames.of("s", "p".repeat(80)), ChildNames.of("s", "p".repeat(80)));
  }

  @ParameterizedTest
  @CsvSource({
    "web,a-very-long-pod-name-from-a-statefulset-with-a-long-name-0123456789",
    "a-set-name-that-is-long-enough-on-its-own-to-take-sixty-chars,web-0",
    "x,pod.with.dots.in.its.name.that.are.cut.right.after.a.dot.here.and.more",
  })
  void longNamesAreCutToSixtyThreeWithAHashAndStayValid(String set, String pod) {
    String name = ChildNames.of(set, pod);
    assertTrue(name.length() <= ChildNames.MAX_LENGTH, name);
    assertTrue(SUBDOMAIN.matcher(name).matches(), name);
  }

  @Test
  void podsThatShareALongPrefixGetDifferentNames() {
    String prefix = "p".repeat(70);
    assertNotEquals(ChildNames.of("s", prefix + "-0"), ChildNames.of("s", prefix + "-1"));
  }

  @Test
  void theHashedNameTellsApartNamesThatJoinAlike() {
    assertEquals(ChildNames.of("a", "b-c"), ChildNames.of("a-b", "c"));
    assertNotEquals(ChildNames.hashed("a", "b-c"), ChildNames.hashed("a-b", "c"));
    assertTrue(ChildNames.hashed("a", "b-c").startsWith("a-b-c-"));
  }
}
