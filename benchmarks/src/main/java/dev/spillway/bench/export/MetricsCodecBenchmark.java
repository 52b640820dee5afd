package dev.spillway.bench.export;

import dev.spillway.core.export.internal.OtlpMetrics;
import io.opentelemetry.exporter.internal.otlp.metrics.MetricsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.metrics.LowAllocationMetricsRequestMarshaler;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the library pays to turn a batch of SDK metrics into OTLP bytes, against the SDK's own
 * marshalers and the generated protobuf objects, in the same run (docs/BENCHMARKS.md).
 *
 * <ul>
 *   <li>{@link #directWrite}: {@code OtlpMetrics.toBytes}, the two-pass direct writer the metric exporter
 *       uses;
 *   <li>{@link #sdkMarshaler}: the SDK OTLP exporter's {@code MetricsRequestMarshaler} (immutable
 *       memory mode) writing the same metrics to a byte array;
 *   <li>{@link #sdkLowAllocationMarshaler}: its {@code LowAllocationMetricsRequestMarshaler}
 *       (reusable-data memory mode), reused across invocations as the exporter reuses it;
 *   <li>{@link #viaProtobufObjects}: the generated protobuf objects ({@code OtlpMetrics.toRequest});
 *   <li>{@link #readBack}: the replay side, OTLP bytes parsed and read back as {@code
 *       MetricData} ({@code OtlpMetrics.fromRequest}).
 * </ul>
 */
@State(Scope.Thread)
public class MetricsCodecBenchmark {
  /** Data points per batch (eight per metric, see {@link MetricFixtures}). */
  @Param({"128", "512", "8192"})
  public int batch;

  private List<MetricData> metrics;
  private byte[] otlp;
  private final LowAllocationMetricsRequestMarshaler lowAllocation = new LowAllocationMetricsRequestMarshaler();
  private final ByteArrayOutputStream reused = new ByteArrayOutputStream();

  @Setup(Level.Trial)
  public void setUp() {
    metrics = MetricFixtures.metrics(batch);
    otlp = OtlpMetrics.toBytes(metrics);
  }

  @Benchmark
  public byte[] directWrite() {
    return OtlpMetrics.toBytes(metrics);
  }

  @Benchmark
  public byte[] sdkMarshaler() throws IOException {
    MetricsRequestMarshaler m = MetricsRequestMarshaler.create(metrics);
    ByteArrayOutputStream out = new ByteArrayOutputStream(m.getBinarySerializedSize());
    m.writeBinaryTo(out);
    return out.toByteArray();
  }

  @Benchmark
  public byte[] sdkLowAllocationMarshaler() throws IOException {
    lowAllocation.initialize(metrics);
    try {
      reused.reset();
      lowAllocation.writeBinaryTo(reused);
      return reused.toByteArray();
    } finally {
      lowAllocation.reset();
    }
  }

  @Benchmark
  public byte[] viaProtobufObjects() {
    return OtlpMetrics.toRequest(metrics).toByteArray();
  }

  @Benchmark
  public List<MetricData> readBack() throws IOException {
    return OtlpMetrics.fromRequest(ExportMetricsServiceRequest.parseFrom(otlp));
  }
}
