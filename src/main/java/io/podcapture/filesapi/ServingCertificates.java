package io.podcapture.filesapi;

import io.fabric8.kubernetes.api.model.APIService;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.podcapture.controller.Names;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two self-signed certificates of issue 22, kept in Secrets of the controller's namespace:
 * {@value FilesApiNames#CONTROLLER_TLS_SECRET} (the files API's serving certificate) and {@value
 * FilesApiNames#AGENT_TLS_SECRET} (the agents', which the controller pins). Each replica makes a
 * missing one; a 409 means another replica made it first, and that one is read instead. The
 * APIService's caBundle is kept equal to the controller's certificate.
 *
 * <p>Every replica runs this (it is idempotent). Until both Secrets are read (RBAC missing, API
 * server away) it retries every {@value #RETRY_SECONDS} s; afterwards it reads them again, and
 * checks the APIService, every {@value #REFRESH_SECONDS} s.
 */
public final class ServingCertificates {
  private static final Logger LOG = LoggerFactory.getLogger(ServingCertificates.class);

  static final long RETRY_SECONDS = 30;
  static final long REFRESH_SECONDS = 60;

  private final KubernetesClient client;
  private final String namespace;
  private final Clock clock;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private volatile TlsMaterial controller;
  private volatile TlsMaterial agent;
  private volatile boolean apiServiceMissingLogged;
  private volatile boolean failingLogged;

  public ServingCertificates(KubernetesClient client, String namespace, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.clock = clock;
  }

  /** Runs {@link #refresh()} at once on {@code executor}, then as the class comment says. */
  public void start(ScheduledExecutorService executor) {
    executor.execute(() -> loop(executor));
  }

  private void loop(ScheduledExecutorService executor) {
    boolean ok;
    try {
      ok = refresh();
    } catch (RuntimeException e) {
      LOG.error("files API: certificate pass failed: {}", e.toString(), e);
      ok = false;
    }
    if (!executor.isShutdown()) {
      var unused =
          executor.schedule(
              () -> loop(executor), ok ? REFRESH_SECONDS : RETRY_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** Completes once both certificates have been read the first time. */
  public CompletableFuture<Void> ready() {
    return ready;
  }

  /** The files API's serving certificate and key, or null before {@link #ready()}. */
  public TlsMaterial controller() {
    return controller;
  }

  /** The agents' certificate, the only one the controller accepts from an agent. */
  public TlsMaterial agent() {
    return agent;
  }

  /**
   * One pass: both Secrets read (made if missing), then the APIService's caBundle. Returns false
   * when the Secrets could not be read or made; the APIService is best effort.
   */
  public boolean refresh() {
    try {
      controller = ensure(FilesApiNames.CONTROLLER_TLS_SECRET, FilesApiNames.SERVICE, true);
      agent = ensure(FilesApiNames.AGENT_TLS_SECRET, "podcapture-agent", false);
      if (failingLogged) {
        LOG.info(
            "Secrets {}/{} and {}/{} read: serving files",
            namespace,
            FilesApiNames.CONTROLLER_TLS_SECRET,
            namespace,
            FilesApiNames.AGENT_TLS_SECRET);
        failingLogged = false;
      }
      ready.complete(null);
    } catch (KubernetesClientException | GeneralSecurityException | IllegalArgumentException e) {
      failingLogged = true;
      LOG.error(
          "files API: cannot read or create Secrets {}/{} and {}/{}: {}; retrying in {} s",
          namespace,
          FilesApiNames.CONTROLLER_TLS_SECRET,
          namespace,
          FilesApiNames.AGENT_TLS_SECRET,
          ApiErrors.describe(e, "get and create on secrets in " + namespace),
          RETRY_SECONDS);
      return false;
    }
    syncApiService();
    return true;
  }

  private TlsMaterial ensure(String name, String commonName, boolean serving)
      throws GeneralSecurityException {
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null) {
      TlsMaterial made = make(commonName, serving);
      try {
        client.secrets().inNamespace(namespace).resource(secret(name, made)).create();
        LOG.info("made Secret {}/{} (self-signed, {})", namespace, name, commonName);
        return made;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        // Another replica made it between our read and our create: theirs wins.
        secret = client.secrets().inNamespace(namespace).withName(name).get();
        if (secret == null) {
          throw new GeneralSecurityException("Secret " + name + " vanished after a 409");
        }
      }
    }
    return read(secret);
  }

  private TlsMaterial make(String commonName, boolean serving) throws GeneralSecurityException {
    List<String> dns =
        serving
            ? List.of(
                FilesApiNames.SERVICE,
                FilesApiNames.SERVICE + "." + namespace,
                FilesApiNames.SERVICE + "." + namespace + ".svc",
                "localhost")
            : List.of(commonName, "localhost");
    return TlsMaterial.selfSigned(commonName, dns, List.of("127.0.0.1"), clock.instant());
  }

  private Secret secret(String name, TlsMaterial material) {
    Base64.Encoder b64 = Base64.getEncoder();
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .withLabels(Map.of(Names.LABEL_MANAGED_BY, Names.CONTROLLER_COMPONENT))
        .endMetadata()
        .withType("kubernetes.io/tls")
        .withData(
            Map.of(
                FilesApiNames.TLS_CRT,
                b64.encodeToString(material.certificatePem().getBytes(StandardCharsets.UTF_8)),
                FilesApiNames.TLS_KEY,
                b64.encodeToString(material.keyPem().getBytes(StandardCharsets.UTF_8))))
        .build();
  }

  static TlsMaterial read(Secret secret) throws GeneralSecurityException {
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    String crt = data.get(FilesApiNames.TLS_CRT);
    String key = data.get(FilesApiNames.TLS_KEY);
    String name = secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    if (crt == null || key == null) {
      throw new GeneralSecurityException("Secret " + name + " has no tls.crt or no tls.key");
    }
    Base64.Decoder b64 = Base64.getMimeDecoder();
    try {
      return TlsMaterial.parse(
          new String(b64.decode(crt), StandardCharsets.UTF_8),
          new String(b64.decode(key), StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new GeneralSecurityException("Secret " + name + ": " + e.getMessage(), e);
    }
  }

  /** The caBundle the APIService must carry: base64 of the controller's certificate PEM. */
  String caBundle() {
    return Base64.getEncoder()
        .encodeToString(controller.certificatePem().getBytes(StandardCharsets.UTF_8));
  }

  private void syncApiService() {
    try {
      APIService service =
          client.resources(APIService.class).withName(FilesApiNames.API_SERVICE).get();
      if (service == null) {
        if (!apiServiceMissingLogged) {
          apiServiceMissingLogged = true;
          LOG.info(
              "APIService {} not found: the files API is not reachable through the API server"
                  + " until it is applied; checking every {} s",
              FilesApiNames.API_SERVICE,
              REFRESH_SECONDS);
        }
        return;
      }
      apiServiceMissingLogged = false;
      String wanted = caBundle();
      String current = service.getSpec() == null ? null : service.getSpec().getCaBundle();
      if (Objects.equals(wanted, current)) {
        return;
      }
      client
          .resources(APIService.class)
          .withName(FilesApiNames.API_SERVICE)
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              "{\"spec\":{\"caBundle\":\"" + wanted + "\"}}");
      LOG.info(
          "APIService {}: caBundle set to the files API's certificate", FilesApiNames.API_SERVICE);
    } catch (KubernetesClientException e) {
      LOG.warn(
          "APIService {}: cannot read or patch its caBundle: {}",
          FilesApiNames.API_SERVICE,
          ApiErrors.describe(
              e,
              "get and patch on apiservices.apiregistration.k8s.io " + FilesApiNames.API_SERVICE));
    }
  }
}
