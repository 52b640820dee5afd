package dev.spillway.kafka;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Delivery;
import dev.spillway.core.SpillReader;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.internal.seal.EnvelopeException;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.KeyRecord;
import dev.spillway.core.internal.seal.OpenedBatch;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.PayloadType;
import dev.spillway.core.internal.seal.SealedRecord;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain half of a Kafka spill: a member of the drain's consumer group that opens each record
 * with the reader's key and hands it out as a {@link Delivery}. Only an acknowledged delivery
 * moves the group's committed offset (at-least-once); a released one is handed out again first.
 *
 * <p>A record that can never be opened (altered, forged, from another deployment or topic, a
 * format this reader does not know) is set aside in the quarantine topic, still sealed, with its
 * reason and origin in headers, then committed past and counted: never delivered, never retried
 * for ever. A record whose key the provider cannot unwrap now (KMS down) stays where it is and is
 * tried again after a back-off.
 *
 * <p><b>Replay within a stream.</b> The {@link Opener} refuses a record whose sequence number is
 * at or below one already accepted from its stream. Its table lives in this process and starts
 * over after a rebalance (the new owner of a partition reads from the committed offset); copying
 * old records into the topic needs the producer's certificate and write permission on the topic,
 * which only ingest has (docs/SCALE-OUT.md).
 *
 * <p>Thread-safe: {@link #poll} from several drain threads is serialized; acknowledgements may come
 * from any thread.
 */
public final class KafkaSpillReader implements SpillReader {
  private static final Logger log = LoggerFactory.getLogger(KafkaSpillReader.class);
  /** {@value} ms: how long a record waits after its key provider failed, before it is tried again. */
  static final long KEY_BACKOFF_MILLIS = 1_000;

  private final SealedRecordConsumer consumer;
  private final Opener opener;
  private final SealedRecordProducer quarantine;
  private final Object pollLock = new Object();
  /** Batches opened and handed out, not yet acknowledged: a release hands the same one out again. */
  private final Map<String, OpenedBatch> inHand = new ConcurrentHashMap<>();
  private long keyBackoffUntilNanos; // guarded by pollLock

  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong quarantined = new AtomicLong();
  /**
   * The opener's count of records missing inside streams, copied after each open: a metrics
   * scrape reads it here, never waiting for {@link #pollLock}, which a poll holds for as long as
   * it waits for records (a scrape once hung 10 s behind an idle drain's poll).
   */
  private final AtomicLong missing = new AtomicLong();

  /**
   * @param settings the topic, group and TLS of the drain
   * @param opener opens with the reader's key, for the same deployment and with the topic as its queue name
   * @param quarantine where unopenable records go (a producer for the quarantine topic)
   */
  public KafkaSpillReader(KafkaSpillSettings settings, Opener opener, SealedRecordProducer quarantine)
      throws IOException {
    this.opener = Objects.requireNonNull(opener, "opener");
    this.quarantine = Objects.requireNonNull(quarantine, "quarantine");
    this.consumer = new SealedRecordConsumer(settings, this::forget);
  }

  @Override
  public Delivery poll(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (pollLock) {
      while (true) {
        long now = System.nanoTime();
        if (now < keyBackoffUntilNanos) {
          TimeUnit.NANOSECONDS.sleep(Math.min(keyBackoffUntilNanos, deadline) - now);
          if (System.nanoTime() < keyBackoffUntilNanos) {
            return null;
          }
        }
        long left = deadline - System.nanoTime();
        SpilledRecord r = consumer.next(Duration.ofNanos(Math.max(0, left)));
        if (r == null) {
          return null;
        }
        OpenedBatch batch = inHand.get(r.toString());
        if (batch == null) {
          try {
            batch = open(r);
          } catch (EnvelopeException e) {
            setAside(r, e);
            continue;
          } catch (KeyUnavailableException e) {
            log.warn("the key provider cannot unwrap a data key now ({}); record {} waits", e.getMessage(), r);
            consumer.release(r);
            keyBackoffUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KEY_BACKOFF_MILLIS);
            continue;
          }
          inHand.put(r.toString(), batch);
        }
        delivered.incrementAndGet();
        return new KafkaDelivery(r, batch);
      }
    }
  }

  private OpenedBatch open(SpilledRecord r) throws EnvelopeException, KeyUnavailableException {
    if (r.keyRecord() == null) {
      throw new dev.spillway.core.internal.seal.EnvelopeFormatException("record has no " + SealedRecordProducer.KEY_RECORD_HEADER + " header");
    }
    if (!(EnvelopeFormat.parse(r.keyRecord()) instanceof KeyRecord key)) {
      throw new dev.spillway.core.internal.seal.EnvelopeFormatException("the " + SealedRecordProducer.KEY_RECORD_HEADER + " header is not a key record");
    }
    if (!(EnvelopeFormat.parse(r.sealedBatch()) instanceof SealedRecord sealed)) {
      throw new dev.spillway.core.internal.seal.EnvelopeFormatException("the record's value is not a sealed batch");
    }
    if (!Arrays.equals(sealed.streamId(), r.streamId())) {
      throw new dev.spillway.core.internal.seal.EnvelopeFormatException("the record's key is not its stream id");
    }
    opener.accept(key);
    try {
      return opener.open(sealed);
    } finally {
      missing.set(opener.missingRecords());
    }
  }

  /** Quarantines a record that can never be opened; on failure it stays and is tried again. */
  private void setAside(SpilledRecord r, EnvelopeException why) throws InterruptedException {
    log.error("record {} cannot be opened ({}): moved to the quarantine topic", r, why.getMessage());
    try {
      quarantine.sendQuarantined(r, why.getClass().getSimpleName() + ": " + why.getMessage())
          .get(10, TimeUnit.SECONDS);
      quarantined.incrementAndGet();
      consumer.ack(r);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      log.warn("quarantine topic write failed ({}); record {} stays and is tried again", e.toString(), r);
      consumer.release(r);
      keyBackoffUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KEY_BACKOFF_MILLIS);
    }
  }

  /** Partitions handed to another drain: forget their batches and the streams' sequence tables. */
  private void forget(Collection<TopicPartition> revoked) {
    inHand.keySet().removeIf(k -> revoked.stream().anyMatch(tp -> k.startsWith(tp.toString() + "@")));
    opener.resetSequenceTracking();
  }

  /** The consumer's own metrics (lag, fetch and commit latency), to export beside Spillway's. Any thread. */
  public Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> consumerMetrics() {
    return consumer.metrics();
  }

  /** The quarantine producer's own metrics. */
  public Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> quarantineProducerMetrics() {
    return quarantine.metrics();
  }

  /** Records fetched or handed out and not yet acknowledged. */
  public int inPlay() {
    return consumer.inPlay();
  }

  @Override
  public BufferMetrics metrics() {
    return new BufferMetrics(0, 0, 0, consumer.inPlay(), 0, 0, 0, 0, 0, 0, 0, 0, delivered.get(), acked.get(),
        quarantined.get(), 0, 0, missingRecords(), 0, 0);
  }

  /** Records found missing inside streams (gaps in their sequence numbers) since start; never blocks. */
  public long missingRecords() {
    return missing.get();
  }

  @Override
  public void close() {
    consumer.wakeup();
    synchronized (pollLock) {
      consumer.close();
    }
    quarantine.close();
  }

  private final class KafkaDelivery implements Delivery {
    private final SpilledRecord record;
    private final OpenedBatch batch;

    KafkaDelivery(SpilledRecord record, OpenedBatch batch) {
      this.record = record;
      this.batch = batch;
    }

    @Override
    public PayloadType payloadType() {
      return batch.payloadType();
    }

    @Override
    public byte[] payload() {
      return batch.payload();
    }

    @Override
    public boolean fromDisk() {
      return true;
    }

    @Override
    public void ack() {
      inHand.remove(record.toString());
      acked.incrementAndGet();
      consumer.ack(record);
    }

    @Override
    public void release() {
      consumer.release(record);
    }
  }
}
