package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.filesWithCanary;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.internal.seal.TestKeys;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log and metric exporters around the OTLP/HTTP exporters (the other transport), against a real
 * HTTP endpoint on 127.0.0.1 answering 503 while down: every accepted record and data point arrives
 * after recovery.
 */
class OtlpHttpDelegateTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path tmp;
  TestKeys keys;
  HttpServer server;
  final AtomicBoolean down = new AtomicBoolean(true);
  final Object lock = new Object();
  final List<ExportLogsServiceRequest> logs = new ArrayList<>(); // guarded by lock
  final List<ExportMetricsServiceRequest> metrics = new ArrayList<>(); // guarded by lock
  int refused; // guarded by lock

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/logs", x -> answer(x, true));
    server.createContext("/v1/metrics", x -> answer(x, false));
    server.start();
  }

  @AfterEach
  void tearDown() {
    server.stop(0);
  }

  private void answer(HttpExchange x, boolean isLogs) throws IOException {
    byte[] body = x.getRequestBody().readAllBytes();
    synchronized (lock) {
      if (down.get()) {
        refused++;
      } else if (isLogs) {
        logs.add(ExportLogsServiceRequest.parseFrom(body));
      } else {
        metrics.add(ExportMetricsServiceRequest.parseFrom(body));
      }
      lock.notifyAll();
    }
    x.getResponseHeaders().add("Content-Type", "application/x-protobuf");
    x.sendResponseHeaders(down.get() ? 503 : 200, -1);
    x.close();
  }

  private String endpoint(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  SpillBufferBuilder buffer(String signal) {
    return SpillBuffer.builder()
        .directory(tmp.resolve("spill").resolve(signal))
        .writerKeys(keys.issuer())
        .readerKeys(keys.unwrapper())
        .memoryLimitBytes(16 << 10)
        .fsync(FsyncPolicy.none());
  }

  @Test
  void export_httpDelegatesDownThenUp_everyAcceptedRecordAndPointArrives() throws Exception {
    SpillingLogRecordExporter logExporter =
        SpillingLogRecordExporter.builder(
                OtlpHttpLogRecordExporter.builder().setEndpoint(endpoint("/v1/logs"))
                    .setTimeout(Duration.ofSeconds(5)).setRetryPolicy(null).build(),
                buffer("logs"))
            .setReplayBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .build();
    SpillingMetricExporter metricExporter =
        SpillingMetricExporter.builder(
                OtlpHttpMetricExporter.builder().setEndpoint(endpoint("/v1/metrics"))
                    .setTimeout(Duration.ofSeconds(5)).setRetryPolicy(null).build(),
                buffer("metrics"))
            .setReplayBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .build();
    Accepted.Logs acceptedLogs = new Accepted.Logs(logExporter);
    Accepted.Metrics acceptedMetrics = new Accepted.Metrics(metricExporter);
    SdkLoggerProvider logging =
        SdkLoggerProvider.builder()
            .addLogRecordProcessor(BatchLogRecordProcessor.builder(acceptedLogs).setMaxQueueSize(10_000).build())
            .build();
    SdkMeterProvider metering =
        SdkMeterProvider.builder()
            .registerMetricReader(PeriodicMetricReader.builder(acceptedMetrics).setInterval(Duration.ofHours(1)).build())
            .build();
    try {
      SpillingLogRecordExporterTest.emit(logging.get("dev.spillway.http"), 0, 500);
      SpillingMetricExporterTest.collect(
          metering, new SpillingMetricExporterTest.Instruments(metering.get("dev.spillway.http")), 0, 20);
      assertThat(logging.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      awaitRefused(2);
      assertThat(logExporter.acceptedAndRefused()).containsExactly(500, 0);
      assertThat(metricExporter.acceptedAndRefused()).containsExactly(acceptedMetrics.count(), 0);
      assertThat(logExporter.bufferMetrics().spilled()).isPositive();
      assertThat(metricExporter.bufferMetrics().spilled()).isPositive();
      assertThat(filesWithCanary(tmp.resolve("spill"))).isEmpty();

      down.set(false);
      long deadline = System.nanoTime() + WAIT.toNanos();
      synchronized (lock) {
        while ((!Accepted.logRecords(logs).equals(acceptedLogs.records())
                || !Accepted.dataPoints(metrics).equals(acceptedMetrics.points()))
            && System.nanoTime() < deadline) {
          lock.wait(500);
        }
        assertThat(Accepted.logRecords(logs)).isEqualTo(acceptedLogs.records());
        assertThat(Accepted.dataPoints(metrics)).isEqualTo(acceptedMetrics.points());
      }
    } finally {
      logging.shutdown().join(30, TimeUnit.SECONDS);
      metering.shutdown().join(30, TimeUnit.SECONDS);
    }
  }

  private void awaitRefused(int n) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    synchronized (lock) {
      while (refused < n && System.nanoTime() < deadline) {
        lock.wait(500);
      }
      assertThat(refused).isGreaterThanOrEqualTo(n);
    }
  }
}
