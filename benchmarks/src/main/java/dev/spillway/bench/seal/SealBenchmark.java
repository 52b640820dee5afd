package dev.spillway.bench.seal;

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
 * {@link Sealer#seal} alone (no storage): header, optional LZ4, AES-256-GCM under the epoch's
 * data key, key rotation. Score: ns per batch.
 */
@State(Scope.Thread)
public class SealBenchmark {
  @Param({"128", "512", "8192"})
  public int batch;

  @Param({"NONE", "LZ4", "ZSTD"})
  public String codec;

  private byte[] payload;
  private Path dir;
  private BenchKeys keys;
  private Sealer sealer;
  private long sealed;
  private long epochs;
  private Object lastKey;

  @Setup(Level.Trial)
  public void setUp() {
    AesGcmWarmup.forBatch(batch);
    payload = SpanFixtures.otlpBytes(batch);
    dir = BenchDirs.create("seal");
    keys = BenchKeys.create(dir);
    sealer = new Sealer(keys.issuer(), "bench", KeyCallLog.POLICY, Codec.valueOf(codec), Clock.systemUTC());
  }

  @Benchmark
  public byte[] seal() throws Exception {
    SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload);
    sealed++;
    if (b.keyRecord() != lastKey) {
      lastKey = b.keyRecord();
      epochs++;
    }
    return b.bytes();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    KeyCallLog.record("SealBenchmark.seal[" + codec + "]", batch, sealed, epochs, keys.issuer().calls());
    sealer.close();
    BenchDirs.delete(dir);
  }
}
