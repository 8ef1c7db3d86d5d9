package io.podcapture.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One HTTPS request with curl, for asking a server exactly what a test wants: the path sent as
 * written ({@code --path-as-is}, so {@code ../} and {@code %2F} reach the server), any header, any
 * client certificate. Without a {@code --cacert} in the options the server's certificate is not
 * verified (for tests of what the server refuses).
 */
public final class Curl {
  private static final Pattern CODE = Pattern.compile("<(\\d{3})>");

  private Curl() {}

  /** What a server answered: status code (0: no HTTP answer), body, and what curl said besides. */
  public record Response(int code, byte[] bytes, String error) {
    public String body() {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  /** GET {@code url} with curl's {@code options}; the body goes through a file in {@code dir}. */
  public static Response request(List<String> options, String url, Path dir) throws IOException {
    Path body = Files.createTempFile(dir, "curl-", ".body");
    try {
      List<String> argv =
          new ArrayList<>(List.of("curl", "-sS", "--path-as-is", "--max-time", "30"));
      if (!options.contains("--cacert")) {
        argv.add("-k");
      }
      argv.addAll(options);
      argv.addAll(List.of("-o", body.toString(), "-w", "<%{http_code}>", url));
      Command.Result result = Command.run(Duration.ofSeconds(40), argv);
      Matcher code = CODE.matcher(result.output());
      if (!code.find()) {
        throw new AssertionError("curl " + url + ": " + result.output());
      }
      return new Response(
          Integer.parseInt(code.group(1)),
          Files.readAllBytes(body),
          result.output().replace(code.group(), "").strip());
    } finally {
      Files.deleteIfExists(body);
    }
  }
}
