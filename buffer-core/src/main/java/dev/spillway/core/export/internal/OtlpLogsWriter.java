package dev.spillway.core.export.internal;

import com.google.protobuf.CodedOutputStream;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;
import java.io.IOException;
import java.util.Collection;

/**
 * Writes {@link LogRecordData} as the bytes of an OTLP {@code ExportLogsServiceRequest} without
 * building the protobuf objects: the bytes {@code OtlpLogs.toRequest(logs).toByteArray()} gives
 * (the tests hold it to that, byte for byte). See {@link OtlpTwoPassWriter} for the two passes;
 * the fields of a {@code LogRecord} are written here in field-number order, which is not the order
 * of the .proto file ({@code observed_time_unix_nano} is 11).
 */
final class OtlpLogsWriter extends OtlpTwoPassWriter<LogRecordData> {
  private static final int TIME = LogRecord.TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int SEVERITY_NUMBER = LogRecord.SEVERITY_NUMBER_FIELD_NUMBER;
  private static final int SEVERITY_TEXT = LogRecord.SEVERITY_TEXT_FIELD_NUMBER;
  private static final int BODY = LogRecord.BODY_FIELD_NUMBER;
  private static final int ATTRIBUTES = LogRecord.ATTRIBUTES_FIELD_NUMBER;
  private static final int DROPPED_ATTRIBUTES = LogRecord.DROPPED_ATTRIBUTES_COUNT_FIELD_NUMBER;
  private static final int FLAGS = LogRecord.FLAGS_FIELD_NUMBER;
  private static final int TRACE_ID = LogRecord.TRACE_ID_FIELD_NUMBER;
  private static final int SPAN_ID = LogRecord.SPAN_ID_FIELD_NUMBER;
  private static final int OBSERVED_TIME = LogRecord.OBSERVED_TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int EVENT_NAME = LogRecord.EVENT_NAME_FIELD_NUMBER;

  private OtlpLogsWriter() {}

  static byte[] write(Collection<? extends LogRecordData> logs) {
    return new OtlpLogsWriter().writeRequest(logs);
  }

  @Override
  Resource resourceOf(LogRecordData log) {
    return log.getResource();
  }

  @Override
  InstrumentationScopeInfo scopeOf(LogRecordData log) {
    return log.getInstrumentationScopeInfo();
  }

  @Override
  int sizeItem(LogRecordData log) {
    int slot = reserve();
    SpanContext sc = log.getSpanContext();
    Value<?> body = log.getBodyValue();
    int size = fixed64(TIME, log.getTimestampEpochNanos())
        + enumValue(SEVERITY_NUMBER, log.getSeverity().getSeverityNumber())
        + string(SEVERITY_TEXT, log.getSeverityText())
        + (body == null ? 0 : field(BODY, sizeAnyValue(body)))
        + sizeAttributes(ATTRIBUTES, log.getAttributes())
        + uint32(DROPPED_ATTRIBUTES, log.getTotalAttributeCount() - log.getAttributes().size())
        + fixed32(FLAGS, OtlpLogs.flags(sc))
        + (OtlpLogs.hasTraceId(sc) ? bytes(TRACE_ID, sc.getTraceIdBytes()) : 0)
        + (OtlpLogs.hasSpanId(sc) ? bytes(SPAN_ID, sc.getSpanIdBytes()) : 0)
        + fixed64(OBSERVED_TIME, log.getObservedTimestampEpochNanos())
        + string(EVENT_NAME, log.getEventName());
    setSize(slot, size);
    return size;
  }

  @Override
  void writeItem(CodedOutputStream out, LogRecordData log) throws IOException {
    SpanContext sc = log.getSpanContext();
    Value<?> body = log.getBodyValue();
    writeFixed64(out, TIME, log.getTimestampEpochNanos());
    writeEnum(out, SEVERITY_NUMBER, log.getSeverity().getSeverityNumber());
    writeString(out, SEVERITY_TEXT, log.getSeverityText());
    if (body != null) {
      start(out, BODY);
      writeValueBody(out, body);
    }
    writeAttributes(out, ATTRIBUTES, log.getAttributes());
    writeUInt32(out, DROPPED_ATTRIBUTES, log.getTotalAttributeCount() - log.getAttributes().size());
    writeFixed32(out, FLAGS, OtlpLogs.flags(sc));
    if (OtlpLogs.hasTraceId(sc)) {
      writeBytes(out, TRACE_ID, sc.getTraceIdBytes());
    }
    if (OtlpLogs.hasSpanId(sc)) {
      writeBytes(out, SPAN_ID, sc.getSpanIdBytes());
    }
    writeFixed64(out, OBSERVED_TIME, log.getObservedTimestampEpochNanos());
    writeString(out, EVENT_NAME, log.getEventName());
  }
}
