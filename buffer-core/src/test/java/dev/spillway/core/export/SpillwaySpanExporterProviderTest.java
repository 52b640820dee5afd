package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.emit;
import static dev.spillway.core.export.Spans.filesWithCanary;
import static dev.spillway.core.export.Spans.range;
import static dev.spillway.core.export.Spans.seqs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.LocalKeys;
import io.grpc.Status;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OTEL_TRACES_EXPORTER=spillway through the SDK's own autoconfiguration. */
class SpillwaySpanExporterProviderTest {
  @TempDir Path tmp;
  OtlpReceiver receiver;
  Path keysDir;

  @BeforeEach
  void setUp() throws Exception {
    receiver = OtlpReceiver.start();
    keysDir = tmp.resolve("keys");
    LocalKeys.init(keysDir);
  }

  @AfterEach
  void tearDown() throws Exception {
    receiver.close();
  }

  Map<String, String> properties() {
    Map<String, String> p = new HashMap<>();
    p.put("otel.traces.exporter", "spillway");
    p.put("otel.metrics.exporter", "none");
    p.put("otel.logs.exporter", "none");
    p.put("otel.service.name", "autoconfigured-gateway");
    p.put("otel.exporter.otlp.endpoint", receiver.endpoint());
    p.put("otel.exporter.otlp.timeout", "2000");
    p.put("otel.java.exporter.otlp.retry.disabled", "true");
    p.put("otel.bsp.schedule.delay", "10");
    p.put("otel.bsp.max.queue.size", "10000");
    p.put("otel.bsp.max.export.batch.size", "50");
    p.put("otel.spillway.directory", tmp.resolve("spill").toString());
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

  @Test
  void autoconfigure_spillwayExporter_carriesSpansThroughAnOutageAndARestart() throws Exception {
    receiver.failWith(Status.UNAVAILABLE);
    OpenTelemetrySdk first = sdk(properties());
    emit(first.getTracer("dev.spillway.autoconfigure"), 0, 200);
    // Shutdown flushes the processor, then the exporter seals what it holds.
    assertThat(first.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    // (Whether the drain reached the failing receiver before shutdown does not matter: export()
    // never waits on it.)
    assertThat(receiver.spans()).isEmpty();
    assertThat(Spans.segmentBytes(tmp.resolve("spill"))).isPositive(); // spilled by spillway
    assertThat(filesWithCanary(tmp.resolve("spill"))).isEmpty();

    receiver.recover();
    OpenTelemetrySdk second = sdk(properties());
    try {
      emit(second.getTracer("dev.spillway.autoconfigure"), 200, 250);
      assertThat(receiver.awaitSpans(250, Duration.ofSeconds(60))).isTrue();
      assertThat(seqs(receiver.spans())).isEqualTo(range(0, 250));
      assertThat(receiver.spans().get(0).getResource().getAttributesList())
          .anyMatch(kv -> kv.getValue().getStringValue().equals("autoconfigured-gateway"));
    } finally {
      assertThat(second.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
  }

  @Test
  void createExporter_delegateProtocol_picksTheOtlpTransport() {
    SpillwaySpanExporterProvider provider = new SpillwaySpanExporterProvider();
    Map<String, String> p = properties();
    p.put("otel.spillway.delegate.protocol", "http/protobuf");
    SpanExporter http = provider.createExporter(DefaultConfigProperties.createFromMap(p));
    try {
      assertThat(http.toString()).contains("OtlpHttpSpanExporter");
    } finally {
      http.shutdown().join(30, TimeUnit.SECONDS);
    }
    p.put("otel.spillway.delegate.protocol", "grpc");
    SpanExporter grpc = provider.createExporter(DefaultConfigProperties.createFromMap(p));
    try {
      assertThat(grpc.toString()).contains("OtlpGrpcSpanExporter");
    } finally {
      grpc.shutdown().join(30, TimeUnit.SECONDS);
    }
    assertThat(provider.getName()).isEqualTo("spillway");
  }

  @Test
  void autoconfigure_missingDirectory_failsNamingTheProperty() {
    Map<String, String> p = properties();
    p.remove("otel.spillway.directory");
    assertThatThrownBy(() -> sdk(p))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("otel.spillway.directory");
  }

  @Test
  void createExporter_badSettings_failNamingTheProperty() {
    assertRejected("otel.spillway.memory.limit.mib", "lots", "otel.spillway.memory.limit.mib");
    assertRejected("otel.spillway.disk.max.mib", "0", "otel.spillway.disk.max.mib");
    assertRejected("otel.spillway.durability", "forever", "otel.spillway.durability");
    assertRejected("otel.spillway.fsync", "sometimes", "otel.spillway.fsync");
    assertRejected("otel.spillway.overflow", "explode", "otel.spillway.overflow");
    assertRejected("otel.spillway.keys.provider", "vault", "otel.spillway.keys.provider");
    assertRejected("otel.spillway.keys.dir", tmp.resolve("nowhere").toString(), "otel.spillway.keys.dir");
    assertRejected("otel.spillway.delegate.protocol", "http/json", "otel.spillway.delegate.protocol");
    assertRejected("otel.spillway.delegate", "carrier-pigeon", "otel.spillway.delegate");
    assertRejected("otel.spillway.export.timeout", "0ms", "otel.spillway.export.timeout");
    assertRejected("otel.spillway.encryption.warmup", "soon", "otel.spillway.encryption.warmup");
    assertRejected("otel.spillway.keys.provider", "aws-kms", "otel.spillway.kms.key.arn");

    Map<String, String> p = properties();
    p.remove("otel.spillway.keys.dir");
    p.put("otel.spillway.keys.writer", keysDir.resolve(LocalKeys.READER_FILE).toString());
    p.put("otel.spillway.keys.reader", keysDir.resolve(LocalKeys.READER_FILE).toString());
    // The private keyset given to the writer: refused, naming the property.
    assertThatThrownBy(() -> new SpillwaySpanExporterProvider().createExporter(DefaultConfigProperties.createFromMap(p)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("otel.spillway.keys.writer");
  }

  @Test
  void createExporter_separateKeysetFiles_work() {
    Map<String, String> p = properties();
    p.remove("otel.spillway.keys.dir");
    p.put("otel.spillway.keys.writer", keysDir.resolve(LocalKeys.WRITER_FILE).toString());
    p.put("otel.spillway.keys.reader", keysDir.resolve(LocalKeys.READER_FILE).toString());
    SpanExporter e = new SpillwaySpanExporterProvider().createExporter(DefaultConfigProperties.createFromMap(p));
    assertThat(e).isInstanceOf(SpillingSpanExporter.class);
    assertThat(e.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
  }

  private void assertRejected(String property, String value, String named) {
    Map<String, String> p = properties();
    p.put(property, value);
    assertThatThrownBy(() -> new SpillwaySpanExporterProvider().createExporter(DefaultConfigProperties.createFromMap(p)))
        .as("%s=%s", property, value)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(named);
  }
}
