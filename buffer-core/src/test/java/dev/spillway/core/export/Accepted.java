package dev.spillway.core.export;

import com.google.protobuf.ByteString;
import dev.spillway.core.export.internal.SdkSignalEncoding;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Exporters that stand between the SDK and the exporter under test and note what it accepted: each
 * batch is encoded as the SDK's own OTLP exporter would send it, before the call (the metric SDK
 * reuses its objects afterwards in reusable-data mode), and kept if the exporter under test
 * returned success. Everything else is passed through, so the SDK sees the exporter under test.
 */
final class Accepted {
  private Accepted() {}

  /** The log records accepted, one canonical {@code ResourceLogs} per record. */
  static final class Logs implements LogRecordExporter {
    private final LogRecordExporter under;
    private final Object lock = new Object();
    private final List<ByteString> accepted = new ArrayList<>(); // guarded by lock
    private final List<ExportLogsServiceRequest> batches = new ArrayList<>(); // guarded by lock
    private long bytes; // guarded by lock

    Logs(LogRecordExporter under) {
      this.under = under;
    }

    @Override
    public CompletableResultCode export(Collection<LogRecordData> logs) {
      ExportLogsServiceRequest request = SdkSignalEncoding.logs(logs);
      CompletableResultCode r = under.export(logs);
      r.whenComplete(() -> {
        if (r.isSuccess()) {
          synchronized (lock) {
            accepted.addAll(SdkSignalEncoding.perLogRecord(request));
            batches.add(request);
            bytes += request.getSerializedSize();
          }
        }
      });
      return r;
    }

    Set<ByteString> records() {
      synchronized (lock) {
        return new HashSet<>(accepted);
      }
    }

    int count() {
      synchronized (lock) {
        return accepted.size();
      }
    }

    /** OTLP bytes of the accepted batches. */
    long bytes() {
      synchronized (lock) {
        return bytes;
      }
    }

    @Override
    public CompletableResultCode flush() {
      return under.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return under.shutdown();
    }
  }

  /** The metric data points accepted, one canonical {@code ResourceMetrics} per point. */
  static final class Metrics implements MetricExporter {
    private final MetricExporter under;
    private final Object lock = new Object();
    private final List<ByteString> accepted = new ArrayList<>(); // guarded by lock
    private final List<ExportMetricsServiceRequest> batches = new ArrayList<>(); // guarded by lock
    private long bytes; // guarded by lock

    Metrics(MetricExporter under) {
      this.under = under;
    }

    @Override
    public CompletableResultCode export(Collection<MetricData> metrics) {
      ExportMetricsServiceRequest request = SdkSignalEncoding.metrics(metrics);
      CompletableResultCode r = under.export(metrics);
      r.whenComplete(() -> {
        if (r.isSuccess()) {
          synchronized (lock) {
            accepted.addAll(SdkSignalEncoding.perDataPoint(request));
            batches.add(request);
            bytes += request.getSerializedSize();
          }
        }
      });
      return r;
    }

    Set<ByteString> points() {
      synchronized (lock) {
        return new HashSet<>(accepted);
      }
    }

    int count() {
      synchronized (lock) {
        return accepted.size();
      }
    }

    /** OTLP bytes of the accepted batches. */
    long bytes() {
      synchronized (lock) {
        return bytes;
      }
    }

    /** The accepted requests, in export order. */
    List<ExportMetricsServiceRequest> batches() {
      synchronized (lock) {
        return new ArrayList<>(batches);
      }
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
      return under.getAggregationTemporality(instrumentType);
    }

    @Override
    public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
      return under.getDefaultAggregation(instrumentType);
    }

    @Override
    public MemoryMode getMemoryMode() {
      return under.getMemoryMode();
    }

    @Override
    public CompletableResultCode flush() {
      return under.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return under.shutdown();
    }
  }

  /** Every log record in {@code requests}, canonical as in {@link Logs#records()}. */
  static Set<ByteString> logRecords(List<ExportLogsServiceRequest> requests) {
    Set<ByteString> out = new HashSet<>();
    requests.forEach(r -> out.addAll(SdkSignalEncoding.perLogRecord(r)));
    return out;
  }

  /** Every data point in {@code requests}, canonical as in {@link Metrics#points()}. */
  static Set<ByteString> dataPoints(List<ExportMetricsServiceRequest> requests) {
    Set<ByteString> out = new HashSet<>();
    requests.forEach(r -> out.addAll(SdkSignalEncoding.perDataPoint(r)));
    return out;
  }
}
