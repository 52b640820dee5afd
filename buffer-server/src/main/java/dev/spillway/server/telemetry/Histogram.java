package dev.spillway.server.telemetry;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** A fixed-bucket latency histogram in seconds, rendered in Prometheus text format. Lock-free. */
final class Histogram {
  static final double[] LATENCY_BUCKETS = {
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  private final double[] bounds;
  private final AtomicLongArray counts;
  private final LongAdder count = new LongAdder();
  private final DoubleAdder sum = new DoubleAdder();

  Histogram(double[] bounds) {
    this.bounds = bounds.clone();
    this.counts = new AtomicLongArray(bounds.length);
  }

  void observeNanos(long nanos) {
    double s = nanos / 1e9;
    for (int i = 0; i < bounds.length; i++) {
      if (s <= bounds[i]) {
        counts.incrementAndGet(i);
        break;
      }
    }
    count.increment();
    sum.add(s);
  }

  long count() {
    return count.sum();
  }

  void render(StringBuilder out, String name, String labels) {
    long cumulative = 0;
    String sep = labels.isEmpty() ? "" : labels + ",";
    for (int i = 0; i < bounds.length; i++) {
      cumulative += counts.get(i);
      out.append(name).append("_bucket{").append(sep).append("le=\"").append(bounds[i]).append("\"} ")
          .append(cumulative).append('\n');
    }
    String l = labels.isEmpty() ? "" : "{" + labels + "}";
    out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(count.sum()).append('\n');
    out.append(name).append("_sum").append(l).append(' ').append(sum.sum()).append('\n');
    out.append(name).append("_count").append(l).append(' ').append(count.sum()).append('\n');
  }
}
