package dev.spillway.bench.export;

import dev.spillway.bench.core.SpillBufferBenchmark;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The embedded path against disk-buffering's plaintext write (and the SDK's low-allocation trace
 * marshaler that write maps with, alone), and {@code offerPollAck} per codec,
 * as {@link CodecCpuRatios} measures codecs: on a shared, noisy machine JMH's wall-clock averages
 * (one benchmark after the other while other builds come and go) carried errors of several
 * hundred per cent, so here the variants take turns in shuffled rounds, each timed by the
 * thread's CPU time (user + system: the page-cache copies and page faults of both writers count),
 * and each variant's figure is its median round. Work on other threads (Chronicle's 1 s msync, the
 * kernel's write-back) is not counted, for neither side. It complements JMH, in one JVM.
 *
 * <p>It uses the JMH benchmarks' own state classes, so the same class run against another build's
 * jar (first on the class path: this class's directory, then that jar) measures that build: how
 * docs/BENCHMARKS.md compares before and after a change.
 *
 * <pre>
 * java [Chronicle's flags] -cp benchmarks/target/benchmarks.jar \
 *     dev.spillway.bench.export.EmbeddedCpuRatios [batch] [rounds]
 * </pre>
 */
public final class EmbeddedCpuRatios {

  private EmbeddedCpuRatios() {}

  public static void main(String[] args) throws Exception {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 512;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    EmbeddedPathBenchmark embedded = new EmbeddedPathBenchmark();
    embedded.batch = batch;
    embedded.setUp();
    // the same path without compression, to show what LZ4 costs on it
    EmbeddedPathBenchmark uncompressed = new EmbeddedPathBenchmark();
    uncompressed.batch = batch;
    uncompressed.codec = "NONE";
    uncompressed.setUp();
    Map<String, SpillBufferBenchmark> buffers = new LinkedHashMap<>();
    for (String codec : List.of("NONE", "LZ4", "ZSTD")) {
      SpillBufferBenchmark b = new SpillBufferBenchmark();
      b.batch = batch;
      b.codec = codec;
      b.setUp();
      buffers.put(codec, b);
    }
    Map<String, Callable<Object>> variants = new LinkedHashMap<>();
    variants.put("diskBufferingWrite", embedded::diskBufferingWrite);
    variants.put("embeddedSpill", embedded::embeddedSpill);
    variants.put("marshalOnly", embedded::marshalOnly);
    // the engine's share alone: offer of bytes mapped once (LZ4, seal, append), and without LZ4
    variants.put("offerPremapped[LZ4]", embedded::offerPremapped);
    variants.put("embeddedSpill[NONE]", uncompressed::embeddedSpill);
    variants.put("offerPremapped[NONE]", uncompressed::offerPremapped);
    // What disk-buffering maps with: the SDK's internal low-allocation marshaler, reused as the
    // library reuses it, into a reused stream (the mapping alone, without its file write).
    List<io.opentelemetry.sdk.trace.data.SpanData> spans = dev.spillway.bench.SpanFixtures.spans(batch);
    io.opentelemetry.exporter.internal.otlp.traces.LowAllocationTraceRequestMarshaler sdk =
        new io.opentelemetry.exporter.internal.otlp.traces.LowAllocationTraceRequestMarshaler();
    java.io.ByteArrayOutputStream reused = new java.io.ByteArrayOutputStream();
    variants.put("sdkMarshalOnly", () -> {
      sdk.initialize(spans);
      try {
        reused.reset();
        sdk.writeBinaryTo(reused);
        return reused.size();
      } finally {
        sdk.reset();
      }
    });
    buffers.forEach((codec, b) -> variants.put("offerPollAck[" + codec + "]", b::offerPollAck));
    try {
      run(variants, batch, rounds);
    } finally {
      embedded.tearDown();
      uncompressed.tearDown();
      for (SpillBufferBenchmark b : buffers.values()) {
        b.tearDown();
      }
    }
  }

  private static void run(Map<String, Callable<Object>> variants, int batch, int rounds) throws Exception {
    // turns of about 50 ms of CPU each, sized from a warm-up of 3 s CPU per variant
    Map<String, Long> medians =
        ThreadCpuRounds.medianCpuNanos(variants, rounds, Duration.ofSeconds(3), Duration.ofMillis(50));
    System.out.printf(Locale.ROOT, "batch %d, %d rounds, median CPU per batch (ns per span); ratio: disk-buffering ÷ variant%n",
        batch, rounds);
    long base = medians.get("diskBufferingWrite");
    medians.forEach((k, m) -> System.out.printf(Locale.ROOT, "%-24s %10.1f µs %8.0f ns/span  %5.2f×%n",
        k, m / 1000.0, (double) m / batch, (double) base / m));
    System.out.println("(sink " + ThreadCpuRounds.sinkBit() + ")");
  }
}
