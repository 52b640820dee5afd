package dev.spillway.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.Delivery;
import dev.spillway.core.Durability;
import dev.spillway.core.OfferResult;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.PayloadType;
import dev.spillway.core.RotationPolicy;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.kafka.testing.KafkaCluster;
import dev.spillway.kafka.testing.SpillTopics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sealed batches through a real broker: the writer cannot read them, the reader quarantines what it cannot open. */
class KafkaSpillTest {
  static final String CANARY = "kafka-canary-4f1c";
  @TempDir static Path dir;
  static KafkaCluster cluster;
  static Path keys;
  static final AtomicInteger clients = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    cluster = KafkaCluster.shared();
    keys = dir.resolve("keys");
    LocalKeys.init(keys);
  }

  static KafkaSpillSettings settings() throws Exception {
    return SpillTopics.fresh(cluster, "spill-" + clients.incrementAndGet(), 2).build();
  }

  static KafkaSpillWriter writer(KafkaSpillSettings s, DataKeyIssuer issuer, Durability d, long memoryLimit) throws Exception {
    SealedRecordProducer p = new SealedRecordProducer(s);
    p.awaitTopic(Duration.ofSeconds(30));
    Sealer sealer = new Sealer(issuer, DeploymentId.of("test"), s.topic(), RotationPolicy.defaults(), Codec.LZ4,
        Clock.systemUTC(), null);
    return new KafkaSpillWriter(p, sealer, Codec.LZ4, d, memoryLimit, Duration.ofSeconds(10));
  }

  /**
   * The largest batch the settings allow, of bytes LZ4 cannot shrink, is produced as one record
   * and read back whole; one byte more is refused before anything is sent (the producer would fail
   * it as too large on every send, and a memory-first writer would resend it forever).
   */
  @Test
  void offer_largestIncompressibleBatch_isOneRecord_andOneByteMoreIsRefusedUpFront() throws Exception {
    KafkaSpillSettings s = settings();
    byte[] largest = new byte[s.maxBatchBytes()];
    new java.util.Random(3).nextBytes(largest);
    try (KafkaSpillWriter w = writer(s, LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), Durability.DURABLE, 0);
        KafkaSpillReader r = reader(s, keys.resolve(LocalKeys.READER_FILE))) {
      assertThatThrownBy(() -> w.offer(PayloadType.OTLP_TRACES, new byte[s.maxBatchBytes() + 1]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(String.valueOf(s.maxBatchBytes()));
      assertThat(w.metrics().offered()).as("nothing was counted or sent").isZero();

      assertThat(w.offer(PayloadType.OTLP_TRACES, largest).outcome()).isEqualTo(OfferResult.Outcome.SPILLED);

      Delivery d = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (d == null && System.nanoTime() < deadline) {
        d = r.poll(Duration.ofMillis(500));
      }
      assertThat(d).isNotNull();
      assertThat(d.payload()).isEqualTo(largest);
      d.ack();
    }
  }

  static KafkaSpillReader reader(KafkaSpillSettings s, Path readerKeys) throws Exception {
    Opener opener = new Opener(LocalKeys.unwrapper(readerKeys), DeploymentId.of("test"), s.topic(),
        Opener.DEFAULT_MAX_CACHED_KEYS, new dev.spillway.core.internal.seal.StreamWatermarks());
    SealedRecordProducer q = SealedRecordProducer.quarantine(s);
    q.awaitTopic(Duration.ofSeconds(30));
    return new KafkaSpillReader(s, opener, q);
  }

  static byte[] batch(int i) {
    return ("batch " + i + " user=" + CANARY).getBytes(StandardCharsets.UTF_8);
  }

  /** Polls and acknowledges until {@code n} deliveries or 60 s; returns the payloads. */
  static Set<String> drain(KafkaSpillReader r, int n) throws Exception {
    Set<String> got = new HashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (got.size() < n && System.nanoTime() < deadline) {
      Delivery d = r.poll(Duration.ofMillis(500));
      if (d != null) {
        assertThat(d.payloadType()).isEqualTo(PayloadType.OTLP_TRACES);
        got.add(new String(d.payload(), StandardCharsets.UTF_8));
        d.ack();
      }
    }
    return got;
  }

  @Test
  void durable_everyBatchDelivered_noPlaintextOnTheBroker() throws Exception {
    KafkaSpillSettings s = settings();
    try (KafkaSpillWriter w = writer(s, LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), Durability.DURABLE, 0)) {
      for (int i = 0; i < 100; i++) {
        assertThat(w.offer(PayloadType.OTLP_TRACES, batch(i)).outcome()).isEqualTo(OfferResult.Outcome.SPILLED);
      }
    }
    try (KafkaSpillReader r = reader(s, keys.resolve(LocalKeys.READER_FILE))) {
      Set<String> got = drain(r, 100);
      assertThat(got).hasSize(100).allMatch(p -> p.contains(CANARY));
      r.close();
    }
    assertThat(SpillTopics.committed(s)).isEqualTo(nonEmpty(SpillTopics.endOffsets(s, 2)));
    assertThat(cluster.filesHolding(CANARY.getBytes(StandardCharsets.UTF_8))).isEmpty();
  }

  @Test
  void metrics_whileAPollWaitsForRecords_answerWithoutWaitingForIt() throws Exception {
    KafkaSpillSettings s = settings();
    // Threads of its own: the common pool has one worker on two cores, and the waiting poll would
    // hold it, so the metrics call would queue behind the poll whatever the reader did.
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
    try (KafkaSpillReader r = reader(s, keys.resolve(LocalKeys.READER_FILE))) {
      java.util.concurrent.CompletableFuture<Delivery> waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return r.poll(Duration.ofSeconds(20)); // an empty topic: waits the whole time, holding the poll lock
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }, threads);
      Thread.sleep(1_000); // the poll is inside its wait (it would return null only after 20 s)
      assertThat(waiting).isNotDone();
      // A metrics scrape reads these: before the fix, missingRecords waited for the poll lock.
      java.util.concurrent.CompletableFuture<dev.spillway.core.BufferMetrics> m =
          java.util.concurrent.CompletableFuture.supplyAsync(r::metrics, threads);
      assertThat(m.get(5, TimeUnit.SECONDS).missing()).isZero();
      assertThat(waiting).isNotDone();
      r.close(); // wakes the poll
      waiting.handle((d, e) -> d).get(30, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void writerKey_cannotOpenWhatItProduced() {
    assertThatThrownBy(() -> LocalKeys.unwrapper(keys.resolve(LocalKeys.WRITER_FILE)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void reader_ofAnotherDeploymentsKeys_quarantinesEveryRecordAndCommitsPast() throws Exception {
    KafkaSpillSettings s = settings();
    Path otherKeys = dir.resolve("other-keys-" + clients.get());
    LocalKeys.init(otherKeys);
    try (KafkaSpillWriter w = writer(s, LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), Durability.DURABLE, 0)) {
      for (int i = 0; i < 10; i++) {
        assertThat(w.offer(PayloadType.OTLP_TRACES, batch(i)).accepted()).isTrue();
      }
    }
    try (KafkaSpillReader r = reader(s, otherKeys.resolve(LocalKeys.READER_FILE))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (r.metrics().quarantined() < 10 && System.nanoTime() < deadline) {
        assertThat(r.poll(Duration.ofMillis(200))).as("nothing is delivered").isNull();
      }
      assertThat(r.metrics().quarantined()).isEqualTo(10);
      r.close();
    }
    assertThat(SpillTopics.committed(s)).isEqualTo(nonEmpty(SpillTopics.endOffsets(s, 2)));
  }

  @Test
  void forgedRecords_signedByAnotherSigner_areQuarantinedNotDelivered() throws Exception {
    KafkaSpillSettings s = settings();
    Path forger = dir.resolve("forger-" + clients.get());
    LocalKeys.init(forger);
    // Holds the genuine public writer.json, but only its own signing key.
    DataKeyIssuer forged = LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE), forger.resolve(LocalKeys.SIGNER_FILE));
    try (KafkaSpillWriter w = writer(s, forged, Durability.DURABLE, 0)) {
      for (int i = 0; i < 3; i++) {
        assertThat(w.offer(PayloadType.OTLP_TRACES, batch(i)).accepted()).isTrue();
      }
    }
    try (KafkaSpillWriter w = writer(s, LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), Durability.DURABLE, 0)) {
      assertThat(w.offer(PayloadType.OTLP_TRACES, batch(99)).accepted()).isTrue();
    }
    try (KafkaSpillReader r = reader(s, keys.resolve(LocalKeys.READER_FILE))) {
      Set<String> got = drain(r, 1);
      assertThat(got).containsExactly(new String(batch(99), StandardCharsets.UTF_8));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (r.metrics().quarantined() < 3 && System.nanoTime() < deadline) {
        assertThat(r.poll(Duration.ofMillis(200))).isNull();
      }
      assertThat(r.metrics().quarantined()).isEqualTo(3);
    }
  }

  @Test
  void tamperedRecord_isQuarantined_theRestDelivered() throws Exception {
    KafkaSpillSettings s = settings();
    try (KafkaSpillWriter w = writer(s, LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), Durability.DURABLE, 0)) {
      assertThat(w.offer(PayloadType.OTLP_TRACES, batch(1)).accepted()).isTrue();
    }
    // Someone with write access to the topic replays a genuine record with one byte changed.
    byte[] tampered;
    byte[] keyRecord;
    byte[] stream;
    try (SealedRecordConsumer c = new SealedRecordConsumer(
        KafkaSpillSettings.builder().bootstrapServers(s.bootstrapServers()).topic(s.topic()).consumerGroup("peek")
            .tls(s.tls()).build())) {
      SpilledRecord genuine = SpillTopics.take(c, 1).get(0);
      tampered = genuine.sealedBatch().clone();
      tampered[tampered.length - 20] ^= 1;
      keyRecord = genuine.keyRecord();
      stream = genuine.streamId();
    }
    try (SealedRecordProducer p = new SealedRecordProducer(s)) {
      p.awaitTopic(Duration.ofSeconds(30));
      p.send(stream, keyRecord, tampered).get(30, TimeUnit.SECONDS);
    }
    try (KafkaSpillReader r = reader(s, keys.resolve(LocalKeys.READER_FILE))) {
      assertThat(drain(r, 1)).containsExactly(new String(batch(1), StandardCharsets.UTF_8));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (r.metrics().quarantined() < 1 && System.nanoTime() < deadline) {
        assertThat(r.poll(Duration.ofMillis(200))).isNull();
      }
      assertThat(r.metrics().quarantined()).isEqualTo(1);
    }
  }

  @Test
  void release_redeliversTheSameBatchWithoutReopening() throws Exception {
    KafkaSpillSettings s = settings();
    try (KafkaSpillWriter w = writer(s, LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), Durability.DURABLE, 0)) {
      for (int i = 0; i < 3; i++) {
        assertThat(w.offer(PayloadType.OTLP_TRACES, batch(i)).accepted()).isTrue();
      }
    }
    try (KafkaSpillReader r = reader(s, keys.resolve(LocalKeys.READER_FILE))) {
      Delivery first = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (first == null && System.nanoTime() < deadline) {
        first = r.poll(Duration.ofMillis(500));
      }
      assertThat(first).isNotNull();
      String payload = new String(first.payload(), StandardCharsets.UTF_8);
      first.release();
      Delivery again = r.poll(Duration.ofSeconds(5));
      assertThat(again).isNotNull();
      assertThat(new String(again.payload(), StandardCharsets.UTF_8)).isEqualTo(payload);
      again.ack();
      assertThat(drain(r, 2)).hasSize(2).doesNotContain(payload);
      assertThat(r.metrics().quarantined()).isZero();
    }
  }

  static java.util.Map<org.apache.kafka.common.TopicPartition, Long> nonEmpty(
      java.util.Map<org.apache.kafka.common.TopicPartition, Long> ends) {
    java.util.Map<org.apache.kafka.common.TopicPartition, Long> out = new java.util.HashMap<>(ends);
    out.values().removeIf(end -> end == 0);
    return out;
  }
}
