package io.podcapture.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** How BENCHMARKS.md shows a figure: table rows of percentiles, MiB, ranges. */
final class Markdown {
  private Markdown() {}

  static String row(String what, Stats s) {
    return String.format(
        Locale.ROOT,
        "| %s | %d | %s | %s | %s | %s |%n",
        what,
        s.n(),
        Stats.ms(s.p50()),
        Stats.ms(s.p90()),
        Stats.ms(s.p99()),
        Stats.ms(s.max()));
  }

  /** A moment of the 100-capture stop, or that it did not come. */
  static String opt(Double ms) {
    return ms == null ? "(not within 60 s)" : Stats.ms(ms);
  }

  static String mib(long kib) {
    return kib < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", kib / 1024.0);
  }

  /** "RSS a–b MiB (PSS c–d MiB)" over the tcpdumps. */
  static String rssRange(List<long[]> kib) {
    if (kib.isEmpty()) {
      return "n/a";
    }
    return "RSS "
        + range(kib.stream().mapToLong(k -> k[0]).toArray())
        + " (PSS "
        + range(kib.stream().mapToLong(k -> k[1]).toArray())
        + ")";
  }

  private static String range(long[] kib) {
    long min = Arrays.stream(kib).min().orElse(0);
    long max = Arrays.stream(kib).max().orElse(0);
    return Math.abs(max - min) < 103 ? mib(max) : mib(min).replace(" MiB", "") + "–" + mib(max);
  }

  /** A capitalised heading word: "annotation capture" → "Annotation capture". */
  static String capitalised(String title) {
    return Character.toUpperCase(title.charAt(0)) + title.substring(1);
  }
}
