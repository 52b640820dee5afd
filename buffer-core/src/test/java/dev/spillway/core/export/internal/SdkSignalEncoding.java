package dev.spillway.core.export.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.TextFormat;
import io.opentelemetry.exporter.internal.marshal.Marshaler;
import io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.metrics.MetricsRequestMarshaler;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The test oracle for logs and metrics, as {@link SdkEncoding} is for spans: what the SDK's own OTLP
 * exporters put on the wire (their marshalers are internal API, fine for a test and never used by
 * main code), and a canonical form to compare two requests item by item whatever their grouping.
 */
public final class SdkSignalEncoding {
  private SdkSignalEncoding() {}

  /** The request the SDK's OTLP log exporters would send for {@code logs}. */
  public static ExportLogsServiceRequest logs(Collection<? extends LogRecordData> logs) {
    try {
      return ExportLogsServiceRequest.parseFrom(bytes(LogsRequestMarshaler.create(new ArrayList<>(logs))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The request the SDK's OTLP metric exporters would send for {@code metrics}. */
  public static ExportMetricsServiceRequest metrics(Collection<? extends MetricData> metrics) {
    try {
      return ExportMetricsServiceRequest.parseFrom(bytes(MetricsRequestMarshaler.create(new ArrayList<>(metrics))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bytes(Marshaler marshaler) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    marshaler.writeBinaryTo(out);
    return out.toByteArray();
  }

  /**
   * One {@code ResourceLogs} per log record, holding that record alone with its resource, scope and
   * schema urls, sorted by their protobuf bytes: equal for two requests carrying the same records.
   */
  public static List<ByteString> perLogRecord(ExportLogsServiceRequest request) {
    List<ByteString> out = new ArrayList<>();
    for (ResourceLogs rl : request.getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord r : sl.getLogRecordsList()) {
          out.add(
              rl.toBuilder()
                  .clearScopeLogs()
                  .addScopeLogs(sl.toBuilder().clearLogRecords().addLogRecords(r))
                  .build()
                  .toByteString());
        }
      }
    }
    out.sort(ByteString.unsignedLexicographicalComparator());
    return out;
  }

  /**
   * One {@code ResourceMetrics} per data point: the point alone in its metric (name, description,
   * unit, kind, temporality, monotonicity), scope and resource, sorted by their protobuf bytes.
   */
  public static List<ByteString> perDataPoint(ExportMetricsServiceRequest request) {
    List<ByteString> out = new ArrayList<>();
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          for (Metric single : perPoint(m)) {
            out.add(
                rm.toBuilder()
                    .clearScopeMetrics()
                    .addScopeMetrics(sm.toBuilder().clearMetrics().addMetrics(single))
                    .build()
                    .toByteString());
          }
        }
      }
    }
    out.sort(ByteString.unsignedLexicographicalComparator());
    return out;
  }

  /** {@code metric} once per data point, holding that point alone; itself when it has none. */
  static List<Metric> perPoint(Metric m) {
    List<Metric> out = new ArrayList<>();
    switch (m.getDataCase()) {
      case GAUGE -> m.getGauge().getDataPointsList().forEach(p -> out.add(
          m.toBuilder().setGauge(m.getGauge().toBuilder().clearDataPoints().addDataPoints(p)).build()));
      case SUM -> m.getSum().getDataPointsList().forEach(p -> out.add(
          m.toBuilder().setSum(m.getSum().toBuilder().clearDataPoints().addDataPoints(p)).build()));
      case HISTOGRAM -> m.getHistogram().getDataPointsList().forEach(p -> out.add(
          m.toBuilder().setHistogram(m.getHistogram().toBuilder().clearDataPoints().addDataPoints(p)).build()));
      case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsList().forEach(p -> out.add(
          m.toBuilder()
              .setExponentialHistogram(m.getExponentialHistogram().toBuilder().clearDataPoints().addDataPoints(p))
              .build()));
      case SUMMARY -> m.getSummary().getDataPointsList().forEach(p -> out.add(
          m.toBuilder().setSummary(m.getSummary().toBuilder().clearDataPoints().addDataPoints(p)).build()));
      default -> {}
    }
    if (out.isEmpty()) {
      out.add(m);
    }
    return out;
  }

  /** Asserts both requests carry the same log records ({@link #perLogRecord}), whatever their grouping. */
  static void assertSameLogRecords(ExportLogsServiceRequest actual, ExportLogsServiceRequest expected) {
    assertSame(perLogRecord(actual), perLogRecord(expected), ResourceLogs.parser());
  }

  /** Asserts both requests carry the same data points ({@link #perDataPoint}), whatever their grouping. */
  static void assertSameDataPoints(ExportMetricsServiceRequest actual, ExportMetricsServiceRequest expected) {
    assertSame(perDataPoint(actual), perDataPoint(expected), ResourceMetrics.parser());
  }

  /** Compares bytes; on a difference, compares protobuf's text format so that the failure reads well. */
  private static void assertSame(List<ByteString> actual, List<ByteString> expected, Parser<? extends Message> parser) {
    if (!actual.equals(expected)) {
      assertThat(text(actual, parser)).isEqualTo(text(expected, parser));
      assertThat(actual).isEqualTo(expected); // same text, other bytes
    }
  }

  private static List<String> text(List<ByteString> items, Parser<? extends Message> parser) {
    List<String> out = new ArrayList<>(items.size());
    for (ByteString b : items) {
      try {
        out.add(TextFormat.printer().printToString(parser.parseFrom(b)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** Parses {@code bytes} as {@code prototype}'s message type. */
  @SuppressWarnings("unchecked")
  static <M extends Message> M parse(M prototype, byte[] bytes) {
    try {
      return (M) prototype.getParserForType().parseFrom(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
