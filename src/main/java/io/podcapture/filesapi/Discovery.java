package io.podcapture.filesapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The APIResourceList served at {@value FilesApiNames#PREFIX}: what kubectl discovers. */
final class Discovery {
  private Discovery() {}

  private static final String JSON = build();

  static String json() {
    return JSON;
  }

  private static String build() {
    ObjectNode list = new ObjectMapper().createObjectNode();
    list.put("kind", "APIResourceList");
    list.put("apiVersion", "v1");
    list.put("groupVersion", FilesApiNames.GROUP_VERSION);
    ArrayNode resources = list.putArray("resources");
    resource(resources, FilesApiNames.CAPTURE_FILES, "podcapturefiles", "PodCaptureFiles");
    for (String sub : new String[] {"pcap", "merged", "log"}) {
      resource(resources, FilesApiNames.CAPTURE_FILES + "/" + sub, "", "PodCaptureFiles");
    }
    resource(resources, FilesApiNames.SET_FILES, "podcapturesetfiles", "PodCaptureSetFiles");
    resource(resources, FilesApiNames.SET_FILES + "/merged", "", "PodCaptureSetFiles");
    return list.toString();
  }

  private static void resource(ArrayNode resources, String name, String singular, String kind) {
    ObjectNode r = resources.addObject();
    r.put("name", name);
    r.put("singularName", singular);
    r.put("namespaced", true);
    r.put("kind", kind);
    r.putArray("verbs").add("get");
  }
}
