package dev.spillway.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RendererTest {
  @TempDir Path dir;

  private static String result(String benchmark, int threads, String params, double nsPerBatch) {
    return """
        {"benchmark": "dev.spillway.bench.%s", "mode": "avgt", "threads": %d, "params": {%s},
         "primaryMetric": {"score": %s, "scoreError": 1.0, "scoreUnit": "ns/op"}}"""
        .formatted(benchmark, threads, params, nsPerBatch);
  }

  @Test
  void render_dividesMultiThreadedScoresByThreadsAndComputesTargetsFromTheSameRun() throws Exception {
    Files.writeString(dir.resolve("context.json"), """
        {"suite": "short", "started": "2026-11-24T00:00:00Z", "finished": "2026-11-24T00:05:00Z",
         "machine": {"nproc": 2, "cpuModel": "test CPU", "memTotal": "1 kB", "disk": "test", "java": "17"},
         "diskBytesPerSecond": 400000000, "diskBytesWritten": 2147483648,
         "compression": [{"batch": 128, "otlpBytes": 128000, "bytesPerSpan": 1000,
                          "sealedNONE": 128086, "sealedLZ4": 32000, "lz4Ratio": 4.0}]}""");
    String b = "\"batch\": \"128\"";
    Files.writeString(dir.resolve("jmh.json"), "[" + String.join(",",
        result("core.ConcurrentOfferBenchmark.offerOneThread", 1, b + ", \"fsync\": \"1s\"", 128_000),
        result("core.ConcurrentOfferBenchmark.offerTwoThreads", 2, b + ", \"fsync\": \"1s\"", 192_000),
        result("spill.SpillAppendBenchmark.append", 1, b + ", \"mode\": \"plaintext\"", 320_000),
        result("spill.SpillAppendBenchmark.append", 1, b + ", \"mode\": \"sealed-none\"", 336_000),
        result("spill.SpillAppendBenchmark.append", 1, b + ", \"mode\": \"sealed-lz4\"", 80_000)) + "]");
    Path md = dir.resolve("RESULTS.md");
    Files.writeString(md, "an old render\n\n" + Renderer.KEPT_MARKER + "\n\n## Codecs\n\nby hand\n");

    Renderer.render(dir, md);

    String page = Files.readString(md);
    // 1 thread: 128,000 ns per batch of 128 = 1,000 ns/span; 2 threads: 192,000 / 2 / 128 = 750
    assertThat(page).contains("| Spillway offer → spill, LZ4, fsync 1s, 1 producer thread <br>`ConcurrentOfferBenchmark.offerOneThread[1s]` | 1,000 ns");
    assertThat(page).contains("2 producer threads (aggregate) <br>`ConcurrentOfferBenchmark.offerTwoThreads[1s]` | 750 ns");
    // sealed-none ÷ plaintext = 1.05: met
    assertThat(page).contains("(sealed-none ÷ plaintext) | 1.05× ✓");
    // disk takes 400,000 spans/s of 1,000 B; LZ4 append does 128 / 80 µs = 1.6 M spans/s: 4×
    assertThat(page).contains("(sealed-lz4 spans/s ÷ (disk B/s ÷ OTLP B/span)) | 4.00× ✓");
    // two threads: 1 / 750 ns = 1.33 M spans/s ÷ 400,000 = 3.33×
    assertThat(page).contains("2 producer threads compressing in parallel (informational) | 3.33×");
    assertThat(page).contains("![ns per span](results-chart.svg)");
    assertThat(page).contains("(../docs/BENCHMARKS.md#side-by-side-with-the-opentelemetry-collector-opsbenchside-by-sidesh)");
    assertThat(dir.resolve("results-chart.svg")).exists();
    assertThat(page).doesNotContain("an old render");
    assertThat(page).endsWith(Renderer.KEPT_MARKER + "\n\n## Codecs\n\nby hand\n");
  }

  @Test
  void keyCalls_oneFetchAheadIsMetTwoIsMissed() throws Exception {
    render_dividesMultiThreadedScoresByThreadsAndComputesTargetsFromTheSameRun(); // writes the inputs
    Files.writeString(dir.resolve("keycalls.tsv"), "SealBenchmark.seal[NONE]\t128\t1000\t2\t3\n");
    Renderer.render(dir, dir.resolve("RESULTS.md"));
    assertThat(Files.readString(dir.resolve("RESULTS.md"))).contains("Target one call per epoch: **met**");
    Files.writeString(dir.resolve("keycalls.tsv"), "SealBenchmark.seal[NONE]\t128\t1000\t2\t4\n");
    Renderer.render(dir, dir.resolve("RESULTS.md"));
    assertThat(Files.readString(dir.resolve("RESULTS.md"))).contains("Target one call per epoch: **missed in 1 of 1 trials**");
  }

  @Test
  void render_keepsTheHandWrittenSectionsBelowTheMarker_andRendersTheRestAnew() throws Exception {
    render_dividesMultiThreadedScoresByThreadsAndComputesTargetsFromTheSameRun(); // writes the inputs
    Path md = dir.resolve("RESULTS.md");
    String kept = Renderer.KEPT_MARKER + "\n\n## The Kafka backend\n\nkafka 1 ingest / chronicle 1 ingest = 0.92\n";
    Files.writeString(md, "# stale rendered part\n\n" + kept);

    Renderer.render(dir, md);

    String page = Files.readString(md);
    assertThat(page).doesNotContain("stale rendered part").contains("1.05× ✓").endsWith(kept);
    Renderer.render(dir, md);
    assertThat(Files.readString(md)).as("rendering twice keeps one copy").isEqualTo(page);
  }

  @Test
  void chartName_followsThePageSoTwoPagesKeepTheirOwnCharts() {
    assertThat(Renderer.chartName(Path.of("benchmarks/RESULTS.md"))).isEqualTo("results-chart.svg");
    assertThat(Renderer.chartName(Path.of("RESULTS-full-append.md"))).isEqualTo("RESULTS-full-append-chart.svg");
  }
}
