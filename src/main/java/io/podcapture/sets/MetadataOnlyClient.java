package io.podcapture.sets;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;

/**
 * A client whose every request asks the API server for metadata only: lists as {@code
 * PartialObjectMetadataList}, watch events as {@code PartialObjectMetadata} (what client-go's
 * metadata informers ask for). A Pod's spec and status, most of its bytes, then never cross the
 * wire. Used for the sets' Pod watches only.
 */
final class MetadataOnlyClient {
  static final String LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
  static final String WATCH = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

  private MetadataOnlyClient() {}

  static KubernetesClient from(KubernetesClient client) {
    return new KubernetesClientBuilder()
        .withConfig(client.getConfiguration())
        .withHttpClientBuilderConsumer(
            b -> b.addOrReplaceInterceptor("metadata-only", new AcceptMetadataOnly()))
        .build();
  }

  /** Sets the Accept header of every request: list or watch, told apart by the query. */
  private static final class AcceptMetadataOnly implements Interceptor {
    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
      String query = request.uri().getRawQuery();
      boolean watch = query != null && query.contains("watch=true");
      builder.setHeader("Accept", watch ? WATCH : LIST);
    }
  }
}
