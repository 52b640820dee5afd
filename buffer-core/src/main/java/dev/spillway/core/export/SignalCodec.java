package dev.spillway.core.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.core.export.internal.OtlpLogs;
import dev.spillway.core.export.internal.OtlpMetrics;
import dev.spillway.core.export.internal.OtlpSpans;
import dev.spillway.core.PayloadType;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.Collection;
import java.util.List;

/**
 * One OTLP signal as a {@link BufferedDelegate} carries it: the SDK's items to the OTLP request
 * bytes the buffer seals, and those bytes back to items for the delegate. Stateless; {@link
 * #toBytes} reads its input completely before returning and keeps nothing.
 *
 * <p>Each implementation is an anonymous class loaded only when its factory is first called, so a
 * host with the trace SDK alone (the others are optional dependencies) never loads the log or
 * metric codecs.
 *
 * @param <T> the SDK's item type
 */
interface SignalCodec<T> {
  /** The payload type sealed with every batch of this signal. */
  PayloadType payloadType();

  /** What the items are called in log lines, plural ("spans", "log records", "data points"). */
  String itemsName();

  /** The OTLP {@code Export*ServiceRequest} bytes holding {@code items}. */
  byte[] toBytes(Collection<T> items);

  /** How many items a batch counts as (data points for metrics, as the daemon counts them). */
  int count(Collection<T> items);

  /** The items of an OTLP request read back from the spill. */
  List<T> fromBytes(byte[] otlp) throws InvalidProtocolBufferException;

  /** Spans: {@code ExportTraceServiceRequest}. */
  static SignalCodec<SpanData> spans() {
    return new SignalCodec<>() {
      @Override
      public PayloadType payloadType() {
        return PayloadType.OTLP_TRACES;
      }

      @Override
      public String itemsName() {
        return "spans";
      }

      @Override
      public byte[] toBytes(Collection<SpanData> items) {
        return OtlpSpans.toBytes(items);
      }

      @Override
      public int count(Collection<SpanData> items) {
        return items.size();
      }

      @Override
      public List<SpanData> fromBytes(byte[] otlp) throws InvalidProtocolBufferException {
        return OtlpSpans.fromRequest(ExportTraceServiceRequest.parseFrom(otlp));
      }
    };
  }

  /** Log records: {@code ExportLogsServiceRequest}. */
  static SignalCodec<LogRecordData> logs() {
    return new SignalCodec<>() {
      @Override
      public PayloadType payloadType() {
        return PayloadType.OTLP_LOGS;
      }

      @Override
      public String itemsName() {
        return "log records";
      }

      @Override
      public byte[] toBytes(Collection<LogRecordData> items) {
        return OtlpLogs.toBytes(items);
      }

      @Override
      public int count(Collection<LogRecordData> items) {
        return OtlpLogs.count(items);
      }

      @Override
      public List<LogRecordData> fromBytes(byte[] otlp) throws InvalidProtocolBufferException {
        return OtlpLogs.fromRequest(ExportLogsServiceRequest.parseFrom(otlp));
      }
    };
  }

  /** Metrics: {@code ExportMetricsServiceRequest}, counted in data points. */
  static SignalCodec<MetricData> metrics() {
    return new SignalCodec<>() {
      @Override
      public PayloadType payloadType() {
        return PayloadType.OTLP_METRICS;
      }

      @Override
      public String itemsName() {
        return "metric data points";
      }

      @Override
      public byte[] toBytes(Collection<MetricData> items) {
        return OtlpMetrics.toBytes(items);
      }

      @Override
      public int count(Collection<MetricData> items) {
        return OtlpMetrics.count(items);
      }

      @Override
      public List<MetricData> fromBytes(byte[] otlp) throws InvalidProtocolBufferException {
        return OtlpMetrics.fromRequest(ExportMetricsServiceRequest.parseFrom(otlp));
      }
    };
  }
}
