package dev.spillway.server.drain;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.core.Delivery;
import dev.spillway.core.SpillReader;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.export.ExportResult;
import dev.spillway.server.export.TraceExporter;
import dev.spillway.server.receive.TraceIngest;
import dev.spillway.server.telemetry.ServerMetrics;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only consumer of {@link SpillReader#poll}: takes the oldest batch, exports it with bounded
 * retry (exponential backoff with jitter, honouring the downstream's Retry-After / RetryInfo), and
 * acknowledges it once the downstream took it. When the retry budget ({@code max_elapsed_time})
 * runs out the batch is released: it stays in the buffer (on disk if memory is short), is
 * delivered again first, and the loop backs off for {@code max_interval} before trying again. A
 * downstream outage therefore never drops data; only a downstream that calls the data itself
 * invalid (400 / INVALID_ARGUMENT) does, and that is counted.
 *
 * <p>One thread. {@link #close()} stops it, releasing an in-flight batch.
 */
public final class DrainLoop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DrainLoop.class);
  private static final Duration POLL = Duration.ofMillis(500);

  private final SpillReader reader;
  private final TraceExporter exporter;
  private final ServerConfig.Retry retry;
  private final ServerMetrics metrics;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch stop = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean downstreamHealthy = true;

  public DrainLoop(SpillReader reader, TraceExporter exporter, ServerConfig.Retry retry, ServerMetrics metrics) {
    this.reader = reader;
    this.exporter = exporter;
    this.retry = retry;
    this.metrics = metrics;
    this.thread = new Thread(this::run, "spillway-drain");
    // Should anything still escape the loop, say so loudly: /healthz turns 503 but logs must explain.
    this.thread.setUncaughtExceptionHandler((t, e) -> LOG.error(
        "the drain thread died; nothing is exported until a restart (/healthz fails): {}", e.toString(), e));
  }

  public void start() {
    thread.start();
  }

  public boolean isAlive() {
    return thread.isAlive();
  }

  /** False while the last attempt failed: readiness stays, but operators see it. */
  public boolean downstreamHealthy() {
    return downstreamHealthy;
  }

  private void run() {
    while (running.get()) {
      Delivery d;
      try {
        d = reader.poll(POLL);
      } catch (InterruptedException e) {
        break;
      } catch (RuntimeException | InternalError e) {
        // InternalError: Chronicle surfaces a SIGBUS on a mapped page (a full disk) this way.
        LOG.error("polling the buffer failed", e); // the stack, to find the cause; no payload is in it
        pause(Duration.ofSeconds(1));
        continue;
      }
      if (d == null) {
        continue;
      }
      try {
        deliver(d);
      } catch (RuntimeException | LinkageError | AssertionError e) {
        // The loop must outlive any one batch: log, hand the batch back, go on.
        LOG.error("export failed unexpectedly; the batch stays in the buffer", e);
        try {
          d.release();
        } catch (IllegalStateException alreadySettled) {
          // deliver() had settled it before failing
        }
        pause(retry.maxInterval());
      }
    }
  }

  private void deliver(Delivery d) {
    long spans;
    try {
      spans = TraceIngest.spanCount(ExportTraceServiceRequest.parseFrom(d.payload()));
    } catch (InvalidProtocolBufferException e) {
      // The receivers validated every batch, so this is a corrupt record; it can never export.
      LOG.error("a buffered batch does not parse as OTLP; dropping it (counted)");
      metrics.spansDroppedPermanent.increment();
      d.ack();
      return;
    }
    Backoff backoff = new Backoff(retry, () -> ThreadLocalRandom.current().nextDouble());
    long start = System.nanoTime();
    while (true) {
      long t0 = System.nanoTime();
      ExportResult r = exporter.export(d.payload());
      metrics.exportLatencyNanos(System.nanoTime() - t0);
      switch (r.kind()) {
        case SUCCESS -> {
          downstreamHealthy = true;
          long rejected = Math.min(r.rejectedSpans(), spans);
          metrics.spansExported.add(spans - rejected);
          metrics.spansRejectedDownstream.add(rejected);
          if (rejected > 0) {
            LOG.warn("the downstream rejected {} of {} spans (partial success); not retried", rejected, spans);
          }
          d.ack();
          return;
        }
        case PERMANENT -> {
          downstreamHealthy = true;
          metrics.spansDroppedPermanent.add(spans);
          LOG.warn("the downstream refused a batch of {} spans as invalid ({}); dropped, counted", spans, r.reason());
          d.ack();
          return;
        }
        default -> {
          downstreamHealthy = false;
        }
      }
      Duration wait = r.retryAfter().orElseGet(backoff::next);
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
      if (!retry.enabled() || elapsed.plus(wait).compareTo(retry.maxElapsedTime()) > 0 || !running.get()) {
        metrics.exportFailures.increment();
        LOG.warn("export failing ({}); {} spans stay in the buffer, retrying in {}s", r.reason(), spans,
            retry.maxInterval().toSeconds());
        d.release();
        pause(retry.maxInterval());
        return;
      }
      metrics.exportRetries.increment();
      if (!pause(wait)) {
        d.release();
        return;
      }
    }
  }

  /** Waits, or returns false at once when the loop is stopping. */
  private boolean pause(Duration d) {
    try {
      return !stop.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops after the current attempt (an in-flight batch is released, not lost). */
  @Override
  public void close() {
    if (!running.compareAndSet(true, false)) {
      return;
    }
    stop.countDown();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
      if (thread.isAlive()) {
        // An export still retrying: interrupt it (the batch is released, not lost), bounded.
        thread.interrupt();
        thread.join(TimeUnit.SECONDS.toMillis(2));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
