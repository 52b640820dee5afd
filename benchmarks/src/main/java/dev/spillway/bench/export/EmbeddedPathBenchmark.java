package dev.spillway.bench.export;

import dev.spillway.core.Compression;
import dev.spillway.bench.AesGcmWarmup;
import dev.spillway.bench.BenchDirs;
import dev.spillway.bench.BenchKeys;
import dev.spillway.bench.KeyCallLog;
import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.OfferResult;
import dev.spillway.core.OverflowPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.export.internal.OtlpSpans;
import dev.spillway.core.PayloadType;
import io.opentelemetry.contrib.disk.buffering.storage.impl.FileSpanStorage;
import io.opentelemetry.contrib.disk.buffering.storage.impl.FileStorageConfiguration;
import io.opentelemetry.contrib.disk.buffering.storage.result.WriteResult;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.file.Path;
import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a Java gateway pays per batch of SDK spans to get them on disk.
 *
 * <ul>
 *   <li>{@link #embeddedSpill}: SDK {@code SpanData} → OTLP protobuf (buffer-core's {@code
 *       OtlpSpans}, the mapping {@code SpillingSpanExporter} uses) → {@code SpillBuffer.offer} with memory limit 0 (LZ4, seal,
 *       append; {@code drop-oldest} on a 2 GiB budget as retention; default {@code fsync: 1s}).
 *   <li>{@link #diskBufferingWrite}: the OpenTelemetry Java disk-buffering library's {@code
 *       FileSpanStorage.write} of the same spans: its own protobuf mapping, plaintext, appended
 *       to a file with a {@code FileOutputStream} and never fsynced (so it measures page-cache
 *       writes until write-back throttles them: favourable to the baseline).
 *   <li>{@link #marshalOnly}: the mapping and serialization alone ({@code OtlpSpans.toBytes}, which
 *       writes the OTLP bytes directly); {@link #marshalViaProtobufObjects}: the same bytes
 *       through the generated protobuf objects, for comparison.
 * </ul>
 */
@State(Scope.Thread)
public class EmbeddedPathBenchmark {
  @Param({"128", "512", "8192"})
  public int batch;

  /**
   * The spill's codec: LZ4 in the JMH runs (not a {@code @Param}); {@link EmbeddedCpuRatios} also
   * runs a second instance with NONE to show what compression costs on this path.
   */
  public String codec = "LZ4";

  private List<SpanData> spans;
  private Path dir;
  private BenchKeys keys;
  private SpillBuffer buffer;
  private FileSpanStorage storage;
  private byte[] premapped;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    AesGcmWarmup.forBatch(batch);
    spans = SpanFixtures.spans(batch);
    dir = BenchDirs.create("embedded");
    keys = BenchKeys.create(dir.resolve("keys"));
    buffer = keys.spillEverything(dir.resolve("spill"))
        .maxDiskBytes(2L << 30)
        .overflowPolicy(OverflowPolicy.DROP_OLDEST)
        .compression(Compression.valueOf(codec))
        .build();
    premapped = OtlpSpans.toBytes(spans);
    // files up to 64 MiB (a batch of 8192 spans is ~7 MB), 1 GiB per folder: the library deletes
    // the oldest file when full, its retention
    storage = FileSpanStorage.create(dir.resolve("disk-buffering").toFile(),
        FileStorageConfiguration.builder()
            .setMaxFileSize(64 << 20)
            .setMaxFolderSize(1 << 30)
            .build());
  }

  @Benchmark
  public OfferResult embeddedSpill() {
    byte[] bytes = OtlpSpans.toBytes(spans);
    OfferResult r = buffer.offer(PayloadType.OTLP_TRACES, bytes);
    if (r.outcome() != OfferResult.Outcome.SPILLED) {
      throw new IllegalStateException("expected a spill, got " + r);
    }
    return r;
  }

  /**
   * The engine's part of {@link #embeddedSpill} alone: the same offer of OTLP bytes mapped once in
   * setup (compression, seal, append). Not a JMH benchmark; {@link EmbeddedCpuRatios} runs it.
   */
  public OfferResult offerPremapped() {
    OfferResult r = buffer.offer(PayloadType.OTLP_TRACES, premapped);
    if (r.outcome() != OfferResult.Outcome.SPILLED) {
      throw new IllegalStateException("expected a spill, got " + r);
    }
    return r;
  }

  @Benchmark
  public WriteResult diskBufferingWrite() {
    WriteResult r = storage.write(spans).join();
    if (!r.isSuccessful()) {
      throw new IllegalStateException("disk-buffering write failed", r.getError());
    }
    return r;
  }

  @Benchmark
  public byte[] marshalOnly() {
    return OtlpSpans.toBytes(spans);
  }

  /** Baseline: the same bytes through the generated protobuf objects, as the exporter did first. */
  @Benchmark
  public byte[] marshalViaProtobufObjects() {
    return OtlpSpans.toRequest(spans).toByteArray();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    BufferMetrics m = buffer.metrics();
    if (m.spilled() > 0) {
      KeyCallLog.record("EmbeddedPathBenchmark.embeddedSpill", batch, m.spilled(), m.keyEpochs(), keys.issuer().calls());
    }
    buffer.close();
    storage.close();
    BenchDirs.delete(dir);
  }
}
