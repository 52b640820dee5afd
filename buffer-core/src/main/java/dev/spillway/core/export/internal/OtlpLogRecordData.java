package dev.spillway.core.export.internal;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.data.Body;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;

/**
 * An immutable {@link LogRecordData} read back from an OTLP log record, for replaying a spilled
 * batch to any {@code LogRecordExporter}. Built by {@link OtlpLogs#fromRequest}. The components are
 * named as the interface's getters so the record implements them directly. {@link #toString}
 * names no body or attribute: a log line must never carry the payload.
 */
record OtlpLogRecordData(
    Resource getResource,
    InstrumentationScopeInfo getInstrumentationScopeInfo,
    long getTimestampEpochNanos,
    long getObservedTimestampEpochNanos,
    SpanContext getSpanContext,
    Severity getSeverity,
    String getSeverityText,
    Value<?> getBodyValue,
    Attributes getAttributes,
    int getTotalAttributeCount,
    String getEventName)
    implements LogRecordData {

  /** The body as the SDK's deprecated {@link Body}: a string form of any non-string value. */
  @Override
  @Deprecated
  public Body getBody() {
    return getBodyValue == null ? Body.empty() : Body.string(getBodyValue.asString());
  }

  @Override
  public String toString() {
    return "OtlpLogRecordData{timestamp=" + getTimestampEpochNanos + ", severity=" + getSeverity
        + ", spanContext=" + getSpanContext + ", attributes=" + getAttributes.size() + "}";
  }
}
