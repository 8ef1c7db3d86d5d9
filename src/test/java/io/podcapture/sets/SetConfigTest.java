package io.podcapture.sets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SetConfigTest {
  @Test
  void theCapIsOneHundredUnlessTheAdminSetsIt() {
    assertEquals(100, SetConfig.fromEnv(Map.of(), "c-0").maxPodsCap());
    assertEquals(25, SetConfig.fromEnv(Map.of("SET_MAX_PODS_CAP", "25"), "c-0").maxPodsCap());
  }

  @Test
  void aCapThatIsNotAPositiveNumberIsRefusedNamingTheVariable() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SetConfig.fromEnv(Map.of("SET_MAX_PODS_CAP", "lots"), "c-0"));
    assertTrue(e.getMessage().contains("SET_MAX_PODS_CAP"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> SetConfig.fromEnv(Map.of("SET_MAX_PODS_CAP", "0"), "c-0"));
  }
}
