package dev.spillway.core.export.internal;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.testing.logs.TestLogRecordData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Random log records covering everything {@link LogRecordData} carries: timestamps (either unset),
 * every severity and severity text, bodies of every {@code AnyValue} kind (nested arrays and
 * key-value lists, bytes, empty) or none, trace and span ids with any flags, attributes of every
 * type with dropped counts, event names, several resources and scopes. Seeded.
 */
final class LogGenerator {
  private final TelemetryValues values;

  LogGenerator(long seed, boolean javaTypesPreserved) {
    this.values = new TelemetryValues(seed, javaTypesPreserved);
  }

  List<LogRecordData> logs(int n) {
    List<LogRecordData> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(log(i));
    }
    return out;
  }

  LogRecordData log(int index) {
    var random = values.random;
    Attributes attributes = values.attributes(random.nextInt(10));
    TestLogRecordData.Builder b =
        TestLogRecordData.builder()
            .setResource(values.resource())
            .setInstrumentationScopeInfo(values.scope())
            .setTimestamp(values.time(), TimeUnit.NANOSECONDS)
            .setSpanContext(spanContext())
            .setSeverity(Severity.values()[random.nextInt(Severity.values().length)])
            .setAttributes(attributes)
            .setTotalAttributeCount(attributes.size() + (random.nextInt(3) == 0 ? random.nextInt(5) : 0));
    b.setObservedTimestamp(values.time(), TimeUnit.NANOSECONDS);
    switch (random.nextInt(values.javaTypesPreserved ? 2 : 3)) {
      case 0 -> b.setSeverityText(null);
      case 1 -> b.setSeverityText(values.text(8));
      default -> b.setSeverityText(""); // wire-equal only: decoded as unset
    }
    b.setBodyValue(random.nextInt(6) == 0 ? null : values.value(3));
    switch (random.nextInt(values.javaTypesPreserved ? 2 : 3)) {
      case 0 -> b.setEventName(null);
      case 1 -> b.setEventName("event." + index + "." + values.text(5));
      default -> b.setEventName("");
    }
    return b.build();
  }

  private SpanContext spanContext() {
    var random = values.random;
    return switch (random.nextInt(values.javaTypesPreserved ? 2 : 3)) {
      case 0 -> SpanContext.getInvalid();
      case 1 -> SpanContext.create(
          TraceId.fromLongs(random.nextLong() | 1, random.nextLong()),
          SpanId.fromLong(random.nextLong() | 1),
          TraceFlags.fromByte((byte) random.nextInt(256)),
          TraceState.getDefault());
      // OTLP logs carry neither trace state nor is-remote: wire-equal only.
      default -> SpanContext.createFromRemoteParent(
          TraceId.fromLongs(random.nextLong() | 1, random.nextLong()),
          SpanId.fromLong(random.nextLong() | 1),
          TraceFlags.fromByte((byte) random.nextInt(256)),
          TraceState.builder().put("k", "v" + random.nextInt(9)).build());
    };
  }
}
