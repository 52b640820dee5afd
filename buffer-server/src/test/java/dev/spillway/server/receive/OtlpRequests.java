package dev.spillway.server.receive;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogram;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.metrics.v1.Summary;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;

/** Requests of the three signals that use every kind of field the scanner treats specially. */
final class OtlpRequests {
  private OtlpRequests() {}

  static KeyValue kv(String key, AnyValue value) {
    return KeyValue.newBuilder().setKey(key).setValue(value).build();
  }

  static AnyValue str(String s) {
    return AnyValue.newBuilder().setStringValue(s).build();
  }

  /** An attribute value nested {@code depth} AnyValues deep (1 = a plain string). */
  static AnyValue nested(int depth) {
    AnyValue v = str("leaf");
    for (int i = 1; i < depth; i++) {
      v = i % 2 == 0
          ? AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder().addValues(v)).build()
          : AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder().addValues(kv("k" + i, v))).build();
    }
    return v;
  }

  static Resource resource() {
    return Resource.newBuilder().addAttributes(kv("service.name", str("svc"))).build();
  }

  static InstrumentationScope scope() {
    return InstrumentationScope.newBuilder().setName("scope").setVersion("1")
        .addAttributes(kv("scope.attr", AnyValue.newBuilder().setIntValue(7).build())).build();
  }

  static ExportTraceServiceRequest traces(int spans) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(scope());
    for (int i = 0; i < spans; i++) {
      ss.addSpans(Span.newBuilder()
          .setTraceId(ByteString.copyFrom(new byte[16])).setSpanId(ByteString.copyFrom(new byte[8]))
          .setName("op-" + i + "-é").setKind(Span.SpanKind.SPAN_KIND_SERVER)
          .setStartTimeUnixNano(1_700_000_000_000_000_000L).setEndTimeUnixNano(1_700_000_000_100_000_000L)
          .addAttributes(kv("http.method", str("GET")))
          .addAttributes(kv("deep", nested(4)))
          .addAttributes(kv("bytes", AnyValue.newBuilder().setBytesValue(ByteString.copyFromUtf8("b")).build()))
          .addEvents(Span.Event.newBuilder().setName("ev").addAttributes(kv("e", str("v"))))
          .addLinks(Span.Link.newBuilder().setTraceId(ByteString.copyFrom(new byte[16]))
              .addAttributes(kv("l", AnyValue.newBuilder().setDoubleValue(1.5).build())))
          .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).setMessage("m")));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().setResource(resource()).addScopeSpans(ss).setSchemaUrl("u"))
        .build();
  }

  static ExportMetricsServiceRequest metrics() {
    NumberDataPoint number = NumberDataPoint.newBuilder().addAttributes(kv("a", str("b")))
        .setTimeUnixNano(5).setAsDouble(2.5)
        .addExemplars(Exemplar.newBuilder().setAsInt(3).addFilteredAttributes(kv("f", str("g")))).build();
    ScopeMetrics sm = ScopeMetrics.newBuilder().setScope(scope())
        .addMetrics(Metric.newBuilder().setName("gauge").setUnit("1")
            .setGauge(Gauge.newBuilder().addDataPoints(number).addDataPoints(number)))
        .addMetrics(Metric.newBuilder().setName("sum")
            .setSum(Sum.newBuilder().setIsMonotonic(true).addDataPoints(number)))
        .addMetrics(Metric.newBuilder().setName("histogram")
            .setHistogram(Histogram.newBuilder().addDataPoints(HistogramDataPoint.newBuilder()
                .setCount(3).setSum(4).addBucketCounts(1).addBucketCounts(2).addExplicitBounds(1.0)
                .addAttributes(kv("h", str("i"))))))
        .addMetrics(Metric.newBuilder().setName("exponential")
            .setExponentialHistogram(ExponentialHistogram.newBuilder().addDataPoints(
                ExponentialHistogramDataPoint.newBuilder().setScale(2).setZeroCount(1)
                    .setPositive(ExponentialHistogramDataPoint.Buckets.newBuilder().setOffset(-3)
                        .addBucketCounts(300).addBucketCounts(1)))))
        .addMetrics(Metric.newBuilder().setName("summary")
            .setSummary(Summary.newBuilder().addDataPoints(SummaryDataPoint.newBuilder().setCount(1)
                .addQuantileValues(SummaryDataPoint.ValueAtQuantile.newBuilder().setQuantile(0.5).setValue(1)))))
        .build();
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(ResourceMetrics.newBuilder().setResource(resource()).addScopeMetrics(sm)).build();
  }

  static ExportLogsServiceRequest logs() {
    ScopeLogs.Builder sl = ScopeLogs.newBuilder().setScope(scope());
    for (int i = 0; i < 3; i++) {
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(9).setSeverityText("INFO")
          .setBody(nested(3)).addAttributes(kv("log.attr", str("x"))).setTraceId(ByteString.copyFrom(new byte[16])));
    }
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(ResourceLogs.newBuilder().setResource(resource()).addScopeLogs(sl)).build();
  }
}
