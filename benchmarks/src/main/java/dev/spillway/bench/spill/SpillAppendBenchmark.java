package dev.spillway.bench.spill;

import dev.spillway.bench.AesGcmWarmup;
import dev.spillway.bench.BenchDirs;
import dev.spillway.bench.BenchKeys;
import dev.spillway.bench.KeyCallLog;
import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.PayloadType;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.Sealer;
import java.nio.file.Path;
import java.time.Clock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One OTLP batch to the Chronicle spill: {@code plaintext} appends the serialized request as it
 * is (the baseline: what storage costs without Spillway); {@code sealed-none} seals it without
 * compression and appends; {@code sealed-lz4} compresses, seals and appends (the default).
 * Score: ns per batch; the renderer divides by the batch size.
 */
@State(Scope.Thread)
public class SpillAppendBenchmark {
  @Param({"128", "512", "8192"})
  public int batch;

  @Param({"plaintext", "sealed-none", "sealed-lz4"})
  public String mode;

  private byte[] payload;
  private Path dir;
  private RollingSpill spill;
  private BenchKeys keys;
  private Sealer sealer;
  private long sealed;
  private long epochs;
  private Object lastKey;

  @Setup(Level.Trial)
  public void setUp() {
    AesGcmWarmup.forBatch(batch);
    payload = SpanFixtures.otlpBytes(batch);
    dir = BenchDirs.create("append");
    spill = new RollingSpill(dir.resolve("queue"));
    if (!mode.equals("plaintext")) {
      keys = BenchKeys.create(dir.resolve("keys"));
      Codec codec = mode.equals("sealed-lz4") ? Codec.LZ4 : Codec.NONE;
      sealer = new Sealer(keys.issuer(), "bench", KeyCallLog.POLICY, codec, Clock.systemUTC());
    }
  }

  @Benchmark
  public long append() throws Exception {
    if (sealer == null) {
      return spill.append(payload, null);
    }
    SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload);
    sealed++;
    if (b.keyRecord() != lastKey) {
      lastKey = b.keyRecord();
      epochs++;
    }
    return spill.append(b.bytes(), b.keyRecord());
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (sealer != null) {
      KeyCallLog.record("SpillAppendBenchmark.append[" + mode + "]", batch, sealed, epochs, keys.issuer().calls());
      sealer.close();
    }
    spill.close();
    BenchDirs.delete(dir);
  }
}
