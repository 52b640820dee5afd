package dev.spillway.bench.export;

import dev.spillway.core.export.internal.OtlpLogs;
import io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.logs.LowAllocationLogsRequestMarshaler;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.sdk.logs.data.LogRecordData;
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
 * What the library pays to turn a batch of SDK log records into OTLP bytes, against the SDK's own
 * marshalers and the generated protobuf objects, in the same run (docs/BENCHMARKS.md).
 *
 * <ul>
 *   <li>{@link #directWrite}: {@code OtlpLogs.toBytes}, the two-pass direct writer the log exporter
 *       uses;
 *   <li>{@link #sdkMarshaler}: the SDK OTLP exporter's {@code LogsRequestMarshaler} (immutable
 *       memory mode) writing the same records to a byte array;
 *   <li>{@link #sdkLowAllocationMarshaler}: its {@code LowAllocationLogsRequestMarshaler}
 *       (reusable-data memory mode), reused across invocations as the exporter reuses it;
 *   <li>{@link #viaProtobufObjects}: the generated protobuf objects ({@code OtlpLogs.toRequest});
 *   <li>{@link #readBack}: the replay side, OTLP bytes parsed and read back as {@code
 *       LogRecordData} ({@code OtlpLogs.fromRequest}).
 * </ul>
 */
@State(Scope.Thread)
public class LogsCodecBenchmark {
  @Param({"128", "512", "8192"})
  public int batch;

  private List<LogRecordData> logs;
  private byte[] otlp;
  private final LowAllocationLogsRequestMarshaler lowAllocation = new LowAllocationLogsRequestMarshaler();
  private final ByteArrayOutputStream reused = new ByteArrayOutputStream();

  @Setup(Level.Trial)
  public void setUp() {
    logs = LogFixtures.logs(batch);
    otlp = OtlpLogs.toBytes(logs);
  }

  @Benchmark
  public byte[] directWrite() {
    return OtlpLogs.toBytes(logs);
  }

  @Benchmark
  public byte[] sdkMarshaler() throws IOException {
    LogsRequestMarshaler m = LogsRequestMarshaler.create(logs);
    ByteArrayOutputStream out = new ByteArrayOutputStream(m.getBinarySerializedSize());
    m.writeBinaryTo(out);
    return out.toByteArray();
  }

  @Benchmark
  public byte[] sdkLowAllocationMarshaler() throws IOException {
    lowAllocation.initialize(logs);
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
    return OtlpLogs.toRequest(logs).toByteArray();
  }

  @Benchmark
  public List<LogRecordData> readBack() throws IOException {
    return OtlpLogs.fromRequest(ExportLogsServiceRequest.parseFrom(otlp));
  }
}
