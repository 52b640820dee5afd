package dev.spillway.bench.export;

import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.export.internal.OtlpSpans;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
  private static long sink;

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

    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    // ops per turn: about 20 ms of CPU each, sized from a warm-up of 2 s CPU per variant
    Map<String, Integer> opsPerTurn = new LinkedHashMap<>();
    for (Map.Entry<String, Callable<Object>> v : variants.entrySet()) {
      long start = cpu.getCurrentThreadCpuTime();
      int ops = 0;
      while (cpu.getCurrentThreadCpuTime() - start < 2_000_000_000L && ops < 1_000_000) {
        consume(v.getValue().call());
        ops++;
      }
      long perOp = Math.max(1, (cpu.getCurrentThreadCpuTime() - start) / ops);
      opsPerTurn.put(v.getKey(), (int) Math.max(1, 20_000_000L / perOp));
    }
    Map<String, long[]> perOpNanos = new LinkedHashMap<>();
    variants.keySet().forEach(k -> perOpNanos.put(k, new long[rounds]));
    List<String> order = new ArrayList<>(variants.keySet());
    Random shuffle = new Random(1);
    for (int round = 0; round < rounds; round++) {
      Collections.shuffle(order, shuffle);
      for (String k : order) {
        Callable<Object> op = variants.get(k);
        int n = opsPerTurn.get(k);
        long start = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          consume(op.call());
        }
        perOpNanos.get(k)[round] = (cpu.getCurrentThreadCpuTime() - start) / n;
      }
    }
    System.out.printf("batch %d, %d rounds, median CPU µs per batch; ratio to the signal's directWrite%n", batch, rounds);
    Map<String, Long> medians = new LinkedHashMap<>();
    perOpNanos.forEach((k, v) -> {
      long[] s = v.clone();
      Arrays.sort(s);
      medians.put(k, s[s.length / 2]);
    });
    medians.forEach((k, m) -> {
      String signal = k.substring(0, k.indexOf('.'));
      long base = medians.get(signal + ".directWrite");
      System.out.printf("%-36s %10.1f µs  %5.2f×%n", k, m / 1000.0, (double) m / base);
    });
    System.out.println("(sink " + (sink & 1) + ")");
  }

  private static void consume(Object o) {
    sink += o instanceof byte[] b ? b.length : o instanceof List<?> l ? l.size() : o.hashCode();
  }
}
