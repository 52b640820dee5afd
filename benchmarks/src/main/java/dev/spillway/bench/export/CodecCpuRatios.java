package dev.spillway.bench.export;

import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.export.internal.OtlpSpans;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Ratios between the codec variants of {@link LogsCodecBenchmark} and {@link
 * MetricsCodecBenchmark} (and, for reference, spans through {@code OtlpSpans} and the SDK's {@code
 * TraceRequestMarshaler}) on a shared, noisy machine, where JMH's wall-clock averages run one
 * benchmark after another and the load changes in between. Here the variants take turns in
 * shuffled rounds, each timed by the thread's CPU time, and each variant's figure is its median
 * round: a change of load hits every variant alike, and time spent waiting for a core is not
 * counted. It complements JMH; it does not replace it (no forks, one JVM, GC and JIT shared).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.spillway.bench.export.CodecCpuRatios [batch] [rounds]
 * </pre>
 */
public final class CodecCpuRatios {

  private CodecCpuRatios() {}

  public static void main(String[] args) throws Exception {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 512;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    LogsCodecBenchmark logs = new LogsCodecBenchmark();
    logs.batch = batch;
    logs.setUp();
    MetricsCodecBenchmark metrics = new MetricsCodecBenchmark();
    metrics.batch = batch;
    metrics.setUp();
    List<SpanData> spans = SpanFixtures.spans(batch);

    Map<String, Callable<Object>> variants = new LinkedHashMap<>();
    variants.put("logs.directWrite", logs::directWrite);
    variants.put("logs.sdkMarshaler", logs::sdkMarshaler);
    variants.put("logs.sdkLowAllocationMarshaler", logs::sdkLowAllocationMarshaler);
    variants.put("logs.viaProtobufObjects", logs::viaProtobufObjects);
    variants.put("logs.readBack", logs::readBack);
    variants.put("metrics.directWrite", metrics::directWrite);
    variants.put("metrics.sdkMarshaler", metrics::sdkMarshaler);
    variants.put("metrics.sdkLowAllocationMarshaler", metrics::sdkLowAllocationMarshaler);
    variants.put("metrics.viaProtobufObjects", metrics::viaProtobufObjects);
    variants.put("metrics.readBack", metrics::readBack);
    variants.put("spans.directWrite", () -> OtlpSpans.toBytes(spans));
    variants.put("spans.sdkMarshaler", () -> {
      TraceRequestMarshaler m = TraceRequestMarshaler.create(spans);
      ByteArrayOutputStream out = new ByteArrayOutputStream(m.getBinarySerializedSize());
      m.writeBinaryTo(out);
      return out.toByteArray();
    });
    variants.put("spans.viaProtobufObjects", () -> OtlpSpans.toRequest(spans).toByteArray());

    // turns of about 20 ms of CPU each, sized from a warm-up of 2 s CPU per variant
    Map<String, Long> medians =
        ThreadCpuRounds.medianCpuNanos(variants, rounds, Duration.ofSeconds(2), Duration.ofMillis(20));
    System.out.printf("batch %d, %d rounds, median CPU µs per batch; ratio to the signal's directWrite%n", batch, rounds);
    medians.forEach((k, m) -> {
      String signal = k.substring(0, k.indexOf('.'));
      long base = medians.get(signal + ".directWrite");
      System.out.printf("%-36s %10.1f µs  %5.2f×%n", k, m / 1000.0, (double) m / base);
    });
    System.out.println("(sink " + ThreadCpuRounds.sinkBit() + ")");
  }
}
