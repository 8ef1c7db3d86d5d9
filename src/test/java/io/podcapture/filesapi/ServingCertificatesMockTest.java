package io.podcapture.filesapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.podcapture.testing.MockApiServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The certificates' Secrets and the agents' token against the mock API server. */
@Tag("integration")
class ServingCertificatesMockTest {
  private ReviewingDispatcher dispatcher;
  private MockApiServer api;
  private KubernetesClient client;

  @BeforeEach
  void start() {
    dispatcher = new ReviewingDispatcher();
    api = new MockApiServer(dispatcher);
    client = api.client();
  }

  @AfterEach
  void stop() {
    client.close();
    api.close();
  }

  @Test
  void withoutRightsOnSecretsAPassFailsQuietlyAndALaterOneSucceeds() throws Exception {
    ServingCertificates certificates =
        new ServingCertificates(client, "kube-system", Clock.systemUTC());
    dispatcher.forbidSecrets = true;
    assertFalse(certificates.refresh());
    assertNull(certificates.controller());
    assertFalse(certificates.ready().isDone());

    dispatcher.forbidSecrets = false;
    // No APIService exists: the certificates are still served (the APIService may come later).
    assertTrue(certificates.refresh());
    assertTrue(certificates.ready().isDone());
    Secret made =
        client.secrets().inNamespace("kube-system").withName("podcapture-controller-tls").get();
    assertEquals("kubernetes.io/tls", made.getType());
    assertEquals(
        List.of("podcapture-controller-tls", "podcapture-agent-tls"),
        client.secrets().inNamespace("kube-system").list().getItems().stream()
            .map(s -> s.getMetadata().getName())
            .sorted((a, b) -> b.compareTo(a))
            .toList());
    assertArrayEquals(
        certificates.controller().certificate().getEncoded(),
        ServingCertificates.read(made).certificate().getEncoded());
    assertNotEquals(certificates.controller().certificate(), certificates.agent().certificate());
  }

  @Test
  void theAgentsTokenIsRenewedAfterHalfItsLife() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-12-05T11:00:00Z"));
    AgentFileClient agents =
        new AgentFileClient(client, "kube-system", "podcapture-controller", () -> null, clock);
    assertEquals("token-1", agents.token());
    clock.now = clock.now.plus(Duration.ofSeconds(299));
    assertEquals("token-1", agents.token());
    clock.now = clock.now.plus(Duration.ofSeconds(2));
    assertEquals("token-2", agents.token());
    assertEquals(2, dispatcher.tokenRequests.size());
  }

  private static final class MutableClock extends Clock {
    Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
