package dev.spillway.kafka;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The ingest side's way onto the topic: each sealed batch becomes one Kafka record whose key is
 * its stream id (so one stream stays in one partition, in order) and whose {@value
 * #KEY_RECORD_HEADER} header carries the key record of its epoch (the wrapped data key: no secret,
 * it opens only with the reader's key), so any drain in the group can open any partition after a
 * rebalance without a second topic.
 *
 * <p>Never blocks the caller for long: {@code max.block.ms} is short, so an unreachable cluster or
 * a full producer buffer fails the send at once and the buffer pushes back on its clients instead.
 * Thread-safe, as {@link KafkaProducer} is.
 */
public final class SealedRecordProducer implements AutoCloseable {
  /** The header that carries the epoch's key record. */
  public static final String KEY_RECORD_HEADER = "spillway-key";
  /** {@value} ms: how long a send may wait for metadata or producer buffer space before it fails. */
  static final int MAX_BLOCK_MS = 250;

  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final int maxBatchBytes;

  /** A position on the topic: partition and offset. */
  public record Position(int partition, long offset) {}

  public SealedRecordProducer(KafkaSpillSettings settings) throws IOException {
    this(settings.topic(), KafkaClientConfigs.producer(settings));
  }

  /** A producer for the drain's quarantine topic (the drain needs write access to that topic only). */
  public static SealedRecordProducer quarantine(KafkaSpillSettings settings) throws IOException {
    return new SealedRecordProducer(settings.quarantineTopic(), KafkaClientConfigs.producer(settings));
  }

  SealedRecordProducer(String topic, Map<String, Object> config) {
    Map<String, Object> c = new java.util.HashMap<>(config);
    c.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS);
    this.producer = new KafkaProducer<>(c);
    this.topic = topic;
    Object maxRequest = c.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, KAFKA_DEFAULT_MAX_REQUEST_SIZE);
    this.maxBatchBytes = EnvelopeFormat.largestPayloadIn(Long.parseLong(maxRequest.toString()),
        KafkaSpillSettings.RECORD_FRAMING_BYTES);
  }

  /** The producer's own default for {@code max.request.size}. */
  private static final int KAFKA_DEFAULT_MAX_REQUEST_SIZE = 1 << 20;

  /**
   * The largest payload whose sealed record this producer can send ({@code max.request.size},
   * less the key-record header and framing and what compression may add; see {@link
   * KafkaSpillSettings#maxBatchBytes}).
   */
  public int maxBatchBytes() {
    return maxBatchBytes;
  }

  /**
   * Waits until the topic's partitions are known (the first TLS handshake and metadata fetch take
   * longer than a send may block), for at most {@code within}.
   *
   * @throws IOException naming the topic and the last error: unreachable brokers, a TLS refusal, a
   *     topic that does not exist (the spill never creates it: see docs/SCALE-OUT.md)
   */
  public void awaitTopic(Duration within) throws IOException {
    long deadline = System.nanoTime() + within.toNanos();
    RuntimeException last = null;
    do {
      try {
        if (!producer.partitionsFor(topic).isEmpty()) {
          return;
        }
      } catch (RuntimeException e) { // TimeoutException after max.block.ms, authentication errors
        last = e;
        if (e instanceof org.apache.kafka.common.errors.AuthenticationException) {
          break;
        }
      }
    } while (System.nanoTime() < deadline);
    throw new IOException("Kafka topic " + topic + " not reachable within " + within + ": "
        + (last == null ? "no partitions" : last.getMessage()), last);
  }

  /**
   * Produces one sealed batch. The future completes when every in-sync replica has it ({@code
   * acks=all}), or fails: {@link RecordTooLargeException} for a record over {@code
   * max_record_bytes}, a timeout when the cluster is unreachable for {@code delivery_timeout}.
   */
  public CompletableFuture<Position> send(byte[] streamId, byte[] keyRecord, byte[] sealedBatch) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(KEY_RECORD_HEADER, keyRecord);
    CompletableFuture<Position> done = new CompletableFuture<>();
    try {
      producer.send(new ProducerRecord<>(topic, null, streamId, sealedBatch, headers), (meta, error) -> {
        if (error != null) {
          done.completeExceptionally(error);
        } else {
          done.complete(new Position(meta.partition(), meta.offset()));
        }
      });
    } catch (RuntimeException e) { // metadata or buffer space not there within max.block.ms
      done.completeExceptionally(e);
    }
    return done;
  }

  /**
   * Sets aside a record the drain cannot open, still sealed, with why and where it came from in
   * headers ({@code spillway-reason}, {@code spillway-origin}); the key record goes along.
   */
  public CompletableFuture<Position> sendQuarantined(SpilledRecord r, String reason) {
    RecordHeaders headers = new RecordHeaders();
    if (r.keyRecord() != null) {
      headers.add(KEY_RECORD_HEADER, r.keyRecord());
    }
    headers.add("spillway-reason", reason.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    headers.add("spillway-origin", r.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    CompletableFuture<Position> done = new CompletableFuture<>();
    try {
      producer.send(new ProducerRecord<>(topic, null, r.streamId(), r.sealedBatch(), headers), (meta, error) -> {
        if (error != null) {
          done.completeExceptionally(error);
        } else {
          done.complete(new Position(meta.partition(), meta.offset()));
        }
      });
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  /** Waits until every record sent so far is acknowledged or failed. */
  public void flush() {
    producer.flush();
  }

  /** The producer's own metrics, to export beside Spillway's. */
  public Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> metrics() {
    return producer.metrics();
  }

  /** Sends what is in flight for at most {@code timeout}, then closes. */
  public void close(Duration timeout) {
    producer.close(timeout);
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
