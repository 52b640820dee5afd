package dev.spillway.bench.core;

import dev.spillway.core.Compression;
import dev.spillway.bench.AesGcmWarmup;
import dev.spillway.bench.BenchDirs;
import dev.spillway.bench.BenchKeys;
import dev.spillway.bench.KeyCallLog;
import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Delivery;
import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.PayloadType;
import java.nio.file.Path;
import java.time.Duration;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The whole buffer path with spilling forced ({@code memoryLimitBytes(0)}): offer (seal +
 * append), poll (read + open), ack (durable position, retention), one batch at a time on one
 * thread, default {@code fsync: 1s}. Score: ns per batch.
 */
@State(Scope.Thread)
public class SpillBufferBenchmark {
  @Param({"128", "512", "8192"})
  public int batch;

  @Param({"NONE", "LZ4", "ZSTD"})
  public String codec;

  private byte[] payload;
  private Path dir;
  private BenchKeys keys;
  private SpillBuffer buffer;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    AesGcmWarmup.forBatch(batch);
    payload = SpanFixtures.otlpBytes(batch);
    dir = BenchDirs.create("buffer");
    keys = BenchKeys.create(dir.resolve("keys"));
    buffer = keys.spillEverything(dir.resolve("spill"))
        .maxDiskBytes(4L << 30)
        .compression(Compression.valueOf(codec))
        .build();
  }

  @Benchmark
  public int offerPollAck() throws Exception {
    OfferResult r = buffer.offer(PayloadType.OTLP_TRACES, payload);
    if (r.outcome() != OfferResult.Outcome.SPILLED) {
      throw new IllegalStateException("expected a spill, got " + r);
    }
    Delivery d = buffer.poll(Duration.ofSeconds(5));
    if (d == null) {
      throw new IllegalStateException("nothing to poll after a spill");
    }
    int n = d.payload().length;
    d.ack();
    return n;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    BufferMetrics m = buffer.metrics();
    KeyCallLog.record("SpillBufferBenchmark.offerPollAck[" + codec + "]", batch, m.spilled(), m.keyEpochs(), keys.issuer().calls());
    buffer.close();
    BenchDirs.delete(dir);
  }
}
