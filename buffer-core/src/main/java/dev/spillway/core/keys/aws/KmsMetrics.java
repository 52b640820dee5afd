package dev.spillway.core.keys.aws;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Read-only counters of the KMS calls made through one {@link AwsKms}, by operation. A call is one
 * provider request ({@code issue}, {@code unwrap}, the public-key fetch); an attempt is one HTTP
 * request the SDK sent for it, so {@code attempts - calls} is the number of SDK retries. Latency
 * is measured around the whole call, retries and back-off included.
 *
 * <p>Thread-safe; values only grow. Cheap to read: poll it from a metrics exporter.
 */
public final class KmsMetrics {
  private final Map<KmsOperation, Counters> byOperation = new EnumMap<>(KmsOperation.class);

  private static final class Counters {
    final LongAdder calls = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder attempts = new LongAdder();
    final LongAdder latencyNanos = new LongAdder();
    final AtomicLong maxLatencyNanos = new AtomicLong();
  }

  KmsMetrics() {
    for (KmsOperation op : KmsOperation.values()) {
      byOperation.put(op, new Counters());
    }
  }

  /** Calls made by the providers (successful or not). */
  public long calls(KmsOperation op) {
    return byOperation.get(op).calls.sum();
  }

  /** Calls that failed, after the SDK's retries. */
  public long errors(KmsOperation op) {
    return byOperation.get(op).errors.sum();
  }

  /** HTTP requests sent to the KMS, first tries and SDK retries. */
  public long attempts(KmsOperation op) {
    return byOperation.get(op).attempts.sum();
  }

  /** Total time spent in calls of this operation. */
  public Duration totalLatency(KmsOperation op) {
    return Duration.ofNanos(byOperation.get(op).latencyNanos.sum());
  }

  /** The slowest single call of this operation so far. */
  public Duration maxLatency(KmsOperation op) {
    return Duration.ofNanos(byOperation.get(op).maxLatencyNanos.get());
  }

  void recordCall(KmsOperation op, long nanos, boolean failed) {
    Counters c = byOperation.get(op);
    c.calls.increment();
    if (failed) {
      c.errors.increment();
    }
    c.latencyNanos.add(nanos);
    c.maxLatencyNanos.accumulateAndGet(nanos, Math::max);
  }

  void recordAttempt(KmsOperation op) {
    byOperation.get(op).attempts.increment();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("KmsMetrics[");
    String sep = "";
    for (KmsOperation op : KmsOperation.values()) {
      b.append(sep)
          .append(op.apiName())
          .append(": calls=")
          .append(calls(op))
          .append(" errors=")
          .append(errors(op))
          .append(" attempts=")
          .append(attempts(op))
          .append(" maxLatency=")
          .append(maxLatency(op).toMillis())
          .append("ms");
      sep = ", ";
    }
    return b.append(']').toString();
  }
}
