package dev.spillway.bench.core;

import dev.spillway.core.Compression;
import dev.spillway.bench.AesGcmWarmup;
import dev.spillway.bench.BenchDirs;
import dev.spillway.bench.BenchKeys;
import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.OfferResult;
import dev.spillway.core.OverflowPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.PayloadType;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@code SpillBuffer.offer} with spilling forced (memory limit 0, LZ4, default {@code fsync:
 * 1s}, {@code drop-oldest} on a 2 GiB budget as retention, nobody reading), from one thread and
 * from two, as the daemon's receiver threads offer. Offers compress before they take the writer
 * lock, so two threads compress in parallel; encryption and the append stay serialised.
 *
 * <p>JMH scores a multi-threaded run as the average time per call on each thread; the renderer
 * divides by the thread count, so the page shows the buffer's aggregate ns per span.
 */
@State(Scope.Benchmark)
public class ConcurrentOfferBenchmark {
  @Param({"128", "512", "8192"})
  public int batch;

  /** {@code fsync:} setting, as in the daemon's configuration. */
  @Param({"1s", "none"})
  public String fsync;

  private byte[] payload;
  private Path dir;
  private BenchKeys keys;
  private SpillBuffer buffer;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    AesGcmWarmup.forBatch(batch);
    payload = SpanFixtures.otlpBytes(batch);
    dir = BenchDirs.create("concurrent");
    keys = BenchKeys.create(dir.resolve("keys"));
    buffer = keys.spillEverything(dir.resolve("spill"))
        .maxDiskBytes(2L << 30)
        .overflowPolicy(OverflowPolicy.DROP_OLDEST)
        .compression(Compression.LZ4)
        .fsync(FsyncPolicy.fromConfigValue(fsync))
        .build();
  }

  @Benchmark
  @Threads(1)
  public OfferResult offerOneThread() {
    return offer();
  }

  @Benchmark
  @Threads(2)
  public OfferResult offerTwoThreads() {
    return offer();
  }

  private OfferResult offer() {
    OfferResult r = buffer.offer(PayloadType.OTLP_TRACES, payload);
    if (r.outcome() != OfferResult.Outcome.SPILLED) {
      throw new IllegalStateException("expected a spill, got " + r);
    }
    return r;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    buffer.close();
    BenchDirs.delete(dir);
  }
}
