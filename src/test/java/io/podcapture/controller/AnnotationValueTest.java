package io.podcapture.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AnnotationValueTest {

  @ParameterizedTest
  @CsvSource({"1,1", "5,5", "64,64", "' 7 ',7", "007,7"})
  void wholeNumbersWithinTheLimitAreAccepted(String raw, int expected) {
    AnnotationValue value = AnnotationValue.parse(raw, 64);
    assertTrue(value.valid());
    assertEquals(expected, value.maxFiles());
    assertNull(value.error());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "abc",
        "0",
        "-1",
        "1.5",
        "",
        "   ",
        "65",
        "+3",
        "1e3",
        "0x10",
        "5 files",
        "٣",
        "99999999999999999999",
        "-w /etc/passwd",
        "5\n6"
      })
  void anythingElseIsRefusedWithAMessageNamingWhatIsAccepted(String raw) {
    AnnotationValue value = AnnotationValue.parse(raw, 64);
    assertFalse(value.valid());
    assertNull(value.maxFiles());
    assertTrue(value.error().contains("a whole number of files from 1 to 64"), value.error());
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", "65", "1.5"})
  void theMessageQuotesTheBadValue(String raw) {
    assertTrue(AnnotationValue.parse(raw, 64).error().contains("\"" + raw + "\""));
  }

  @org.junit.jupiter.api.Test
  void controlCharactersAndLongValuesAreEscapedAndCutInMessages() {
    String error = AnnotationValue.parse("5\n6", 64).error();
    assertTrue(error.contains("\"5\\x0a6\""), error);
    assertFalse(error.contains("\n"));
    String longValue = "x".repeat(5000);
    String longError = AnnotationValue.parse(longValue, 64).error();
    assertTrue(longError.length() < 300, longError);
    assertTrue(longError.contains("(5000 chars)"));
  }
}
