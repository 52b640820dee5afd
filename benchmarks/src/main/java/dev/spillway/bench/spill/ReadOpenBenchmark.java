package dev.spillway.bench.spill;

import dev.spillway.bench.AesGcmWarmup;
import dev.spillway.bench.BenchDirs;
import dev.spillway.bench.BenchKeys;
import dev.spillway.bench.KeyCallLog;
import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.KeyRecord;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.PayloadType;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.SealedRecord;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.spill.SpillLog;
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
 * Reads the next batch back from the Chronicle spill: {@code plaintext} reads the bytes (the
 * baseline); {@code sealed-*} reads, parses the envelope and opens it (authenticate, decrypt,
 * decompress), accepting key records as it meets them. The spill is written once in setup (about
 * 192 MiB, {@code -Dspillway.bench.readFillBytes}, at least 16 batches) and read round and round, so reads come from
 * the page cache, as they do when the drain follows the writer closely. Score: ns per batch.
 */
@State(Scope.Thread)
public class ReadOpenBenchmark {
  @Param({"128", "512", "8192"})
  public int batch;

  @Param({"plaintext", "sealed-none", "sealed-lz4"})
  public String mode;

  private Path dir;
  private RollingSpill spill;
  private Opener opener;
  private long first = -1;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    AesGcmWarmup.forBatch(batch);
    byte[] payload = SpanFixtures.otlpBytes(batch);
    dir = BenchDirs.create("read");
    spill = new RollingSpill(dir.resolve("queue"));
    Sealer sealer = null;
    if (!mode.equals("plaintext")) {
      BenchKeys keys = BenchKeys.create(dir.resolve("keys"));
      sealer = new Sealer(keys.issuer(), "bench", KeyCallLog.POLICY,
          mode.equals("sealed-lz4") ? Codec.LZ4 : Codec.NONE, Clock.systemUTC());
      opener = new Opener(keys.unwrapper(), "bench");
    }
    long records = Math.max(16, Long.getLong("spillway.bench.readFillBytes", 192L << 20) / payload.length);
    for (long i = 0; i < records && (first < 0 || spill.log().segments().size() == 1); i++) {
      long pos;
      if (sealer == null) {
        pos = spill.append(payload, null);
      } else {
        SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload);
        pos = spill.append(b.bytes(), b.keyRecord());
      }
      if (first < 0) {
        first = pos;
      }
    }
    spill.log().force();
    if (sealer != null) {
      sealer.close();
    }
    rewind();
  }

  private void rewind() {
    spill.log().seekToSegmentStart(spill.log().segmentOf(first));
    if (opener != null) {
      opener.resetSequenceTracking();
    }
  }

  @Benchmark
  public byte[] readNext() throws Exception {
    while (true) {
      SpillLog.Entry e = spill.log().next();
      if (e == null) {
        rewind();
        continue;
      }
      if (opener == null) {
        return e.bytes();
      }
      EnvelopeFormat.Envelope env = EnvelopeFormat.parse(e.bytes());
      if (env instanceof KeyRecord k) {
        opener.accept(k);
        continue;
      }
      return opener.open((SealedRecord) env).payload();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    spill.close();
    BenchDirs.delete(dir);
  }
}
