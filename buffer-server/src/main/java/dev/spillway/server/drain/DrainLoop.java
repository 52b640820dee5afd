package dev.spillway.server.drain;

import dev.spillway.core.Delivery;
import dev.spillway.core.SpillReader;
import dev.spillway.core.drain.Drain;
import dev.spillway.core.drain.DrainListener;
import dev.spillway.core.drain.ExportOutcome;
import dev.spillway.core.drain.RetryPolicy;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.export.ExportResult;
import dev.spillway.server.export.OtlpExporter;
import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.telemetry.ServerMetrics;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's drain: the core {@link Drain} (poll, export, ack or release with back-off, jitter
 * and Retry-After / RetryInfo, error containment) over the configured {@link OtlpExporter}, each
 * batch to its signal's service (the payload type sealed with it), with the daemon's per-signal
 * item counters. See {@link Drain} for the retry and stop behaviour; {@code
 * retry_on_failure} maps onto its {@link RetryPolicy}. A downstream outage never drops data; only a
 * downstream that calls the data itself invalid (400 / INVALID_ARGUMENT) does, and that is counted.
 *
 * <p>{@code sending_queue.num_consumers} threads export at once ({@value #THREAD_NAME}, with
 * "-i" appended when there are several); the core drain keeps delivery at-least-once with several
 * consumers, though not in the buffer's order. {@link #close()} stops them, releasing the batches
 * in flight.
 */
public final class DrainLoop implements AutoCloseable {
  public static final String THREAD_NAME = "spillway-drain";
  private static final Logger LOG = LoggerFactory.getLogger(DrainLoop.class);

  private final OtlpExporter exporter;
  private final ServerMetrics metrics;
  private final Drain drain;

  /** One consumer: batches reach the downstream in the buffer's order. */
  public DrainLoop(SpillReader reader, OtlpExporter exporter, ServerConfig.Retry retry, ServerMetrics metrics) {
    this(reader, exporter, retry, 1, metrics);
  }

  /** @param consumers exports in flight at once ({@code sending_queue.num_consumers}), 1..64 */
  public DrainLoop(
      SpillReader reader, OtlpExporter exporter, ServerConfig.Retry retry, int consumers, ServerMetrics metrics) {
    this.exporter = exporter;
    this.metrics = metrics;
    this.drain =
        Drain.builder(reader, (d, timeout) -> export(d))
            .retry(policy(retry))
            .threadName(THREAD_NAME)
            .consumers(consumers)
            .listener(new Counters())
            .build();
  }

  /** {@code retry_on_failure} as the core drain's policy. */
  static RetryPolicy policy(ServerConfig.Retry retry) {
    Duration initial = retry.initialInterval().compareTo(Duration.ofMillis(1)) < 0
        ? Duration.ofMillis(1) : retry.initialInterval();
    Duration max = retry.maxInterval().compareTo(initial) < 0 ? initial : retry.maxInterval();
    return new RetryPolicy(retry.enabled(), initial, max, retry.maxElapsedTime());
  }

  public void start() {
    drain.start();
  }

  /** False once the drain thread stopped on an error it cannot recover from (or was closed). */
  public boolean isAlive() {
    return drain.isAlive();
  }

  /** False while the last attempt failed: readiness stays, but operators see it. */
  public boolean downstreamHealthy() {
    return drain.downstreamHealthy();
  }

  /** One attempt; the core drain owns retries, back-off and acknowledgement. */
  private ExportOutcome export(Delivery d) {
    OtlpWire.Signal signal = OtlpWire.Signal.of(d.payloadType());
    ServerMetrics.SignalCounts counts = metrics.signal(signal);
    long items = countItems(d);
    if (items < 0) {
      // The receivers validated every batch, so this is a corrupt record; it can never export.
      LOG.error("a buffered {} batch does not parse as OTLP; dropping it (counted)", signal.label());
      counts.droppedPermanent.increment();
      return ExportOutcome.permanent("not an OTLP " + signal.label() + " request");
    }
    ExportResult r = exporter.export(signal, d.payload());
    return switch (r.kind()) {
      case SUCCESS -> {
        long rejected = Math.min(r.rejectedItems(), items);
        counts.exported.add(items - rejected);
        counts.rejectedDownstream.add(rejected);
        if (rejected > 0) {
          LOG.warn("the downstream rejected {} of {} {} (partial success); not retried", rejected, items, signal.items());
        }
        yield ExportOutcome.success();
      }
      case PERMANENT -> {
        counts.droppedPermanent.add(items);
        yield ExportOutcome.permanent(r.reason() + " (" + items + " " + signal.items() + ")");
      }
      case RETRYABLE -> ExportOutcome.retryable(r.reason(), r.retryAfter());
      // SplittingExporter turns a too-large refusal into smaller requests; it never gets here.
      case TOO_LARGE -> {
        counts.droppedPermanent.add(items);
        yield ExportOutcome.permanent(r.reason() + " (" + items + " " + signal.items() + ")");
      }
    };
  }

  /**
   * The one place the drain counts a batch's items, by walking its item boundaries ({@link
   * OtlpWire#count}: no objects built, item bodies not read), or -1 if its structure is broken.
   */
  static long countItems(Delivery d) {
    try {
      return OtlpWire.count(d.payloadType(), d.payload());
    } catch (OtlpWire.Refused e) {
      return -1;
    }
  }

  /** The daemon's export counters, fed by the core drain. */
  private final class Counters implements DrainListener {
    @Override
    public void onAttempt(ExportOutcome outcome, long nanos) {
      metrics.exportLatencyNanos(nanos);
    }

    @Override
    public void onRetry(ExportOutcome outcome) {
      metrics.exportRetries.increment();
    }

    @Override
    public void onReleased(ExportOutcome outcome) {
      metrics.exportFailures.increment();
    }
  }

  /** Stops after the current attempt (an in-flight batch is released, not lost). */
  @Override
  public void close() {
    drain.close();
  }
}
