package dev.spillway.core.export.internal;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link LogRecordData} to and from an OTLP {@link ExportLogsServiceRequest}, written against the
 * public {@code io.opentelemetry.proto} classes (the SDK's own marshalers are internal API).
 *
 * <p><b>Not API.</b> This package may change in any release.
 *
 * <p>Stateless: every method may be called from any thread. {@code toBytes} reads its input
 * before it returns and keeps nothing, so a caller may reuse the SDK's objects afterwards (the
 * metric SDK's reusable-data memory mode does).
 *
 * <p>What OTLP cannot carry, and what a decoded log record therefore has instead:
 *
 * <ul>
 *   <li>the span context's trace state and is-remote bit ({@code LogRecord} has only the ids and
 *       the W3C flags): a decoded record's context is local with an empty trace state;
 *   <li>a context with only one of its two ids valid (the SDK never makes one): decoded as the
 *       invalid context, with the flags;
 *   <li>an empty severity text or event name: decoded as none ({@code null}), as proto3 has no
 *       null string;
 *   <li>the Java type of an empty array attribute, and of a {@code VALUE} attribute holding a
 *       plain scalar (see {@link OtlpAttributes}).
 * </ul>
 *
 * Each of these encodes to the same OTLP bytes again, so a replayed record reaches the backend as
 * it was produced. The body keeps its {@code AnyValue} kind (string, number, bytes, array, key-value
 * list, or an empty value), and a record without a body stays without one.
 */
public final class OtlpLogs {
  /** The SDK's severities by their OTLP number (the same numbers); gaps are null. */
  private static final Severity[] SEVERITY_BY_NUMBER = severityByNumber();

  private OtlpLogs() {}

  /**
   * One request holding {@code logs}, grouped by resource, then by instrumentation scope, each
   * group in order of first appearance and the records of a group in their given order.
   */
  public static ExportLogsServiceRequest toRequest(Collection<? extends LogRecordData> logs) {
    Map<Resource, Map<InstrumentationScopeInfo, List<LogRecord>>> grouped = new LinkedHashMap<>();
    for (LogRecordData log : logs) {
      grouped
          .computeIfAbsent(log.getResource(), r -> new LinkedHashMap<>())
          .computeIfAbsent(log.getInstrumentationScopeInfo(), i -> new ArrayList<>())
          .add(toProto(log));
    }
    ExportLogsServiceRequest.Builder request = ExportLogsServiceRequest.newBuilder();
    grouped.forEach(
        (resource, byScope) -> {
          ResourceLogs.Builder rl =
              ResourceLogs.newBuilder().setResource(OtlpResourceScope.toProto(resource));
          if (resource.getSchemaUrl() != null) {
            rl.setSchemaUrl(resource.getSchemaUrl());
          }
          byScope.forEach(
              (scope, records) -> {
                ScopeLogs.Builder sl =
                    ScopeLogs.newBuilder()
                        .setScope(OtlpResourceScope.toProto(scope))
                        .addAllLogRecords(records);
                if (scope.getSchemaUrl() != null) {
                  sl.setSchemaUrl(scope.getSchemaUrl());
                }
                rl.addScopeLogs(sl);
              });
          request.addResourceLogs(rl);
        });
    return request.build();
  }

  /**
   * The bytes of {@link #toRequest}{@code (logs)}, written directly without building the protobuf
   * objects (see {@code OtlpLogsWriter}).
   */
  public static byte[] toBytes(Collection<? extends LogRecordData> logs) {
    return OtlpLogsWriter.write(logs);
  }

  /** Every log record of {@code request}, in request order. */
  public static List<LogRecordData> fromRequest(ExportLogsServiceRequest request) {
    List<LogRecordData> out = new ArrayList<>(count(request));
    for (ResourceLogs rl : request.getResourceLogsList()) {
      Resource resource = OtlpResourceScope.fromProto(rl.getResource(), rl.getSchemaUrl());
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        InstrumentationScopeInfo scope = OtlpResourceScope.fromProto(sl.getScope(), sl.getSchemaUrl());
        for (LogRecord record : sl.getLogRecordsList()) {
          out.add(fromProto(record, scope, resource));
        }
      }
    }
    return out;
  }

  /** The items an exporter reports for {@code logs}: one per log record. */
  public static int count(Collection<? extends LogRecordData> logs) {
    return logs.size();
  }

  /** The log records in {@code request}. */
  public static int count(ExportLogsServiceRequest request) {
    int n = 0;
    for (ResourceLogs rl : request.getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        n += sl.getLogRecordsCount();
      }
    }
    return n;
  }

  // ------------------------------------------------------------------ encode

  static LogRecord toProto(LogRecordData log) {
    SpanContext sc = log.getSpanContext();
    LogRecord.Builder b =
        LogRecord.newBuilder()
            .setTimeUnixNano(log.getTimestampEpochNanos())
            .setObservedTimeUnixNano(log.getObservedTimestampEpochNanos())
            .setSeverityNumberValue(log.getSeverity().getSeverityNumber())
            .addAllAttributes(OtlpAttributes.toProto(log.getAttributes()))
            .setDroppedAttributesCount(log.getTotalAttributeCount() - log.getAttributes().size())
            .setFlags(flags(sc));
    if (log.getSeverityText() != null) {
      b.setSeverityText(log.getSeverityText());
    }
    Value<?> body = log.getBodyValue();
    if (body != null) {
      b.setBody(OtlpAttributes.toAnyValue(body));
    }
    if (hasTraceId(sc)) {
      b.setTraceId(ByteString.copyFrom(sc.getTraceIdBytes()));
    }
    if (hasSpanId(sc)) {
      b.setSpanId(ByteString.copyFrom(sc.getSpanIdBytes()));
    }
    if (log.getEventName() != null) {
      b.setEventName(log.getEventName());
    }
    return b.build();
  }

  /** {@code LogRecord.flags}: the W3C trace flags in the low byte, as the SDK writes them. */
  static int flags(SpanContext sc) {
    return sc.getTraceFlags().asByte() & 0xff;
  }

  static boolean hasTraceId(SpanContext sc) {
    return !sc.getTraceId().equals(TraceId.getInvalid());
  }

  static boolean hasSpanId(SpanContext sc) {
    return !sc.getSpanId().equals(SpanId.getInvalid());
  }

  // ------------------------------------------------------------------ decode

  private static LogRecordData fromProto(
      LogRecord record, InstrumentationScopeInfo scope, Resource resource) {
    return new OtlpLogRecordData(
        resource,
        scope,
        record.getTimeUnixNano(),
        record.getObservedTimeUnixNano(),
        spanContext(record),
        severity(record.getSeverityNumberValue()),
        OtlpResourceScope.emptyToNull(record.getSeverityText()),
        record.hasBody() ? OtlpAttributes.fromAnyValue(record.getBody()) : null,
        OtlpAttributes.fromProto(record.getAttributesList()),
        record.getAttributesCount() + record.getDroppedAttributesCount(),
        OtlpResourceScope.emptyToNull(record.getEventName()));
  }

  private static SpanContext spanContext(LogRecord record) {
    ByteString traceId = record.getTraceId();
    ByteString spanId = record.getSpanId();
    TraceFlags flags = TraceFlags.fromByte((byte) record.getFlags());
    if (traceId.isEmpty() && spanId.isEmpty() && flags.asByte() == 0) {
      return SpanContext.getInvalid();
    }
    return SpanContext.create(
        traceId.size() == TraceId.getLength() / 2
            ? TraceId.fromBytes(traceId.toByteArray())
            : TraceId.getInvalid(),
        spanId.size() == SpanId.getLength() / 2
            ? SpanId.fromBytes(spanId.toByteArray())
            : SpanId.getInvalid(),
        flags,
        TraceState.getDefault());
  }

  private static Severity[] severityByNumber() {
    Severity[] byNumber = new Severity[Severity.FATAL4.getSeverityNumber() + 1];
    for (Severity s : Severity.values()) {
      if (s.getSeverityNumber() >= 0 && s.getSeverityNumber() < byNumber.length) {
        byNumber[s.getSeverityNumber()] = s;
      }
    }
    return byNumber;
  }

  /** The SDK's severity of an OTLP severity number; an unknown number is undefined severity. */
  static Severity severity(int number) {
    Severity s = number >= 0 && number < SEVERITY_BY_NUMBER.length ? SEVERITY_BY_NUMBER[number] : null;
    return s == null ? Severity.UNDEFINED_SEVERITY_NUMBER : s;
  }
}
