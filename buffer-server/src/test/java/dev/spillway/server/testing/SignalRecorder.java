package dev.spillway.server.testing;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a test downstream received of metrics and logs: each metric data point as {@code
 * name|series|time|attributes} (a cumulative point re-sent at a later time is another key), each log record by its {@code seq} attribute, and the totals with repeats.
 * Thread-safe; {@link #await} waits on a monitor, bounded.
 */
public final class SignalRecorder {
  public final Set<String> dataPoints = ConcurrentHashMap.newKeySet();
  public final Set<String> logRecords = ConcurrentHashMap.newKeySet();
  public final AtomicLong dataPointDeliveries = new AtomicLong();
  public final AtomicLong logRecordDeliveries = new AtomicLong();
  private final Object arrived = new Object();

  public void record(ExportMetricsServiceRequest req) {
    for (ResourceMetrics rm : req.getResourceMetricsList()) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          switch (m.getDataCase()) {
            case SUM -> m.getSum().getDataPointsList().forEach(p -> point(m, p.getAttributesList(), p.getTimeUnixNano()));
            case GAUGE -> m.getGauge().getDataPointsList().forEach(p -> point(m, p.getAttributesList(), p.getTimeUnixNano()));
            case HISTOGRAM ->
                m.getHistogram().getDataPointsList().forEach(p -> point(m, p.getAttributesList(), p.getTimeUnixNano()));
            case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsList()
                .forEach(p -> point(m, p.getAttributesList(), p.getTimeUnixNano()));
            case SUMMARY -> m.getSummary().getDataPointsList().forEach(p -> point(m, p.getAttributesList(), p.getTimeUnixNano()));
            default -> { }
          }
        }
      }
    }
    signal();
  }

  public void record(ExportLogsServiceRequest req) {
    for (ResourceLogs rl : req.getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord r : sl.getLogRecordsList()) {
          logRecordDeliveries.incrementAndGet();
          logRecords.add(attribute(r.getAttributesList(), "seq"));
        }
      }
    }
    signal();
  }

  private void point(Metric m, List<KeyValue> attributes, long time) {
    dataPointDeliveries.incrementAndGet();
    // All attributes, not only series: the SDK's own instruments send points of one name and time.
    dataPoints.add(m.getName() + "|" + attribute(attributes, "series") + "|" + time + "|" + attributes.hashCode());
  }

  private static String attribute(List<KeyValue> attributes, String key) {
    for (KeyValue kv : attributes) {
      if (kv.getKey().equals(key)) {
        var v = kv.getValue();
        return v.hasIntValue() ? Long.toString(v.getIntValue()) : v.getStringValue();
      }
    }
    return "";
  }

  private void signal() {
    synchronized (arrived) {
      arrived.notifyAll();
    }
  }

  /** Waits until at least {@code points} distinct data points and {@code logs} distinct log records arrived. */
  public boolean await(int points, int logs, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (arrived) {
      while (dataPoints.size() < points || logRecords.size() < logs) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(arrived, left);
      }
    }
    return true;
  }
}
