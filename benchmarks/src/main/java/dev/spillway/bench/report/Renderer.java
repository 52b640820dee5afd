package dev.spillway.bench.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders one suite run ({@code jmh.json}, {@code context.json}, {@code keycalls.tsv} in one
 * directory) into a markdown page with a table, the targets as same-run ratios, and an SVG chart
 * of ns/span per batch size and implementation (written beside the page).
 */
public final class Renderer {
  /** The daemon against the collector end to end lives in ops/bench; the page points there. */
  static final String SIDE_BY_SIDE_LINK = "End to end, the daemon side by side with the OpenTelemetry Collector (same load, "
      + "certificates, sink and core pinning): [docs/BENCHMARKS.md, side by side](../docs/BENCHMARKS.md#side-by-side-with-the-opentelemetry-collector-opsbenchside-by-sidesh), "
      + "dated reports in [ops/bench/](../ops/bench/).";

  private Renderer() {}

  /** What each benchmark row measures, in the order the page lists them. */
  private static final Map<String, String> LABELS = new LinkedHashMap<>();

  static {
    LABELS.put("AeadBaselineBenchmark.tinkAesGcm", "baseline: Tink AES-256-GCM on the batch");
    LABELS.put("AeadBaselineBenchmark.kmsEnvelopeAead", "baseline: Tink KmsEnvelopeAead, 1 ms simulated KMS per batch");
    LABELS.put("SealBenchmark.seal[NONE]", "Spillway seal, no compression");
    LABELS.put("SealBenchmark.seal[LZ4]", "Spillway seal, LZ4");
    LABELS.put("SealBenchmark.seal[ZSTD]", "Spillway seal, zstd (level 1)");
    LABELS.put("SpillAppendBenchmark.append[plaintext]", "baseline: plaintext Chronicle append");
    LABELS.put("SpillAppendBenchmark.append[sealed-none]", "Spillway seal + Chronicle append, no compression");
    LABELS.put("SpillAppendBenchmark.append[sealed-lz4]", "Spillway seal + Chronicle append, LZ4");
    LABELS.put("ReadOpenBenchmark.readNext[plaintext]", "baseline: plaintext Chronicle read");
    LABELS.put("ReadOpenBenchmark.readNext[sealed-none]", "Spillway read + open, no compression");
    LABELS.put("ReadOpenBenchmark.readNext[sealed-lz4]", "Spillway read + open, LZ4");
    LABELS.put("SpillBufferBenchmark.offerPollAck[NONE]", "Spillway offer → spill → poll → ack, no compression");
    LABELS.put("SpillBufferBenchmark.offerPollAck[LZ4]", "Spillway offer → spill → poll → ack, LZ4");
    LABELS.put("SpillBufferBenchmark.offerPollAck[ZSTD]", "Spillway offer → spill → poll → ack, zstd (level 1)");
    LABELS.put("ConcurrentOfferBenchmark.offerOneThread[1s]", "Spillway offer → spill, LZ4, fsync 1s, 1 producer thread");
    LABELS.put("ConcurrentOfferBenchmark.offerTwoThreads[1s]", "Spillway offer → spill, LZ4, fsync 1s, 2 producer threads (aggregate)");
    LABELS.put("ConcurrentOfferBenchmark.offerOneThread[none]", "Spillway offer → spill, LZ4, fsync none, 1 producer thread");
    LABELS.put("ConcurrentOfferBenchmark.offerTwoThreads[none]", "Spillway offer → spill, LZ4, fsync none, 2 producer threads (aggregate)");
    LABELS.put("EmbeddedPathBenchmark.marshalViaProtobufObjects", "baseline: SDK SpanData → OTLP bytes through protobuf objects");
    LABELS.put("EmbeddedPathBenchmark.marshalOnly", "SDK SpanData → OTLP bytes, written directly (mapping only)");
    LABELS.put("EmbeddedPathBenchmark.embeddedSpill", "embedded: SpanData → OTLP → LZ4 → seal → spill");
    LABELS.put("EmbeddedPathBenchmark.diskBufferingWrite", "baseline: OTel disk-buffering write (plaintext)");
  }

  public static int run(String[] args) throws IOException {
    Path in = Path.of("benchmarks/target/bench-results");
    Path md = Path.of("benchmarks/RESULTS.md");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--in" -> in = Path.of(args[++i]);
        case "--md" -> md = Path.of(args[++i]);
        default -> {
          System.err.println("usage: render [--in DIR] [--md FILE]");
          return 2;
        }
      }
    }
    return render(in, md);
  }

  /** A benchmark's mean score in ns per batch, keyed by label key and batch size. */
  record Score(double nsPerBatch, double error) {}

  public static int render(Path in, Path md) throws IOException {
    JsonObject ctx = JsonParser.parseString(Files.readString(in.resolve("context.json"))).getAsJsonObject();
    JsonArray jmh = JsonParser.parseString(Files.readString(in.resolve("jmh.json"))).getAsJsonArray();
    Map<String, TreeMap<Integer, Score>> scores = new LinkedHashMap<>();
    for (JsonElement e : jmh) {
      JsonObject r = e.getAsJsonObject();
      String full = r.get("benchmark").getAsString();
      String[] parts = full.split("\\.");
      String key = parts[parts.length - 2] + "." + parts[parts.length - 1];
      int batch = 0;
      StringBuilder extra = new StringBuilder();
      if (r.has("params")) {
        for (Map.Entry<String, JsonElement> p : r.getAsJsonObject("params").entrySet()) {
          if (p.getKey().equals("batch")) {
            batch = Integer.parseInt(p.getValue().getAsString());
          } else {
            extra.append(extra.length() == 0 ? "" : ",").append(p.getValue().getAsString());
          }
        }
      }
      if (extra.length() > 0) {
        key += "[" + extra + "]";
      }
      JsonObject pm = r.getAsJsonObject("primaryMetric");
      double err = pm.get("scoreError").isJsonPrimitive() && !pm.get("scoreError").getAsString().equals("NaN")
          ? pm.get("scoreError").getAsDouble() : Double.NaN;
      // avgt with N threads is the time per call on each thread: N calls finish per score
      int threads = r.has("threads") ? r.get("threads").getAsInt() : 1;
      scores.computeIfAbsent(key, k -> new TreeMap<>())
          .put(batch, new Score(pm.get("score").getAsDouble() / threads, err / threads));
    }
    Map<Integer, JsonObject> comp = new TreeMap<>();
    for (JsonElement e : ctx.getAsJsonArray("compression")) {
      comp.put(e.getAsJsonObject().get("batch").getAsInt(), e.getAsJsonObject());
    }
    double disk = ctx.get("diskBytesPerSecond").getAsDouble();
    List<Integer> batches = new ArrayList<>(comp.keySet());

    StringBuilder s = new StringBuilder();
    JsonObject m = ctx.getAsJsonObject("machine");
    s.append("# Benchmark results\n\n");
    s.append("Rendered by `java -jar benchmarks/target/benchmarks.jar render` from one `suite --")
        .append(ctx.get("suite").getAsString()).append("` run (").append(ctx.get("started").getAsString())
        .append(" → ").append(str(ctx, "finished")).append("). How to run and read them: [docs/BENCHMARKS.md](../docs/BENCHMARKS.md).\n\n");
    s.append(SIDE_BY_SIDE_LINK).append("\n\n");
    if (!str(ctx, "note").isEmpty()) {
      s.append("> ").append(str(ctx, "note")).append("\n\n");
    }
    s.append("Machine: ").append(m.get("nproc").getAsInt()).append(" CPUs (").append(str(m, "cpuModel")).append("), ")
        .append(str(m, "memTotal")).append(" memory, disk ").append(str(m, "disk")).append(", ")
        .append(str(m, "java")).append(".\n\n");
    s.append(String.format(Locale.ROOT, "Disk, sustained sequential write with fdatasync (%d GiB, 8 MiB writes): **%.0f MB/s**.%n%n",
        ctx.get("diskBytesWritten").getAsLong() >> 30, disk / 1e6));
    s.append("Spans: generated OTLP spans (user ids, e-mails, SQL with literals, JWT-like bearer tokens; 20 attributes, 2–3 events).\n\n");
    s.append("| batch | OTLP bytes | bytes/span | sealed, no compression | sealed, LZ4 | LZ4 ratio | sealed, zstd | zstd ratio |\n"
        + "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (JsonObject c : comp.values()) {
      boolean zstd = c.has("sealedZSTD"); // results from before the zstd codec have no such column
      s.append(String.format(Locale.ROOT, "| %d | %d | %.0f | %d | %d | %.2f× | %s | %s |%n", c.get("batch").getAsInt(),
          c.get("otlpBytes").getAsLong(), c.get("bytesPerSpan").getAsDouble(), c.get("sealedNONE").getAsLong(),
          c.get("sealedLZ4").getAsLong(), c.get("lz4Ratio").getAsDouble(),
          zstd ? Long.toString(c.get("sealedZSTD").getAsLong()) : "–",
          zstd ? String.format(Locale.ROOT, "%.2f×", c.get("otlpBytes").getAsDouble() / c.get("sealedZSTD").getAsDouble()) : "–"));
    }

    s.append("\n## ns per span (lower is better), and OTLP MB/s through the step\n\n");
    s.append("| implementation |");
    for (int b : batches) {
      s.append(" batch ").append(b).append(" |");
    }
    s.append("\n|---|");
    s.append("---:|".repeat(batches.size()));
    s.append("\n");
    List<String> keys = new ArrayList<>();
    for (String k : LABELS.keySet()) {
      if (scores.containsKey(k)) {
        keys.add(k);
      }
    }
    for (String k : scores.keySet()) {
      if (!keys.contains(k)) {
        keys.add(k);
      }
    }
    for (String k : keys) {
      s.append("| ").append(LABELS.getOrDefault(k, k)).append(" <br>`").append(k).append("` |");
      for (int b : batches) {
        Score sc = scores.get(k).get(b);
        if (sc == null) {
          s.append(" — |");
        } else {
          double nsSpan = sc.nsPerBatch / b;
          double mbs = comp.get(b).get("otlpBytes").getAsDouble() / sc.nsPerBatch * 1e3;
          s.append(String.format(Locale.ROOT, " %s ns <br>%.0f MB/s |", fmt(nsSpan), mbs));
        }
      }
      s.append("\n");
    }
    s.append("\nScores are JMH average time per batch divided by the batch size; ± errors are in `jmh.json`.\n");
    String chart = chartName(md);
    s.append("\n![ns per span](").append(chart).append(")\n");

    s.append("\n## Targets, as ratios within this run\n\n");
    s.append("| target | batch 128 | batch 512 | batch 8192 | met? |\n|---|---:|---:|---:|---|\n");
    targetRow(s, "sealing adds ≤ 10 % to a plaintext append of the same bytes (sealed-none ÷ plaintext)", batches,
        b -> ratio(scores, "SpillAppendBenchmark.append[sealed-none]", "SpillAppendBenchmark.append[plaintext]", b),
        r -> r <= 1.10, "%.2f×");
    targetRow(s, "— the same with LZ4 (sealed-lz4 ÷ plaintext; informational)", batches,
        b -> ratio(scores, "SpillAppendBenchmark.append[sealed-lz4]", "SpillAppendBenchmark.append[plaintext]", b),
        null, "%.2f×");
    targetRow(s, "sealed spill's bytes/s ≥ 0.8 × disk sustained rate (sealed-none record bytes/s ÷ disk)", batches,
        b -> bytesPerSecond(scores, "SpillAppendBenchmark.append[sealed-none]", b, comp.get(b).get("sealedNONE").getAsDouble()) / disk,
        r -> r >= 0.8, "%.2f×");
    targetRow(s, "— plaintext append's bytes/s ÷ disk (what storage alone reaches)", batches,
        b -> bytesPerSecond(scores, "SpillAppendBenchmark.append[plaintext]", b, comp.get(b).get("otlpBytes").getAsDouble()) / disk,
        null, "%.2f×");
    targetRow(s, "with LZ4, spilled spans/s ≥ 3 × what uncompressed bytes allow (sealed-lz4 spans/s ÷ (disk B/s ÷ OTLP B/span))", batches,
        b -> spansPerSecondVsDisk(scores, "SpillAppendBenchmark.append[sealed-lz4]", b, disk, comp),
        r -> r >= 3.0, "%.2f×");
    targetRow(s, "— the same through SpillBuffer.offer (fsync 1s), 1 producer thread (informational)", batches,
        b -> spansPerSecondVsDisk(scores, "ConcurrentOfferBenchmark.offerOneThread[1s]", b, disk, comp), null, "%.2f×");
    targetRow(s, "— the same, 2 producer threads compressing in parallel (informational)", batches,
        b -> spansPerSecondVsDisk(scores, "ConcurrentOfferBenchmark.offerTwoThreads[1s]", b, disk, comp), null, "%.2f×");
    targetRow(s, "embedded path ≥ 2 × faster per span than disk-buffering's plaintext write (disk-buffering ÷ embedded)", batches,
        b -> ratio(scores, "EmbeddedPathBenchmark.diskBufferingWrite", "EmbeddedPathBenchmark.embeddedSpill", b),
        r -> r >= 2.0, "%.2f×");
    targetRow(s, "— seal + append vs the raw crypto limit (sealed-none append ÷ Tink AES-GCM; informational)", batches,
        b -> ratio(scores, "SpillAppendBenchmark.append[sealed-none]", "AeadBaselineBenchmark.tinkAesGcm", b),
        null, "%.1f×");
    targetRow(s, "— one KMS call per batch vs Spillway's seal (KmsEnvelopeAead ÷ seal[NONE]; informational)", batches,
        b -> ratio(scores, "AeadBaselineBenchmark.kmsEnvelopeAead", "SealBenchmark.seal[NONE]", b),
        null, "%.1f×");

    s.append("\n### Key-provider calls per data-key epoch\n\n");
    Path kc = in.resolve("keycalls.tsv");
    if (Files.exists(kc)) {
      s.append("Counted per trial (warm-up included) by a counting `DataKeyIssuer`; an epoch is 1 GiB of plaintext here (`KeyCallLog.POLICY`). Inside a `SpillBuffer` the epochs are the buffer's own `BufferMetrics.keyEpochs` (data keys its writer used).\n\n");
      s.append("| benchmark | batch | batches | epochs | provider calls | calls per epoch | calls per batch |\n|---|---:|---:|---:|---:|---:|---:|\n");
      int trials = 0;
      int off = 0;
      for (String line : Files.readAllLines(kc)) {
        String[] f = line.split("\t");
        if (f.length < 5) {
          continue;
        }
        long batchesSealed = Long.parseLong(f[2]);
        long epochs = Long.parseLong(f[3]);
        long calls = Long.parseLong(f[4]);
        if (!f[0].startsWith("AeadBaseline")) {
          trials++;
          // the sealer fetches the next epoch's key ahead of rotation: that one call is not waste
          if (calls < epochs || calls > epochs + 1) {
            off++;
          }
        }
        s.append(String.format(Locale.ROOT, "| `%s` | %s | %d | %d | %d | %.2f | %.6f |%n", f[0], f[1], batchesSealed, epochs, calls,
            epochs == 0 ? Double.NaN : calls / (double) epochs, batchesSealed == 0 ? Double.NaN : calls / (double) batchesSealed));
      }
      s.append("\nTarget one call per epoch: **").append(off == 0 ? "met" : "missed in " + off + " of " + trials + " trials")
          .append("** (a trial misses when its calls are fewer than its epochs or more than one above them: the sealer")
          .append(" fetches the next epoch's key ahead of rotation, so a trial that stopped after that fetch shows one call")
          .append(" more than the epochs it used). The KmsEnvelopeAead baseline makes one call per batch by design.\n");
    } else {
      s.append("No `keycalls.tsv` in this run.\n");
    }
    s.append(keptSections(md));
    Files.createDirectories(md.toAbsolutePath().getParent());
    Files.writeString(md, s.toString(), StandardCharsets.UTF_8);
    Files.writeString(md.toAbsolutePath().getParent().resolve(chart), Svg.chart(keys, LABELS, scores, batches),
        StandardCharsets.UTF_8);
    System.out.println("wrote " + md + " and " + chart);
    return 0;
  }

  /**
   * Sections written by hand (figures from runs outside the suite) follow this line in the page;
   * a new render keeps them as they are.
   */
  static final String KEPT_MARKER = "<!-- hand-written sections below: kept by render -->";

  /** The page's hand-written tail, from {@link #KEPT_MARKER} on, or nothing. */
  static String keptSections(Path md) throws IOException {
    if (!Files.exists(md)) {
      return "";
    }
    String old = Files.readString(md, StandardCharsets.UTF_8);
    int at = old.indexOf(KEPT_MARKER);
    return at < 0 ? "" : "\n" + old.substring(at);
  }

  private interface RatioFn {
    double at(int batch);
  }

  private interface Check {
    boolean ok(double r);
  }

  private static void targetRow(StringBuilder s, String what, List<Integer> batches, RatioFn fn, Check check, String format) {
    s.append("| ").append(what).append(" |");
    int met = 0;
    int known = 0;
    for (int b : batches) {
      double r;
      try {
        r = fn.at(b);
      } catch (RuntimeException e) {
        r = Double.NaN;
      }
      if (Double.isNaN(r)) {
        s.append(" — |");
        continue;
      }
      known++;
      boolean ok = check != null && check.ok(r);
      if (ok) {
        met++;
      }
      s.append(" ").append(String.format(Locale.ROOT, format, r)).append(check == null ? "" : ok ? " ✓" : " ✗").append(" |");
    }
    if (check == null) {
      s.append(" |\n");
    } else {
      s.append(known == 0 ? " no data |\n" : met == known ? " **met** |\n" : met == 0 ? " **missed** |\n" : " **partly** (" + met + "/" + known + ") |\n");
    }
  }

  static double nsPerBatch(Map<String, TreeMap<Integer, Score>> scores, String key, int batch) {
    TreeMap<Integer, Score> t = scores.get(key);
    if (t == null || !t.containsKey(batch)) {
      return Double.NaN;
    }
    return t.get(batch).nsPerBatch;
  }

  /** The chart beside a page: results-chart.svg for RESULTS.md, NAME-chart.svg for NAME.md. */
  static String chartName(Path md) {
    String name = md.getFileName().toString();
    if (name.equals("RESULTS.md")) {
      return "results-chart.svg";
    }
    return (name.endsWith(".md") ? name.substring(0, name.length() - 3) : name) + "-chart.svg";
  }

  /** Spans per second through a benchmark ÷ the spans per second the disk takes as raw OTLP bytes. */
  private static double spansPerSecondVsDisk(
      Map<String, TreeMap<Integer, Score>> scores, String key, int batch, double disk, Map<Integer, JsonObject> comp) {
    double spansPerS = batch / nsPerBatch(scores, key, batch) * 1e9;
    return spansPerS / (disk / comp.get(batch).get("bytesPerSpan").getAsDouble());
  }

  private static double ratio(Map<String, TreeMap<Integer, Score>> scores, String a, String b, int batch) {
    return nsPerBatch(scores, a, batch) / nsPerBatch(scores, b, batch);
  }

  private static double bytesPerSecond(Map<String, TreeMap<Integer, Score>> scores, String key, int batch, double bytesPerBatch) {
    return bytesPerBatch / nsPerBatch(scores, key, batch) * 1e9;
  }

  static String fmt(double ns) {
    if (ns >= 100) {
      return String.format(Locale.ROOT, "%,.0f", ns);
    }
    return String.format(Locale.ROOT, ns >= 10 ? "%.1f" : "%.2f", ns);
  }

  private static String str(JsonObject o, String k) {
    return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : "";
  }
}
