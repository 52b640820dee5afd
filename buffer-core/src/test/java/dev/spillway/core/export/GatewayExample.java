package dev.spillway.core.export;

import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.keys.LocalKeys;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The gateway example of docs/EMBEDDING.md. The region between the markers is copied into the doc
 * verbatim; {@code GatewayExampleTest} fails if the two differ, and runs it.
 */
final class GatewayExample {
  private GatewayExample() {}

  // --8<-- [start:gateway]
  /**
   * Tracing for a gateway: spans go to the collector at {@code collector}; while it is down or
   * slow they wait in an encrypted spill under {@code state}, and are sent, in order, when it is
   * back, also after a restart.
   */
  static SdkTracerProvider tracing(Path state, String collector) throws IOException {
    // One attempt per call, well inside the spill exporter's export timeout (10 s): the spill
    // buffer keeps what fails and its drain retries with back-off (docs/EMBEDDING.md).
    OtlpGrpcSpanExporter otlp =
        OtlpGrpcSpanExporter.builder()
            .setEndpoint(collector)
            .setTimeout(Duration.ofSeconds(5))
            .setRetryPolicy(null)
            .build();
    SpillingSpanExporter spilling =
        SpillingSpanExporter.builder(
                otlp,
                SpillBuffer.builder()
                    .directory(state.resolve("spill"))
                    .memoryLimitBytes(64L << 20) // plaintext, in memory, during short outages
                    .maxDiskBytes(1L << 30) // sealed on disk beyond that
                    .writerKeys(LocalKeys.issuer(state.resolve("keys/writer.json")))
                    .readerKeys(LocalKeys.unwrapper(state.resolve("keys/reader.json"))))
            .build();
    return SdkTracerProvider.builder()
        .setResource(
            Resource.getDefault().toBuilder()
                .put(AttributeKey.stringKey("service.name"), "gateway")
                .build())
        .addSpanProcessor(BatchSpanProcessor.builder(spilling).setMaxQueueSize(8192).build())
        .build();
  }
  // --8<-- [end:gateway]

  // --8<-- [start:signals]
  /**
   * Logs and metrics for the same gateway, each signal in its own spill directory (one writer per
   * directory), with the same keys.
   */
  static SdkLoggerProvider logging(Path state, String collector) throws IOException {
    OtlpGrpcLogRecordExporter otlp =
        OtlpGrpcLogRecordExporter.builder()
            .setEndpoint(collector)
            .setTimeout(Duration.ofSeconds(5))
            .setRetryPolicy(null)
            .build();
    SpillingLogRecordExporter spilling =
        SpillingLogRecordExporter.builder(otlp, spill(state, "spill-logs")).build();
    return SdkLoggerProvider.builder()
        .addLogRecordProcessor(BatchLogRecordProcessor.builder(spilling).setMaxQueueSize(8192).build())
        .build();
  }

  static SdkMeterProvider metrics(Path state, String collector) throws IOException {
    // The SDK collects as the wrapped exporter asks (temporality, memory mode): set them here.
    OtlpGrpcMetricExporter otlp =
        OtlpGrpcMetricExporter.builder()
            .setEndpoint(collector)
            .setTimeout(Duration.ofSeconds(5))
            .setRetryPolicy(null)
            .setAggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred())
            .build();
    SpillingMetricExporter spilling =
        SpillingMetricExporter.builder(otlp, spill(state, "spill-metrics")).build();
    return SdkMeterProvider.builder()
        .registerMetricReader(PeriodicMetricReader.builder(spilling).setInterval(Duration.ofSeconds(30)).build())
        .build();
  }

  private static SpillBufferBuilder spill(Path state, String directory) throws IOException {
    return SpillBuffer.builder()
        .directory(state.resolve(directory))
        .memoryLimitBytes(16L << 20)
        .maxDiskBytes(1L << 30)
        .writerKeys(LocalKeys.issuer(state.resolve("keys/writer.json")))
        .readerKeys(LocalKeys.unwrapper(state.resolve("keys/reader.json")));
  }
  // --8<-- [end:signals]
}
