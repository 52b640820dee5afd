package dev.spillway.kafka;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Durability;
import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.PayloadType;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.SealingUnavailableException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest half of a Kafka spill: each offered batch is sealed (writer key only: this side can
 * never read what it produced) and produced to the topic.
 *
 * <ul>
 *   <li>{@link Durability#DURABLE}: {@link #offer} returns once every in-sync replica has the
 *       record ({@code acks=all}), or refuses the batch after {@code offerTimeout} (the client
 *       retries; if the record landed after all, it is delivered twice: at-least-once).
 *   <li>{@link Durability#MEMORY_FIRST}: {@link #offer} returns once the sealed record is queued
 *       in the producer. Until the cluster acknowledges it, the batch's compressed plaintext stays
 *       in this process, counted against {@code memoryLimitBytes}; a send that fails is sealed again
 *       (a new sequence number, so the stream stays in order) and sent again, for as long as it
 *       takes. Offers are refused once unacknowledged batches fill the memory limit: an outage of
 *       the cluster becomes OTLP back-pressure, and a crash loses at most that much, as the memory
 *       tier of the local spill does.
 * </ul>
 *
 * <p>Thread-safe. One lock orders sealing and sending, so a stream's sequence numbers reach its
 * partition in order; compression runs before it, waiting for the broker after it.
 */
public final class KafkaSpillWriter implements SpillWriter {
  private static final Logger log = LoggerFactory.getLogger(KafkaSpillWriter.class);
  /** Pause before sealing failed sends again, so an unreachable cluster is not hammered. */
  private static final long RESEND_PAUSE_MILLIS = 500;
  /** At most one warning line about failed sends per this interval (10 s). */
  static final long RESEND_WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final SealedRecordProducer producer;
  private final Sealer sealer;
  private final Codec codec;
  private final Durability durability;
  private final long memoryLimitBytes;
  private final Duration offerTimeout;

  private final Object lock = new Object();
  /** Memory-first batches sent and not yet acknowledged, oldest first. Guarded by lock. */
  private final ArrayDeque<Pending> unacknowledged = new ArrayDeque<>();
  /** Their plaintext bytes. Guarded by lock. */
  private long unacknowledgedBytes;
  /** Batches whose send failed, to be sealed again. Guarded by lock. */
  private final ArrayDeque<Pending> failed = new ArrayDeque<>();
  private boolean closed; // guarded by lock
  /** Send outcomes from the producer's I/O thread, applied by the resender under the lock. */
  private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
  private final Semaphore wakeResender = new Semaphore(0);
  private final Thread resender;
  /** A broker outage fails every in-flight send: one line per interval, with the count. */
  private final ThrottledWarning resendWarning;

  private final AtomicLong offered = new AtomicLong();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong spilled = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong resent = new AtomicLong();

  private record Completion(Pending pending, Throwable error) {}

  /** A memory-first batch between its send and the cluster's acknowledgement. */
  private static final class Pending {
    final PayloadType type;
    final Sealer.Compressed payload;

    Pending(PayloadType type, Sealer.Compressed payload) {
      this.type = type;
      this.payload = payload;
    }
  }

  /**
   * @param sealer seals with the writer's key for this deployment and topic (its queue name)
   * @param codec the sealer's codec (payloads are compressed before the lock)
   */
  public KafkaSpillWriter(SealedRecordProducer producer, Sealer sealer, Codec codec, Durability durability,
      long memoryLimitBytes, Duration offerTimeout) {
    this(producer, sealer, codec, durability, memoryLimitBytes, offerTimeout,
        new ThrottledWarning(RESEND_WARNING_INTERVAL_NANOS, System::nanoTime,
            line -> log.warn("sealed batches did not reach Kafka and are sealed and sent again: {}", line)));
  }

  /** As the public constructor, with the warning for failed sends given (tests watch it). */
  KafkaSpillWriter(SealedRecordProducer producer, Sealer sealer, Codec codec, Durability durability,
      long memoryLimitBytes, Duration offerTimeout, ThrottledWarning resendWarning) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.sealer = Objects.requireNonNull(sealer, "sealer");
    this.codec = Objects.requireNonNull(codec, "codec");
    this.durability = Objects.requireNonNull(durability, "durability");
    if (memoryLimitBytes < 0) {
      throw new IllegalArgumentException("memoryLimitBytes must be >= 0");
    }
    this.memoryLimitBytes = memoryLimitBytes;
    this.offerTimeout = Objects.requireNonNull(offerTimeout, "offerTimeout");
    this.resendWarning = Objects.requireNonNull(resendWarning, "resendWarning");
    sealer.prefetch();
    this.resender = new Thread(this::resendLoop, "spillway-kafka-resend");
    resender.setDaemon(true);
    resender.start();
  }

  @Override
  public OfferResult offer(PayloadType type, byte[] payload) {
    if (payload.length > producer.maxBatchBytes()) {
      // Never accepted: the producer would fail it as too large on every send and every resend.
      throw new IllegalArgumentException("payload of " + payload.length + " bytes exceeds the largest batch one"
          + " Kafka record holds, " + producer.maxBatchBytes() + " bytes (max_record_bytes; split it)");
    }
    offered.incrementAndGet();
    Sealer.Compressed compressed;
    try {
      compressed = Sealer.compress(codec, payload);
    } catch (IllegalArgumentException e) {
      return refuse(e.getMessage());
    }
    sealer.awaitKey(); // a first data key, waited for under no lock
    CompletableFuture<SealedRecordProducer.Position> sent;
    synchronized (lock) {
      if (closed) {
        return refuse("the Kafka spill is closed");
      }
      if (durability == Durability.MEMORY_FIRST && unacknowledgedBytes + payload.length > memoryLimitBytes
          && unacknowledgedBytes > 0) {
        return refuse("Kafka has not acknowledged " + unacknowledgedBytes + " bytes yet (memory limit "
            + memoryLimitBytes + ")");
      }
      try {
        sent = send(type, compressed);
      } catch (SealingUnavailableException e) {
        return refuse("no data key: " + e.getMessage());
      }
      if (durability == Durability.MEMORY_FIRST) {
        Pending p = new Pending(type, compressed);
        unacknowledged.add(p);
        unacknowledgedBytes += compressed.plaintextLength();
        sent.whenComplete((pos, error) -> settle(p, error));
      }
    }
    if (durability == Durability.MEMORY_FIRST) {
      accepted.incrementAndGet();
      return new OfferResult(OfferResult.Outcome.IN_MEMORY, "");
    }
    try {
      sent.get(offerTimeout.toMillis(), TimeUnit.MILLISECONDS);
      spilled.incrementAndGet();
      accepted.incrementAndGet();
      return new OfferResult(OfferResult.Outcome.SPILLED, "");
    } catch (TimeoutException e) {
      return refuse("Kafka did not acknowledge within " + offerTimeout);
    } catch (ExecutionException e) {
      return refuse("Kafka refused the record: " + e.getCause().getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return refuse("interrupted while waiting for Kafka");
    }
  }

  /** Seals and sends under the lock, so sequence numbers reach the partition in order. */
  private CompletableFuture<SealedRecordProducer.Position> send(PayloadType type, Sealer.Compressed payload)
      throws SealingUnavailableException {
    SealedBatch sealed = sealer.seal(type, payload);
    return producer.send(sealer.streamId(), sealed.keyRecord().encoded(), sealed.bytes());
  }

  /**
   * Runs on the producer's I/O thread: only queues the outcome. Taking the lock here could stall
   * that thread behind an offer that holds the lock while the producer waits for buffer space.
   */
  private void settle(Pending p, Throwable error) {
    completions.add(new Completion(p, error));
    wakeResender.release();
  }

  /** Applies acknowledgements; seals failed sends again, each under a new sequence number, after a pause. */
  private void resendLoop() {
    long nextResendNanos = 0;
    while (true) {
      try {
        wakeResender.tryAcquire(RESEND_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      synchronized (lock) {
        for (Completion c; (c = completions.poll()) != null; ) {
          if (c.error() == null) {
            if (unacknowledged.remove(c.pending())) {
              unacknowledgedBytes -= c.pending().payload.plaintextLength();
              spilled.incrementAndGet();
            }
          } else {
            resendWarning.event(c.error().toString());
            failed.add(c.pending());
            nextResendNanos = Math.max(nextResendNanos, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RESEND_PAUSE_MILLIS));
          }
        }
        lock.notifyAll();
        resendWarning.tick();
        if (closed) {
          resendWarning.flush();
          return;
        }
        if (failed.isEmpty() || System.nanoTime() < nextResendNanos) {
          continue;
        }
        for (Pending p; (p = failed.poll()) != null; ) {
          try {
            Pending again = p;
            send(p.type, p.payload).whenComplete((pos, error) -> settle(again, error));
            resent.incrementAndGet();
          } catch (SealingUnavailableException e) {
            failed.addFirst(p); // no data key now: try again after the next pause
            nextResendNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RESEND_PAUSE_MILLIS);
            break;
          }
        }
      }
    }
  }

  /** Memory-first batches the cluster has not acknowledged yet, and their plaintext bytes. */
  public long unacknowledgedBytes() {
    synchronized (lock) {
      return unacknowledgedBytes;
    }
  }

  /** The producer's own metrics (send rate, errors, latency, buffer space), to export beside Spillway's. */
  public java.util.Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> clientMetrics() {
    return producer.metrics();
  }

  /** Failed sends sealed and sent again. */
  public long resent() {
    return resent.get();
  }

  private OfferResult refuse(String reason) {
    refused.incrementAndGet();
    return new OfferResult(OfferResult.Outcome.REFUSED, reason);
  }

  @Override
  public BufferMetrics metrics() {
    long bytes;
    long batches;
    synchronized (lock) {
      bytes = unacknowledgedBytes;
      batches = unacknowledged.size();
    }
    return new BufferMetrics(batches, bytes, 0, 0, 0, 0, sealer.keyRequests(), offered.get(),
        durability == Durability.MEMORY_FIRST ? accepted.get() : 0, spilled.get(), refused.get(), 0, 0, 0, 0, 0, 0,
        0, 0, 0);
  }

  /**
   * Waits up to {@code timeout} for the cluster to acknowledge every batch already accepted, then
   * closes. What is still unacknowledged then is lost only in memory-first mode, and logged.
   */
  public void close(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      try {
        while (!unacknowledged.isEmpty() && System.nanoTime() < deadline) {
          lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!unacknowledged.isEmpty()) {
        log.error("closing with {} batches ({} bytes) Kafka never acknowledged: they are lost",
            unacknowledged.size(), unacknowledgedBytes);
      }
      closed = true;
    }
    wakeResender.release();
    try {
      resender.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
    sealer.close();
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }
}
