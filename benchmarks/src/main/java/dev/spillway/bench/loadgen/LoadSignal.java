package dev.spillway.bench.loadgen;

import dev.spillway.bench.SpanFixtures;
import dev.spillway.bench.export.LogFixtures;
import dev.spillway.bench.export.MetricFixtures;
import dev.spillway.core.export.internal.OtlpLogs;
import dev.spillway.core.export.internal.OtlpMetrics;
import dev.spillway.core.export.internal.OtlpSpans;
import io.grpc.MethodDescriptor;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The OTLP signal a load run sends: its gRPC export method (with ready request bytes) and the
 * request of {@code n} items it sends over and over. Items are spans, metric data points or log
 * records, from the benchmark fixtures (realistic sizes: traces about 240 B per span as OTLP,
 * logs about 590 B per record, metrics small points in many series).
 */
enum LoadSignal {
  TRACES(TraceServiceGrpc.getExportMethod()),
  METRICS(MetricsServiceGrpc.getExportMethod()),
  LOGS(LogsServiceGrpc.getExportMethod());

  /** The export call with request and answer as bytes; the answer is read and ignored. */
  final MethodDescriptor<byte[], byte[]> rawExport;

  LoadSignal(MethodDescriptor<?, ?> export) {
    this.rawExport = export.toBuilder(RawBytes.INSTANCE, RawBytes.INSTANCE).build();
  }

  static LoadSignal of(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--signal must be traces, metrics or logs, got " + name);
    }
  }

  String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** One serialized export request of {@code items} items (for metrics, data points). */
  byte[] request(int items) {
    return switch (this) {
      case TRACES -> OtlpSpans.toBytes(SpanFixtures.spans(items));
      case METRICS -> OtlpMetrics.toBytes(MetricFixtures.metrics(items));
      case LOGS -> OtlpLogs.toBytes(LogFixtures.logs(items));
    };
  }

  private static final class RawBytes implements MethodDescriptor.Marshaller<byte[]> {
    static final RawBytes INSTANCE = new RawBytes();

    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try (stream) {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
