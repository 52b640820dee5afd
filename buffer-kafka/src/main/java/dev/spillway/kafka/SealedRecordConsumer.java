package dev.spillway.kafka;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain side's way off the topic, as a member of the consumer group: records in partition
 * order, a committed offset that only moves past records the downstream accepted (at-least-once),
 * and a rebalance that never loses or skips one.
 *
 * <p><b>Threads.</b> {@link #next}, {@link #commitNow} and {@link #close} run on one thread (the
 * drain's; {@link KafkaConsumer} is single-threaded). {@link #ack} and {@link #release} may come
 * from any thread: they are queued and applied by the next call on the drain thread.
 *
 * <p><b>Commits.</b> Per partition, the committed offset is the lowest offset still in play
 * (fetched, handed out or released, and not acknowledged), or one past the last record fetched when
 * none is. An acknowledgement of a record whose partition was revoked still counts for nothing:
 * the new owner reads it again (a duplicate, never a loss).
 *
 * <p><b>Staying in the group.</b> While the drain is backing off with records in hand, {@link
 * #next} still polls the consumer, with every partition paused, at least every second, so the
 * group does not evict a drain that is merely waiting for its downstream.
 */
public final class SealedRecordConsumer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SealedRecordConsumer.class);
  /** Poll at least this often while records are in hand, to stay within max.poll.interval.ms. */
  private static final long KEEPALIVE_NANOS = 1_000_000_000L;

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final LongSupplier nanoClock;
  private final ConcurrentLinkedQueue<Settle> settles = new ConcurrentLinkedQueue<>();
  // The fields below are touched only on the drain thread (rebalance callbacks run inside poll).
  private final ArrayDeque<SpilledRecord> fetched = new ArrayDeque<>();
  private final ArrayDeque<SpilledRecord> released = new ArrayDeque<>();
  /** Offsets fetched and not yet acknowledged, per partition this member owns. */
  private final InPlayOffsets inPlay = new InPlayOffsets();
  /** One past the last offset fetched, per partition. */
  private final Map<TopicPartition, Long> fetchedUpTo = new HashMap<>();
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private long lastPollNanos;
  private boolean paused;

  private record Settle(SpilledRecord record, boolean acked) {}

  private final java.util.function.Consumer<Collection<TopicPartition>> onRevoked;
  /**
   * The consumer's metrics: a live, read-only view taken once on the constructing thread, so a
   * scrape from another thread never calls into the consumer (which is single-threaded) while the
   * drain polls. The values are Kafka's own thread-safe metrics.
   */
  private final Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> clientMetrics;

  public SealedRecordConsumer(KafkaSpillSettings settings) throws IOException {
    this(settings, revoked -> {});
  }

  /**
   * @param onRevoked told, on the drain thread, of partitions this member no longer owns (their
   *     records in hand will be read again by the new owner)
   */
  public SealedRecordConsumer(KafkaSpillSettings settings, java.util.function.Consumer<Collection<TopicPartition>> onRevoked)
      throws IOException {
    this(settings.topic(), KafkaClientConfigs.consumer(settings), System::nanoTime, onRevoked);
  }

  SealedRecordConsumer(String topic, Map<String, Object> config, LongSupplier nanoClock,
      java.util.function.Consumer<Collection<TopicPartition>> onRevoked) {
    this.consumer = new KafkaConsumer<>(config);
    this.clientMetrics = consumer.metrics();
    this.nanoClock = nanoClock;
    this.onRevoked = onRevoked;
    consumer.subscribe(Set.of(topic), new Rebalance());
  }

  /**
   * The next record to deliver: a released one first, then the oldest fetched; waits up to {@code
   * timeout} for the cluster when there is none. Null when nothing came.
   */
  public SpilledRecord next(Duration timeout) {
    applySettles();
    if (!released.isEmpty() || !fetched.isEmpty()) {
      keepAlive();
      return !released.isEmpty() ? released.poll() : fetched.poll();
    }
    poll(timeout);
    return fetched.poll();
  }

  /** The downstream accepted {@code r}: its offset may now be committed past. Any thread. */
  public void ack(SpilledRecord r) {
    settles.add(new Settle(r, true));
  }

  /** {@code r} was not delivered: it is handed out again before anything newer. Any thread. */
  public void release(SpilledRecord r) {
    settles.add(new Settle(r, false));
  }

  /** Commits what is acknowledged now, synchronously (shutdown, tests). */
  public void commitNow() {
    applySettles();
    commit(true);
  }

  /** Records fetched or handed out and not yet acknowledged. Any thread. */
  public int inPlay() {
    return inPlay.count();
  }

  /** The consumer's own metrics, to export beside Spillway's. Any thread. */
  public Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> metrics() {
    return clientMetrics;
  }

  /** Makes a {@link #next} waiting on the cluster return early. Any thread. */
  public void wakeup() {
    consumer.wakeup();
  }

  @Override
  public void close() {
    try {
      commitNow();
    } catch (RuntimeException e) {
      log.warn("final commit failed; the group reads the unacknowledged records again: {}", e.toString());
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void poll(Duration timeout) {
    if (paused) {
      consumer.resume(consumer.paused());
      paused = false;
    }
    try {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
        accept(r);
      }
    } catch (WakeupException e) {
      // asked to return early
    }
    lastPollNanos = nanoClock.getAsLong();
    commit(false);
  }

  /** Polls with every partition paused, so the group keeps this member while it holds records. */
  private void keepAlive() {
    if (nanoClock.getAsLong() - lastPollNanos < KEEPALIVE_NANOS) {
      return;
    }
    if (!paused) {
      consumer.pause(consumer.assignment());
      paused = true;
    }
    try {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ZERO)) {
        accept(r); // a partition assigned during this poll is not paused yet
      }
    } catch (WakeupException e) {
      // asked to return early
    }
    lastPollNanos = nanoClock.getAsLong();
    commit(false);
  }

  private void accept(ConsumerRecord<byte[], byte[]> r) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    Header key = r.headers().lastHeader(SealedRecordProducer.KEY_RECORD_HEADER);
    SpilledRecord s = new SpilledRecord(tp, r.offset(), r.key(), key == null ? null : key.value(), r.value());
    inPlay.add(tp, r.offset());
    fetchedUpTo.merge(tp, r.offset() + 1, Math::max);
    fetched.add(s);
  }

  private void applySettles() {
    for (Settle s; (s = settles.poll()) != null; ) {
      SpilledRecord r = s.record();
      if (!inPlay.contains(r.partition(), r.offset())) {
        continue; // partition revoked since, or settled twice: the new owner has it
      }
      if (s.acked()) {
        inPlay.remove(r.partition(), r.offset());
      } else {
        released.addFirst(s.record());
      }
    }
  }

  private void commit(boolean sync) {
    Map<TopicPartition, OffsetAndMetadata> moves = new HashMap<>();
    for (Map.Entry<TopicPartition, Long> e : fetchedUpTo.entrySet()) {
      long upTo = inPlay.lowest(e.getKey(), e.getValue());
      if (upTo > committed.getOrDefault(e.getKey(), -1L)) {
        moves.put(e.getKey(), new OffsetAndMetadata(upTo));
      }
    }
    if (moves.isEmpty()) {
      return;
    }
    if (sync) {
      consumer.commitSync(moves);
      moves.forEach((tp, o) -> committed.put(tp, o.offset()));
    } else {
      consumer.commitAsync(moves, (done, error) -> {
        if (error == null) {
          done.forEach((tp, o) -> committed.merge(tp, o.offset(), Math::max));
        } else {
          log.debug("offset commit failed, retried with the next one: {}", error.toString());
        }
      });
    }
  }

  /** Drops everything of partitions this member no longer owns; commits what it may first. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      applySettles();
      try {
        commit(true);
      } catch (RuntimeException e) {
        log.warn("commit on rebalance failed; the new owner reads those records again: {}", e.toString());
      }
      forget(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (paused) {
        consumer.pause(partitions);
      }
    }

    private void forget(Collection<TopicPartition> partitions) {
      inPlay.forget(partitions);
      for (TopicPartition tp : partitions) {
        fetchedUpTo.remove(tp);
        committed.remove(tp);
      }
      fetched.removeIf(r -> partitions.contains(r.partition()));
      released.removeIf(r -> partitions.contains(r.partition()));
      if (!partitions.isEmpty()) {
        onRevoked.accept(partitions);
      }
    }
  }
}
