package dev.spillway.server.receive;

import dev.spillway.core.Compression;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.spillway.core.Durability;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.PayloadType;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A benchmark, not a test of behaviour (off by default): the buffer side of coalescing alone, the
 * part it can change. Four threads (as the gRPC receiver's executor) offer 10-span requests of ~1
 * KB per span into a real durable SpillBuffer (lz4, sealed and appended per record), directly or
 * through the coalescer, in alternating rounds; reports the offering threads' CPU time per 100k
 * spans (ThreadMXBean: other processes on a shared machine do not count) and spans/s, medians and
 * spread, and the ratios.
 *
 * <pre>mvn -o -pl buffer-server -am test -Dtest=CoalescingCpuBenchmarkTest -Dsurefire.failIfNoSpecifiedTests=false -Dspillway.bench.coalesce=true</pre>
 */
@EnabledIfSystemProperty(named = "spillway.bench.coalesce", matches = "true")
class CoalescingCpuBenchmarkTest {
  static final int THREADS = 4;
  static final int ROUNDS = Integer.getInteger("spillway.bench.coalesce.rounds", 5);
  static final int SPANS_PER_REQUEST = Integer.getInteger("spillway.bench.coalesce.batch", 10);
  static final int REQUESTS_PER_THREAD = 20_000 / SPANS_PER_REQUEST * 10 / THREADS;

  @TempDir Path dir;

  @Test
  void cpuPerSpan_coalescedAgainstDirect() throws Exception {
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    byte[] request = request(SPANS_PER_REQUEST);
    List<double[]> on = new ArrayList<>();
    List<double[]> off = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      for (int round = 0; round < ROUNDS * 2 + 2; round++) {
        boolean coalesce = round % 2 == (round / 2) % 2; // on, off, off, on, on, off, ...
        try (SpillBuffer buffer = SpillBuffer.builder().directory(dir.resolve("spill-" + round))
            .durability(Durability.DURABLE).memoryLimitBytes(0).maxDiskBytes(4L << 30)
            .compression(Compression.LZ4).fsync(FsyncPolicy.none())
            .writerKeys(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)))
            .readerKeys(LocalKeys.unwrapper(keys.resolve(LocalKeys.READER_FILE)))
            .build()) {
          SpillWriter w = coalesce
              ? new CoalescingSpillWriter(buffer, 64 << 10, Duration.ofMillis(2), 1 << 20, 0,
                  Boolean.getBoolean("spillway.bench.coalesce.fullWindow"))
              : buffer;
          double[] r = run(pool, w, request, buffer);
          if (round >= 2) { // the first two rounds warm the JIT
            (coalesce ? on : off).add(r);
          }
        }
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    System.out.printf(Locale.ROOT, "coalesce benchmark: %d threads, %d spans/request (%d B), %d rounds each%n",
        THREADS, SPANS_PER_REQUEST, request.length, on.size());
    print("on ", on);
    print("off", off);
    System.out.printf(Locale.ROOT, "ratio on/off: CPU per span %.2f, spans/s %.2f, records per request %.2f%n",
        median(on, 0) / median(off, 0), median(on, 1) / median(off, 1), median(on, 2) / median(off, 2));
  }

  /** {CPU s per 100k spans, spans/s, records per request}. */
  private static double[] run(ExecutorService pool, SpillWriter w, byte[] request, SpillBuffer buffer) throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    AtomicLong cpuNanos = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      done.add(pool.submit(() -> {
        start.await(10, TimeUnit.SECONDS);
        long c0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
          assertThat(w.offer(PayloadType.OTLP_TRACES, request).accepted()).isTrue();
        }
        cpuNanos.addAndGet(mx.getCurrentThreadCpuTime() - c0);
        return null;
      }));
    }
    long offered0 = buffer.metrics().offered();
    long t0 = System.nanoTime();
    start.countDown();
    for (Future<?> f : done) {
      f.get(10, TimeUnit.MINUTES);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double spans = (double) THREADS * REQUESTS_PER_THREAD * SPANS_PER_REQUEST;
    double records = buffer.metrics().offered() - offered0;
    return new double[] {cpuNanos.get() / 1e9 * 1e5 / spans, spans / seconds, records / (THREADS * REQUESTS_PER_THREAD)};
  }

  private static void print(String mode, List<double[]> rs) {
    System.out.printf(Locale.ROOT, "  %s: CPU s/100k spans %.3f (%.3f-%.3f), spans/s %.0f (%.0f-%.0f), records/request %.2f%n",
        mode, median(rs, 0), min(rs, 0), max(rs, 0), median(rs, 1), min(rs, 1), max(rs, 1), median(rs, 2));
  }

  private static double median(List<double[]> rs, int i) {
    double[] v = rs.stream().mapToDouble(r -> r[i]).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double min(List<double[]> rs, int i) {
    return rs.stream().mapToDouble(r -> r[i]).min().orElse(0);
  }

  private static double max(List<double[]> rs, int i) {
    return rs.stream().mapToDouble(r -> r[i]).max().orElse(0);
  }

  /** Spans of ~1 KB each (20 attributes), as loadgen's fixture. */
  static byte[] request(int spans) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      Span.Builder s = Span.newBuilder()
          .setTraceId(ByteString.copyFrom(ByteBuffer.allocate(16).putLong(8, i + 1).array()))
          .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(0, i + 1).array()))
          .setName("GET /api/v1/orders/{id}")
          .setStartTimeUnixNano(1_700_000_000_000_000_000L + i)
          .setEndTimeUnixNano(1_700_000_000_100_000_000L + i);
      for (int a = 0; a < 20; a++) {
        s.addAttributes(KeyValue.newBuilder().setKey("attribute.key." + a)
            .setValue(AnyValue.newBuilder().setStringValue("value-" + a + "-" + (i * 31 + a) + "-abcdefghij")));
      }
      ss.addSpans(s);
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ss)).build().toByteArray();
  }
}
