package dev.spillway.core.export.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OtlpLogsTest {
  private static final int LOGS = 3_000;

  @Test
  void toRequest_generatedLogs_isWhatTheSdkPutsOnTheWire() {
    LogGenerator gen = new LogGenerator(1, false);
    Random batching = new Random(2);
    for (int done = 0; done < LOGS; ) {
      List<LogRecordData> batch = gen.logs(1 + batching.nextInt(200));
      done += batch.size();
      SdkSignalEncoding.assertSameLogRecords(OtlpLogs.toRequest(batch), SdkSignalEncoding.logs(batch));
    }
  }

  @Test
  void toBytes_generatedLogs_areTheProtobufObjectsBytesExactly() {
    // every body kind, severity, timestamps set and unset, ids and flags, attributes of every
    // shape with dropped counts, event names, three resources and four scopes (LogGenerator)
    for (boolean javaTypesPreserved : new boolean[] {false, true}) {
      LogGenerator gen = new LogGenerator(11, javaTypesPreserved);
      Random batching = new Random(12);
      for (int done = 0; done < LOGS; ) {
        List<LogRecordData> batch = gen.logs(1 + batching.nextInt(200));
        done += batch.size();
        assertThat(OtlpLogs.toBytes(batch)).isEqualTo(OtlpLogs.toRequest(batch).toByteArray());
      }
    }
  }

  @Test
  void toBytes_decodedLogs_writeTheSameBytesAgain() throws Exception {
    LogGenerator gen = new LogGenerator(13, false);
    for (int i = 0; i < 30; i++) {
      byte[] written = OtlpLogs.toBytes(gen.logs(100));
      List<LogRecordData> decoded = OtlpLogs.fromRequest(ExportLogsServiceRequest.parseFrom(written));
      assertThat(OtlpLogs.toBytes(decoded)).isEqualTo(written);
      assertThat(OtlpLogs.toRequest(decoded).toByteArray()).isEqualTo(written);
    }
  }

  @Test
  void toBytes_unpairedSurrogates_areEncodedAsProtobufEncodesThem() {
    // protobuf falls back to the JDK's encoder ('?') for these; the writer must match it
    LogRecordData log =
        io.opentelemetry.sdk.testing.logs.TestLogRecordData.builder()
            .setBody("lone \uD800 high, lone \uDC00 low, pair \uD83D\uDE42")
            .setAttributes(Attributes.of(AttributeKey.stringKey("k\uDBFF"), "v\uDFFFx"))
            .setEventName("e\uD800")
            .build();
    assertThat(OtlpLogs.toBytes(List.of(log))).isEqualTo(OtlpLogs.toRequest(List.of(log)).toByteArray());
  }

  @Test
  void toBytes_noLogs_isAnEmptyRequest() {
    assertThat(OtlpLogs.toBytes(List.of())).isEmpty();
  }

  @Test
  void fromRequest_generatedLogs_equalTheOriginalsFieldByField() throws Exception {
    LogGenerator gen = new LogGenerator(3, true);
    Random batching = new Random(4);
    for (int done = 0; done < LOGS; ) {
      List<LogRecordData> batch = gen.logs(1 + batching.nextInt(200));
      done += batch.size();
      List<LogRecordData> decoded =
          OtlpLogs.fromRequest(ExportLogsServiceRequest.parseFrom(OtlpLogs.toBytes(batch)));
      List<LogRecordData> expected = inRequestOrder(batch);
      assertThat(decoded).hasSameSizeAs(expected);
      for (int i = 0; i < expected.size(); i++) {
        assertSameLogRecord(decoded.get(i), expected.get(i));
      }
    }
  }

  @Test
  void fromRequest_whatOtlpCannotCarry_isReplayedToTheSameWireBytes() throws Exception {
    // remote contexts with trace state, empty severity texts and event names, empty arrays,
    // VALUE attributes holding scalars: the decoded Java form differs, the SDK's bytes do not
    LogGenerator gen = new LogGenerator(5, false);
    for (int i = 0; i < 20; i++) {
      List<LogRecordData> batch = gen.logs(150);
      List<LogRecordData> decoded =
          OtlpLogs.fromRequest(ExportLogsServiceRequest.parseFrom(OtlpLogs.toBytes(batch)));
      SdkSignalEncoding.assertSameLogRecords(SdkSignalEncoding.logs(decoded), SdkSignalEncoding.logs(batch));
    }
  }

  @Test
  void toBytes_logsFromTheRealSdk_roundTripToTheSameBytesAndRecords() throws Exception {
    InMemoryLogRecordExporter memory = InMemoryLogRecordExporter.create();
    // a span processor and an explicit sampler: without a processor the span came out invalid here
    SdkTracerProvider tracing =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create()))
            .setSampler(Sampler.alwaysOn())
            .build();
    SdkLoggerProvider provider =
        SdkLoggerProvider.builder()
            .setResource(Resource.getDefault().toBuilder().put("service.name", "logs-test").build())
            .addLogRecordProcessor(SimpleLogRecordProcessor.create(memory))
            .build();
    List<LogRecordData> logs;
    try {
      Logger logger = provider.loggerBuilder("io.example.app").setInstrumentationVersion("2.0").build();
      Logger other = provider.get("io.example.other");
      Span span = tracing.get("t").spanBuilder("request").startSpan();
      try (Scope ignored = span.makeCurrent()) {
        for (int i = 0; i < 50; i++) {
          logger.logRecordBuilder()
              .setSeverity(Severity.values()[i % Severity.values().length])
              .setSeverityText("level-" + i)
              .setBody("user 12345 logged in from 10.0.0." + i)
              .setAttribute(AttributeKey.stringKey("db.statement"), "SELECT * FROM users WHERE id = " + i)
              .setAttribute(AttributeKey.longKey("seq"), (long) i)
              .setTimestamp(Instant.ofEpochSecond(1_700_000_000L, i))
              .emit();
        }
        other.logRecordBuilder()
            .setEventName("session.start")
            .setBody(Value.of(KeyValue.of("user", Value.of("alice")), KeyValue.of("tries", Value.of(3L))))
            .emit();
        other.logRecordBuilder().setBody(Value.of(new byte[] {0, 1, 2, (byte) 0xff})).emit();
      } finally {
        span.end();
      }
      other.logRecordBuilder().setSeverity(Severity.WARN).emit(); // no body, no span
      logs = memory.getFinishedLogRecordItems(); // the exporter forgets them on shutdown
    } finally {
      provider.close();
      tracing.close();
    }
    assertThat(logs).hasSize(53);

    byte[] written = OtlpLogs.toBytes(logs);
    assertThat(written).isEqualTo(OtlpLogs.toRequest(logs).toByteArray());
    ExportLogsServiceRequest request = ExportLogsServiceRequest.parseFrom(written);
    SdkSignalEncoding.assertSameLogRecords(request, SdkSignalEncoding.logs(logs));
    List<LogRecordData> decoded = OtlpLogs.fromRequest(request);
    assertThat(OtlpLogs.toBytes(decoded)).isEqualTo(written);
    List<LogRecordData> expected = inRequestOrder(logs);
    for (int i = 0; i < expected.size(); i++) {
      assertSameLogRecord(decoded.get(i), expected.get(i));
    }
    assertThat(decoded).filteredOn(l -> l.getSpanContext().isValid()).as("records with their span's ids").hasSize(52);
  }

  @Test
  void fromRequest_recordFromAnotherProducer_readsWhatItCanAndDefaultsTheRest() {
    LogRecord foreign =
        LogRecord.newBuilder()
            .setSeverityNumberValue(99) // newer than these classes
            .setTraceId(ByteString.copyFrom(new byte[] {1, 2, 3})) // not 16 bytes
            .setFlags(0x101)
            .build();
    ExportLogsServiceRequest request =
        ExportLogsServiceRequest.newBuilder()
            .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder().addLogRecords(foreign)))
            .build();
    LogRecordData r = OtlpLogs.fromRequest(request).get(0);
    assertThat(r.getSeverity()).isEqualTo(Severity.UNDEFINED_SEVERITY_NUMBER);
    assertThat(r.getSpanContext().isValid()).isFalse();
    assertThat(r.getSpanContext().getTraceFlags().asByte()).isEqualTo((byte) 1);
    assertThat(r.getBodyValue()).isNull();
    assertThat(r.getSeverityText()).isNull();
    assertThat(r.getEventName()).isNull();
    assertThat(r.getAttributes()).isEqualTo(Attributes.empty());
    assertThat(r.getResource().getSchemaUrl()).isNull();
    assertThat(r.getInstrumentationScopeInfo().getVersion()).isNull();
  }

  @Test
  void toString_decodedRecord_namesNoBodyOrAttributeValue() throws Exception {
    LogRecordData log =
        io.opentelemetry.sdk.testing.logs.TestLogRecordData.builder()
            .setBody("canary-body-8d1f")
            .setAttributes(Attributes.of(AttributeKey.stringKey("user"), "canary-attr-77a2"))
            .build();
    LogRecordData decoded =
        OtlpLogs.fromRequest(ExportLogsServiceRequest.parseFrom(OtlpLogs.toBytes(List.of(log)))).get(0);
    assertThat(decoded.toString()).doesNotContain("canary");
    assertThat(decoded.getBodyValue().asString()).isEqualTo("canary-body-8d1f");
  }

  @Test
  void count_logsAndRequest_countLogRecords() throws Exception {
    List<LogRecordData> logs = new LogGenerator(9, true).logs(123);
    assertThat(OtlpLogs.count(logs)).isEqualTo(123);
    assertThat(OtlpLogs.count(ExportLogsServiceRequest.parseFrom(OtlpLogs.toBytes(logs)))).isEqualTo(123);
    assertThat(OtlpLogs.count(ExportLogsServiceRequest.getDefaultInstance())).isZero();
  }

  /** The order {@code fromRequest} gives: grouped by resource, then scope, first appearance first. */
  static List<LogRecordData> inRequestOrder(List<LogRecordData> logs) {
    Map<Resource, Map<InstrumentationScopeInfo, List<LogRecordData>>> grouped = new LinkedHashMap<>();
    for (LogRecordData l : logs) {
      grouped
          .computeIfAbsent(l.getResource(), r -> new LinkedHashMap<>())
          .computeIfAbsent(l.getInstrumentationScopeInfo(), s -> new ArrayList<>())
          .add(l);
    }
    List<LogRecordData> out = new ArrayList<>();
    grouped.values().forEach(byScope -> byScope.values().forEach(out::addAll));
    return out;
  }

  @SuppressWarnings("deprecation")
  static void assertSameLogRecord(LogRecordData actual, LogRecordData expected) {
    String id = expected.getTimestampEpochNanos() + "/" + expected.getEventName();
    assertThat(actual.getResource()).as(id).isEqualTo(expected.getResource());
    assertThat(actual.getInstrumentationScopeInfo()).as(id).isEqualTo(expected.getInstrumentationScopeInfo());
    assertThat(actual.getTimestampEpochNanos()).as(id).isEqualTo(expected.getTimestampEpochNanos());
    assertThat(actual.getObservedTimestampEpochNanos()).as(id).isEqualTo(expected.getObservedTimestampEpochNanos());
    // OTLP log records carry the ids and W3C flags, not the trace state or is-remote bit
    assertThat(actual.getSpanContext().getTraceId()).as(id).isEqualTo(expected.getSpanContext().getTraceId());
    assertThat(actual.getSpanContext().getSpanId()).as(id).isEqualTo(expected.getSpanContext().getSpanId());
    assertThat(actual.getSpanContext().getTraceFlags()).as(id).isEqualTo(expected.getSpanContext().getTraceFlags());
    assertThat(actual.getSpanContext().isValid()).as(id).isEqualTo(expected.getSpanContext().isValid());
    assertThat(actual.getSeverity()).as(id).isEqualTo(expected.getSeverity());
    assertThat(actual.getSeverityText()).as(id).isEqualTo(expected.getSeverityText());
    assertThat(actual.getBodyValue()).as(id).isEqualTo(expected.getBodyValue());
    assertThat(actual.getBody()).as(id).isEqualTo(expected.getBody());
    assertThat(actual.getAttributes()).as(id).isEqualTo(expected.getAttributes());
    assertThat(actual.getTotalAttributeCount()).as(id).isEqualTo(expected.getTotalAttributeCount());
    assertThat(actual.getEventName()).as(id).isEqualTo(expected.getEventName());
  }
}
