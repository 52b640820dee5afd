package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.CANARY;
import static dev.spillway.core.export.Spans.filesWithCanary;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.LocalKeys;
import io.grpc.Status;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OTEL_LOGS_EXPORTER=spillway and OTEL_METRICS_EXPORTER=spillway through the SDK's own autoconfiguration. */
class SpillwaySignalProvidersTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path tmp;
  OtlpReceiver receiver;
  Path keysDir;
  Path spill;

  @BeforeEach
  void setUp() throws Exception {
    receiver = OtlpReceiver.start();
    keysDir = tmp.resolve("keys");
    LocalKeys.init(keysDir);
    spill = tmp.resolve("spill");
  }

  @AfterEach
  void tearDown() {
    receiver.close();
  }

  Map<String, String> properties() {
    Map<String, String> p = new HashMap<>();
    p.put("otel.traces.exporter", "none");
    p.put("otel.logs.exporter", "spillway");
    p.put("otel.metrics.exporter", "spillway");
    p.put("otel.service.name", "autoconfigured-gateway");
    p.put("otel.exporter.otlp.endpoint", receiver.endpoint());
    p.put("otel.exporter.otlp.timeout", "2000");
    p.put("otel.java.exporter.otlp.retry.disabled", "true");
    p.put("otel.blrp.schedule.delay", "10");
    p.put("otel.metric.export.interval", "3600000"); // collected by shutdown
    p.put("otel.spillway.directory", spill.toString());
    p.put("otel.spillway.keys.dir", keysDir.toString());
    p.put("otel.spillway.memory.limit.mib", "0"); // every failed batch straight to disk
    p.put("otel.spillway.delegate.protocol", "grpc");
    p.put("otel.spillway.fsync", "none");
    return p;
  }

  static OpenTelemetrySdk sdk(Map<String, String> properties) {
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> properties)
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
  }

  /** 100 log records and one counter series, the canary in log bodies and attributes and in the series. */
  static void emit(OpenTelemetrySdk sdk, int from) {
    var logger = sdk.getLogsBridge().get("dev.spillway.autoconfigure");
    for (int i = from; i < from + 100; i++) {
      logger.logRecordBuilder()
          .setBody("record " + i + " " + CANARY)
          .setAttribute(AttributeKey.stringKey("enduser.note"), CANARY)
          .emit();
    }
    sdk.getMeter("dev.spillway.autoconfigure")
        .counterBuilder("requests")
        .build()
        .add(from + 5, Attributes.of(AttributeKey.stringKey("enduser.note"), CANARY));
  }

  @Test
  void autoconfigure_spillwayLogsAndMetrics_carryThroughAnOutageAndARestart() throws Exception {
    receiver.failWith(Status.UNAVAILABLE);
    OpenTelemetrySdk first = sdk(properties());
    emit(first, 0);
    // Shutdown flushes the log processor and collects the metrics once more; each exporter then
    // seals what it holds.
    assertThat(first.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(receiver.logRequests()).isEmpty();
    assertThat(receiver.metricRequests()).isEmpty();
    assertThat(Spans.segmentBytes(spill.resolve("logs"))).as("logs spilled").isPositive();
    assertThat(Spans.segmentBytes(spill.resolve("metrics"))).as("metrics spilled").isPositive();
    assertThat(filesWithCanary(spill)).isEmpty();

    receiver.recover();
    OpenTelemetrySdk second = sdk(properties());
    try {
      emit(second, 100);
      assertThat(receiver.awaitLogRecords(100, WAIT)).isTrue();
      // the first run's series, replayed from the spill (the second's is collected at its shutdown)
      assertThat(receiver.awaitDataPoints(1, WAIT)).isTrue();
      assertThat(counterValues(receiver.metricRequests())).contains(5L);
    } finally {
      assertThat(second.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
    assertThat(receiver.awaitLogRecords(200, WAIT)).isTrue();
    assertThat(logBodies(receiver.logRequests()))
        .containsAll(java.util.stream.IntStream.range(0, 200).mapToObj(i -> "record " + i + " " + CANARY).toList());
    assertThat(counterValues(receiver.metricRequests())).contains(5L, 105L);
    assertThat(receiver.logRequests().get(0).getResourceLogs(0).getResource().getAttributesList())
        .anyMatch(kv -> kv.getValue().getStringValue().equals("autoconfigured-gateway"));
  }

  @Test
  void autoconfigure_systemProperties_pickTheProvidersAndPerSignalDirectories() throws Exception {
    Map<String, String> p = properties();
    Path logsDir = tmp.resolve("elsewhere-logs");
    p.put("otel.spillway.logs.directory", logsDir.toString());
    List<String> set = new ArrayList<>();
    try {
      p.forEach((k, v) -> {
        System.setProperty(k, v);
        set.add(k);
      });
      OpenTelemetrySdk sdk =
          AutoConfiguredOpenTelemetrySdk.builder().disableShutdownHook().build().getOpenTelemetrySdk();
      try {
        emit(sdk, 0);
      } finally {
        assertThat(sdk.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
    } finally {
      set.forEach(System::clearProperty);
    }
    assertThat(receiver.awaitLogRecords(100, WAIT)).isTrue();
    assertThat(receiver.awaitDataPoints(1, WAIT)).isTrue();
    assertThat(logsDir.resolve("writer.lock")).as("the logs exporter's own directory").exists();
    assertThat(spill.resolve("metrics").resolve("writer.lock")).exists();
    assertThat(Files.exists(spill.resolve("logs"))).isFalse();
  }

  @Test
  void createExporter_metrics_keepTheDelegatesTemporalityAndMemoryMode() {
    Map<String, String> p = properties();
    p.put("otel.exporter.otlp.metrics.temporality.preference", "delta");
    p.put("otel.java.exporter.memory_mode", "reusable_data");
    MetricExporter e = new SpillwayMetricExporterProvider().createExporter(DefaultConfigProperties.createFromMap(p));
    try {
      assertThat(e).isInstanceOf(SpillingMetricExporter.class);
      assertThat(e.getAggregationTemporality(InstrumentType.COUNTER)).isEqualTo(AggregationTemporality.DELTA);
      assertThat(e.getAggregationTemporality(InstrumentType.UP_DOWN_COUNTER))
          .isEqualTo(AggregationTemporality.CUMULATIVE);
      assertThat(e.getMemoryMode()).isEqualTo(MemoryMode.REUSABLE_DATA);
      assertThat(e.toString()).contains("OtlpGrpcMetricExporter");
    } finally {
      e.shutdown().join(30, TimeUnit.SECONDS);
    }
    p.put("otel.spillway.metrics.delegate.protocol", "http/protobuf");
    MetricExporter http = new SpillwayMetricExporterProvider().createExporter(DefaultConfigProperties.createFromMap(p));
    try {
      assertThat(http.toString()).contains("OtlpHttpMetricExporter");
    } finally {
      http.shutdown().join(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void createExporter_logs_picksTheOtlpTransport() {
    Map<String, String> p = properties();
    p.put("otel.spillway.delegate.protocol", "http/protobuf");
    LogRecordExporter e = new SpillwayLogRecordExporterProvider().createExporter(DefaultConfigProperties.createFromMap(p));
    try {
      assertThat(e).isInstanceOf(SpillingLogRecordExporter.class);
      assertThat(e.toString()).contains("OtlpHttpLogRecordExporter");
    } finally {
      e.shutdown().join(30, TimeUnit.SECONDS);
    }
    assertThat(new SpillwayLogRecordExporterProvider().getName()).isEqualTo("spillway");
    assertThat(new SpillwayMetricExporterProvider().getName()).isEqualTo("spillway");
  }

  @Test
  void createExporter_badSettings_failNamingTheProperty() {
    Map<String, String> p = properties();
    p.remove("otel.spillway.directory");
    assertThatThrownBy(() -> new SpillwayLogRecordExporterProvider().createExporter(DefaultConfigProperties.createFromMap(p)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("otel.spillway.directory")
        .hasMessageContaining("otel.spillway.logs.directory")
        .hasMessageContaining("OTEL_LOGS_EXPORTER");

    Map<String, String> q = properties();
    q.put("otel.spillway.metrics.overflow", "explode");
    assertThatThrownBy(() -> new SpillwayMetricExporterProvider().createExporter(DefaultConfigProperties.createFromMap(q)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("otel.spillway.metrics.overflow");

    Map<String, String> r = properties();
    r.put("otel.spillway.delegate", "carrier-pigeon");
    assertThatThrownBy(() -> new SpillwayMetricExporterProvider().createExporter(DefaultConfigProperties.createFromMap(r)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("otel.spillway.delegate")
        .hasMessageContaining("metrics exporter");
  }

  private static List<String> logBodies(List<ExportLogsServiceRequest> requests) {
    List<String> out = new ArrayList<>();
    requests.forEach(r -> r.getResourceLogsList().forEach(rl -> rl.getScopeLogsList().forEach(
        sl -> sl.getLogRecordsList().stream().map(LogRecord::getBody).forEach(b -> out.add(b.getStringValue())))));
    return out;
  }

  private static List<Long> counterValues(List<ExportMetricsServiceRequest> requests) {
    List<Long> out = new ArrayList<>();
    requests.forEach(r -> r.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(
        sm -> sm.getMetricsList().stream()
            .filter(m -> m.getName().equals("requests"))
            .map(Metric::getSum)
            .forEach(s -> s.getDataPointsList().forEach(dp -> out.add(dp.getAsInt()))))));
    return out;
  }
}
