package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.filesWithCanary;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.export.internal.SdkEncoding;
import dev.spillway.core.internal.seal.TestKeys;
import io.grpc.Status;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Traces, logs and metrics from the real SDK in one JVM, each through its spilling exporter around
 * the real OTLP/gRPC exporter (one attempt per call, as docs/EMBEDDING.md advises), to one real
 * receiver that is down for the first part of the run: every item each exporter accepted arrives,
 * counted per signal, and the canary is in none of the three spill directories.
 */
class AllSignalsOutageTest {
  static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path tmp;
  TestKeys keys;
  Path spill;
  OtlpReceiver receiver;

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    spill = tmp.resolve("spill");
    receiver = OtlpReceiver.start();
  }

  @AfterEach
  void tearDown() {
    receiver.close();
  }

  SpillBufferBuilder buffer(String signal) {
    return SpillBuffer.builder()
        .directory(spill.resolve(signal))
        .writerKeys(keys.issuer())
        .readerKeys(keys.unwrapper())
        .memoryLimitBytes(64 << 10)
        .fsync(FsyncPolicy.none());
  }

  @Test
  void export_threeSignalsThroughAnOutage_everyAcceptedItemOfEachSignalArrives() throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    Duration backoff = Duration.ofMillis(50);
    Duration backoffMax = Duration.ofMillis(500);
    SpillingSpanExporter spans =
        SpillingSpanExporter.builder(
                OtlpGrpcSpanExporter.builder().setEndpoint(receiver.endpoint())
                    .setTimeout(Duration.ofSeconds(5)).setRetryPolicy(null).build(),
                buffer("traces"))
            .setReplayBackoff(backoff, backoffMax)
            .build();
    SpillingLogRecordExporter logs =
        SpillingLogRecordExporter.builder(
                OtlpGrpcLogRecordExporter.builder().setEndpoint(receiver.endpoint())
                    .setTimeout(Duration.ofSeconds(5)).setRetryPolicy(null).build(),
                buffer("logs"))
            .setReplayBackoff(backoff, backoffMax)
            .build();
    SpillingMetricExporter metrics =
        SpillingMetricExporter.builder(
                OtlpGrpcMetricExporter.builder().setEndpoint(receiver.endpoint())
                    .setTimeout(Duration.ofSeconds(5)).setRetryPolicy(null).build(),
                buffer("metrics"))
            .setReplayBackoff(backoff, backoffMax)
            .build();
    SpanRecorder producedSpans = new SpanRecorder();
    SdkTracerProvider tracing =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(producedSpans))
            .addSpanProcessor(BatchSpanProcessor.builder(spans).setMaxQueueSize(50_000).build())
            .build();
    Accepted.Logs acceptedLogs = new Accepted.Logs(logs);
    SdkLoggerProvider logging =
        SdkLoggerProvider.builder()
            .addLogRecordProcessor(BatchLogRecordProcessor.builder(acceptedLogs).setMaxQueueSize(50_000).build())
            .build();
    Accepted.Metrics acceptedMetrics = new Accepted.Metrics(metrics);
    SdkMeterProvider metering =
        SdkMeterProvider.builder()
            .registerMetricReader(PeriodicMetricReader.builder(acceptedMetrics).setInterval(Duration.ofHours(1)).build())
            .build();
    SpillingMetricExporterTest.Instruments instruments =
        new SpillingMetricExporterTest.Instruments(metering.get("dev.spillway.all"));
    try {
      // The first half while the collector is down, the second after it is back.
      for (int half = 0; half < 2; half++) {
        Spans.emit(tracing.get("dev.spillway.all"), half * 1_000, (half + 1) * 1_000);
        SpillingLogRecordExporterTest.emit(logging.get("dev.spillway.all"), half * 1_000, (half + 1) * 1_000);
        SpillingMetricExporterTest.collect(metering, instruments, half * 30, (half + 1) * 30);
        assertThat(tracing.forceFlush().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
        assertThat(logging.forceFlush().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
        if (half == 0) {
          assertThat(receiver.spans()).isEmpty();
          assertThat(receiver.logRequests()).isEmpty();
          assertThat(receiver.metricRequests()).isEmpty();
          assertThat(filesWithCanary(spill)).isEmpty();
          receiver.recover();
        }
      }
      assertThat(spans.acceptedAndRefused()).containsExactly(2_000, 0);
      assertThat(logs.acceptedAndRefused()).containsExactly(2_000, 0);
      assertThat(metrics.acceptedAndRefused()).containsExactly(acceptedMetrics.count(), 0);

      assertThat(receiver.awaitSpans(2_000, WAIT)).isTrue();
      assertThat(receiver.awaitLogRecords(2_000, WAIT)).isTrue();
      assertThat(receiver.awaitDataPoints(acceptedMetrics.count(), WAIT)).isTrue();
      assertThat(new HashSet<>(receiver.spans()))
          .isEqualTo(new HashSet<>(SdkEncoding.perSpan(SdkEncoding.of(producedSpans.spans()))));
      assertThat(Accepted.logRecords(receiver.logRequests())).isEqualTo(acceptedLogs.records());
      assertThat(Accepted.dataPoints(receiver.metricRequests())).isEqualTo(acceptedMetrics.points());
      assertThat(filesWithCanary(spill)).isEmpty();
    } finally {
      tracing.shutdown().join(60, TimeUnit.SECONDS);
      logging.shutdown().join(60, TimeUnit.SECONDS);
      metering.shutdown().join(60, TimeUnit.SECONDS);
    }
  }
}
