package dev.spillway.bench.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.export.internal.OtlpLogs;
import dev.spillway.core.export.internal.OtlpMetrics;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import org.junit.jupiter.api.Test;

/**
 * Each method of the log and metric codec benchmarks runs once at the smallest batch (no JMH, no
 * timing), and every variant produces the same request: the benchmark compares like with like.
 */
class SignalCodecBenchmarksSmokeTest {
  @Test
  void logsCodecBenchmark_everyVariant_writesTheSameRequest() throws Exception {
    LogsCodecBenchmark b = new LogsCodecBenchmark();
    b.batch = 128;
    b.setUp();
    byte[] direct = b.directWrite();
    assertThat(direct).isEqualTo(b.viaProtobufObjects());
    // the SDK writes some fields out of field-number order: compare after protobuf re-encodes
    assertThat(ExportLogsServiceRequest.parseFrom(b.sdkMarshaler()).toByteArray()).isEqualTo(direct);
    assertThat(ExportLogsServiceRequest.parseFrom(b.sdkLowAllocationMarshaler()).toByteArray()).isEqualTo(direct);
    assertThat(b.readBack()).hasSize(128);
    assertThat(OtlpLogs.toBytes(b.readBack())).isEqualTo(direct);
    assertThat(direct.length / 128.0).as("OTLP bytes per log record").isBetween(500.0, 900.0);
  }

  @Test
  void metricsCodecBenchmark_everyVariant_writesTheSameRequest() throws Exception {
    MetricsCodecBenchmark b = new MetricsCodecBenchmark();
    b.batch = 128;
    b.setUp();
    byte[] direct = b.directWrite();
    assertThat(direct).isEqualTo(b.viaProtobufObjects());
    assertThat(ExportMetricsServiceRequest.parseFrom(b.sdkMarshaler()).toByteArray()).isEqualTo(direct);
    assertThat(ExportMetricsServiceRequest.parseFrom(b.sdkLowAllocationMarshaler()).toByteArray())
        .isEqualTo(direct);
    assertThat(OtlpMetrics.count(b.readBack())).isEqualTo(128);
    assertThat(OtlpMetrics.toBytes(b.readBack())).isEqualTo(direct);
    assertThat(MetricFixtures.metrics(128)).hasSize(16);
  }
}
