package io.podcapture.filesapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.podcapture.api.v1alpha1.PodCapture;
import io.podcapture.api.v1alpha1.PodCaptureSet;
import io.podcapture.controller.Names;
import io.podcapture.pcap.PacketSource;
import io.podcapture.pcap.PcapFiles;
import io.podcapture.pcap.PcapMerge;
import io.podcapture.pcap.PcapngInterface;
import io.podcapture.pcap.PcapngWriter;
import io.podcapture.sets.Children;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.stream.Collectors;

/**
 * The files API's resources, once a request is authenticated and authorized: a capture's or a set's
 * listing, one file, the merged pcapng, the live stream. PodCaptures and sets are read with plain
 * GETs and LISTs (this runs on standby replicas too, which keep no caches); the bytes come from the
 * agents as streams and go out through fixed buffers.
 */
final class FileRoutes {
  static final int BUFFER = 64 * 1024;

  /** Requests an agent serves at once (the agent API's limit; beyond, it answers 429). */
  static final int AGENT_MAX_CONCURRENT = 8;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final AgentFileClient agents;
  private final ExecutorService fetches;

  FileRoutes(KubernetesClient client, AgentFileClient agents, ExecutorService fetches) {
    this.client = client;
    this.agents = agents;
    this.fetches = fetches;
  }

  void serve(FilesRequest request, Reply reply) throws StatusException, IOException {
    switch (request.kind()) {
      case CAPTURE -> {
        switch (request.subresource()) {
          case "" -> captureListing(request, reply);
          case "pcap" -> file(request, reply);
          case "merged" -> mergedCapture(request, reply);
          case "log" -> stream(request, reply);
          default ->
              throw StatusException.notFound("no such subresource: " + request.subresource());
        }
      }
      case SET -> {
        if (request.subresource().isEmpty()) {
          setListing(request, reply);
        } else {
          mergedSet(request, reply);
        }
      }
      case DISCOVERY -> reply.json(200, Discovery.json());
    }
  }

  // ---- reading the objects

  private PodCapture capture(String namespace, String name, String resource)
      throws StatusException {
    return read(PodCapture.class, "PodCapture", namespace, name, resource);
  }

  private PodCaptureSet set(String namespace, String name) throws StatusException {
    return read(PodCaptureSet.class, "PodCaptureSet", namespace, name, FilesApiNames.SET_FILES);
  }

  /** One object, read now; 404 in the files API's own terms ({@code resource}) when it is gone. */
  private <T extends HasMetadata> T read(
      Class<T> type, String kind, String namespace, String name, String resource)
      throws StatusException {
    T object;
    try {
      object = client.resources(type).inNamespace(namespace).withName(name).get();
    } catch (KubernetesClientException e) {
      throw StatusException.unavailable(
          "cannot read " + kind + " " + namespace + "/" + name + ": " + e.getMessage(), e);
    }
    if (object == null) {
      throw StatusException.notFound(
          resource
              + "."
              + FilesApiNames.GROUP
              + " \""
              + name
              + "\" not found: there is no "
              + kind
              + " "
              + namespace
              + "/"
              + name);
    }
    return object;
  }

  /** The set's children (labelled with it and owned by it), by name. */
  private List<PodCapture> children(PodCaptureSet set) throws StatusException {
    String ns = set.getMetadata().getNamespace();
    try {
      String uid = set.getMetadata().getUid();
      return client
          .resources(PodCapture.class)
          .inNamespace(ns)
          .withLabel(Names.LABEL_SET, set.getMetadata().getName())
          .list()
          .getItems()
          .stream()
          .filter(c -> uid == null || Children.ownedBy(c, uid))
          .sorted(Comparator.comparing(c -> c.getMetadata().getName()))
          .toList();
    } catch (KubernetesClientException e) {
      throw StatusException.unavailable(
          "cannot list the PodCaptures of set "
              + ns
              + "/"
              + set.getMetadata().getName()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** A capture with its agent and that agent's listing of its files. */
  record Located(PodCapture capture, AgentFileClient.AgentAddress agent, AgentListing listing) {
    String namespace() {
      return capture.getMetadata().getNamespace();
    }

    String name() {
      return capture.getMetadata().getName();
    }

    String pod() {
      return capture.getSpec() == null ? "" : capture.getSpec().getPodName();
    }

    String node() {
      return listing.node() != null ? listing.node() : agent.node();
    }

    /** Files with at least a pcap header, oldest first. */
    List<AgentListing.File> readableFiles() {
      return listing.files().stream().filter(f -> f.sizeBytes() >= 24).toList();
    }
  }

  private Located locate(PodCapture capture) throws StatusException {
    AgentFileClient.AgentAddress agent = agents.locate(capture);
    AgentListing listing =
        agents.list(agent, capture.getMetadata().getNamespace(), capture.getMetadata().getName());
    return new Located(capture, agent, listing);
  }

  // ---- listings

  private void captureListing(FilesRequest request, Reply reply)
      throws StatusException, IOException {
    Located located = locate(capture(request.namespace(), request.name(), request.resource()));
    ObjectNode body = object("PodCaptureFiles", request);
    describe(body, located.capture(), located);
    reply.json(200, body.toString());
  }

  private void setListing(FilesRequest request, Reply reply) throws StatusException, IOException {
    PodCaptureSet set = set(request.namespace(), request.name());
    List<PodCapture> children = children(set);
    List<Object> found = locateAll(children);
    ObjectNode body = object("PodCaptureSetFiles", request);
    ArrayNode items = body.putArray("children");
    for (int i = 0; i < children.size(); i++) {
      ObjectNode item = items.addObject();
      item.put("name", children.get(i).getMetadata().getName());
      if (found.get(i) instanceof Located located) {
        describe(item, children.get(i), located);
      } else {
        describe(item, children.get(i), null);
        item.put("message", ((StatusException) found.get(i)).getMessage());
      }
    }
    reply.json(200, body.toString());
  }

  /**
   * Each capture {@link #locate located}, all at once: per capture its {@link Located} or the
   * StatusException that says why not.
   */
  private List<Object> locateAll(List<PodCapture> captures) throws StatusException {
    List<CompletableFuture<Object>> lookups = new ArrayList<>();
    for (PodCapture capture : captures) {
      lookups.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return locate(capture);
                } catch (StatusException e) {
                  return e;
                }
              },
              fetches));
    }
    List<Object> found = new ArrayList<>();
    for (CompletableFuture<Object> lookup : lookups) {
      try {
        found.add(lookup.join());
      } catch (CompletionException e) {
        throw StatusException.unavailable("listing failed: " + e.getCause(), e.getCause());
      }
    }
    return found;
  }

  private static ObjectNode object(String kind, FilesRequest request) {
    ObjectNode body = JSON.createObjectNode();
    body.put("apiVersion", FilesApiNames.GROUP_VERSION);
    body.put("kind", kind);
    ObjectNode metadata = body.putObject("metadata");
    metadata.put("name", request.name());
    metadata.put("namespace", request.namespace());
    return body;
  }

  /** node, pod, phase and files of one capture ({@code located} null: no files known). */
  private static void describe(ObjectNode node, PodCapture capture, Located located) {
    var status = capture.getStatus();
    String nodeName = located != null ? located.node() : status == null ? null : status.getNode();
    node.put("node", nodeName);
    node.put("pod", capture.getSpec() == null ? null : capture.getSpec().getPodName());
    node.put("phase", status == null ? null : status.getPhase());
    ArrayNode files = node.putArray("files");
    if (located != null) {
      for (AgentListing.File f : located.listing().files()) {
        ObjectNode file = files.addObject();
        file.put("name", f.name());
        file.put("sizeBytes", f.sizeBytes());
        file.put("modified", f.modified());
      }
    }
  }

  // ---- bytes

  private void file(FilesRequest request, Reply reply) throws StatusException, IOException {
    PodCapture capture = capture(request.namespace(), request.name(), request.resource());
    AgentFileClient.Body body =
        agents.file(agents.locate(capture), request.namespace(), request.name(), request.file());
    String base = request.file().substring(request.file().lastIndexOf('/') + 1);
    reply.header("Content-Disposition", "attachment; filename=\"" + base + "\"");
    relay(body, reply, body.length(), false);
  }

  private void stream(FilesRequest request, Reply reply) throws StatusException, IOException {
    PodCapture capture = capture(request.namespace(), request.name(), request.resource());
    relay(
        agents.follow(agents.locate(capture), request.namespace(), request.name()),
        reply,
        -1,
        true);
  }

  /** An agent's answer, passed on as pcap under the request's watchdog. */
  private static void relay(AgentFileClient.Body body, Reply reply, long length, boolean live)
      throws IOException {
    try (InputStream in = body.stream()) {
      reply.guard().upstream(in);
      OutputStream out = reply.start(FilesApiNames.PCAP_TYPE, length);
      copy(in, out, live);
      out.close();
    }
  }

  /** Copies through one fixed buffer; {@code live}: flushed after every read. */
  static long copy(InputStream in, OutputStream out, boolean live) throws IOException {
    byte[] buffer = new byte[BUFFER];
    long total = 0;
    int n;
    while ((n = in.read(buffer)) >= 0) {
      if (n == 0) {
        continue;
      }
      out.write(buffer, 0, n);
      total += n;
      if (live) {
        out.flush();
      }
    }
    out.flush();
    return total;
  }

  private void mergedCapture(FilesRequest request, Reply reply)
      throws StatusException, IOException {
    PodCapture capture = capture(request.namespace(), request.name(), request.resource());
    Located located = locate(capture);
    writeMerged(
        reply, List.of(located), MergedDescription.ofCapture(located), request.name() + ".pcapng");
  }

  private void mergedSet(FilesRequest request, Reply reply) throws StatusException, IOException {
    PodCaptureSet set = set(request.namespace(), request.name());
    List<PodCapture> children = children(set);
    List<Object> found = locateAll(children);
    List<Located> located = new ArrayList<>();
    List<String> without = new ArrayList<>();
    for (int i = 0; i < children.size(); i++) {
      if (found.get(i) instanceof Located l) {
        located.add(l);
      } else if (found.get(i) instanceof StatusException e && e.code() == 404) {
        // No agent has it (yet), or its node's agent does not know it: nothing to merge.
        without.add(children.get(i).getMetadata().getName());
      } else {
        throw (StatusException) found.get(i);
      }
    }
    tooManyOnOneAgent(set, located);
    writeMerged(
        reply, located, MergedDescription.ofSet(set, located, without), request.name() + ".pcapng");
  }

  /**
   * A merge reads one file of every child at once, and an agent serves at most {@value
   * #AGENT_MAX_CONCURRENT} requests at a time (the agent API's limit): more children with files on
   * one node can never be merged in one pass, which is said here rather than as an agent's 429.
   */
  private static void tooManyOnOneAgent(PodCaptureSet set, List<Located> located)
      throws StatusException {
    Map<String, Long> perAgent =
        located.stream()
            .filter(l -> !l.readableFiles().isEmpty())
            .collect(Collectors.groupingBy(l -> l.agent().pod(), Collectors.counting()));
    for (Map.Entry<String, Long> entry : perAgent.entrySet()) {
      if (entry.getValue() > AGENT_MAX_CONCURRENT) {
        String node =
            located.stream()
                .filter(l -> l.agent().pod().equals(entry.getKey()))
                .findFirst()
                .map(Located::node)
                .orElse("?");
        throw StatusException.unavailable(
            "PodCaptureSet "
                + set.getMetadata().getNamespace()
                + "/"
                + set.getMetadata().getName()
                + " has "
                + entry.getValue()
                + " captures with files on node "
                + node
                + ", whose agent "
                + entry.getKey()
                + " streams at most "
                + AGENT_MAX_CONCURRENT
                + " files at once: they cannot be merged in one pass; read them per"
                + " PodCapture (podcapturefiles/<name>/merged)");
      }
    }
  }

  /**
   * The merged pcapng of these captures: each capture's files read one after the other (one open
   * file per capture), all captures merged by timestamp, one interface per capture. The first file
   * of every capture is opened, concurrently, before the answer starts, so that an agent that
   * cannot be reached still gets a proper Status.
   */
  private void writeMerged(
      Reply reply, List<Located> captures, String sectionComment, String fileName)
      throws StatusException, IOException {
    List<CompletableFuture<PacketSource>> opening = new ArrayList<>();
    for (Located located : captures) {
      opening.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return PcapFiles.sequential(suppliers(located, reply.guard()));
                } catch (IOException e) {
                  throw new CompletionException(e);
                }
              },
              fetches));
    }
    List<PacketSource> sources = new ArrayList<>();
    try {
      StatusException failure = null;
      for (CompletableFuture<PacketSource> f : opening) {
        try {
          sources.add(f.join());
        } catch (CompletionException e) {
          if (failure == null) {
            failure = upstreamFailure(e.getCause());
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
      List<PcapngInterface> interfaces = new ArrayList<>();
      for (int i = 0; i < captures.size(); i++) {
        Located l = captures.get(i);
        interfaces.add(
            new PcapngInterface(
                l.namespace() + "/" + l.pod(),
                "pod "
                    + l.namespace()
                    + "/"
                    + l.pod()
                    + " on node "
                    + l.node()
                    + ", PodCapture "
                    + l.namespace()
                    + "/"
                    + l.name(),
                sources.get(i).linkType(),
                sources.get(i).snapLength()));
      }
      reply.header("Content-Disposition", "attachment; filename=\"" + fileName + "\"");
      OutputStream out = reply.start(FilesApiNames.PCAPNG_TYPE, -1);
      PcapngWriter writer =
          new PcapngWriter(new BufferedOutputStream(out, BUFFER), sectionComment, interfaces);
      PcapMerge.merge(sources, writer);
      writer.close();
    } finally {
      for (PacketSource source : sources) {
        try {
          source.close();
        } catch (IOException e) {
          // the answer is complete or already cut short
        }
      }
    }
  }

  private List<PcapFiles.IoSupplier<InputStream>> suppliers(
      Located located, RequestWatchdog.Guard guard) {
    List<PcapFiles.IoSupplier<InputStream>> files = new ArrayList<>();
    for (AgentListing.File f : located.readableFiles()) {
      files.add(
          () -> {
            try {
              InputStream in =
                  agents
                      .file(located.agent(), located.namespace(), located.name(), f.name())
                      .stream();
              guard.upstream(in);
              return in;
            } catch (StatusException e) {
              throw new UpstreamException(e);
            }
          });
    }
    return files;
  }

  private static StatusException upstreamFailure(Throwable cause) {
    if (cause instanceof UpstreamException u) {
      return u.status;
    }
    return StatusException.unavailable(
        "cannot read the capture files: " + cause.getMessage(), cause);
  }

  /** A StatusException carried through the pcap readers' IOException-only suppliers. */
  static final class UpstreamException extends IOException {
    private static final long serialVersionUID = 1L;
    final transient StatusException status;

    UpstreamException(StatusException status) {
      super(status.getMessage(), status);
      this.status = status;
    }
  }
}
