package dev.spillway.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.kafka.testing.KafkaCluster;
import dev.spillway.kafka.testing.SpillTopics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kafka transport of sealed records against a real KRaft broker with mTLS. */
class SealedRecordTransportTest {
  static KafkaCluster cluster;

  @BeforeAll
  static void startBroker() throws Exception {
    cluster = KafkaCluster.shared();
  }

  static KafkaSpillSettings.Builder settings(String client, int partitions) throws Exception {
    return SpillTopics.fresh(cluster, client, partitions);
  }

  static byte[] stream(int i) {
    return ByteBuffer.allocate(16).putLong(0x5350574cL).putLong(i).array();
  }

  static byte[] body(int stream, int seq) {
    return ("stream " + stream + " seq " + seq).getBytes(StandardCharsets.UTF_8);
  }

  static void produce(KafkaSpillSettings s, int streams, int perStream) throws Exception {
    try (SealedRecordProducer p = new SealedRecordProducer(s)) {
      p.awaitTopic(Duration.ofSeconds(30));
      List<CompletableFuture<SealedRecordProducer.Position>> sent = new ArrayList<>();
      for (int seq = 0; seq < perStream; seq++) {
        for (int st = 0; st < streams; st++) {
          sent.add(p.send(stream(st), ("key of " + st).getBytes(StandardCharsets.UTF_8), body(st, seq)));
        }
      }
      CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void produceConsume_pemFiles_everyStreamInOrderWithItsKeyRecord() throws Exception {
    KafkaSpillSettings s = settings("ingest-1", 4).build();
    produce(s, 6, 20);
    Map<Integer, List<Integer>> seqs = new HashMap<>();
    try (SealedRecordConsumer c = new SealedRecordConsumer(s)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int got = 0;
      while (got < 120 && System.nanoTime() < deadline) {
        SpilledRecord r = c.next(Duration.ofMillis(500));
        if (r == null) {
          continue;
        }
        got++;
        int st = (int) ByteBuffer.wrap(r.streamId()).getLong(8);
        assertThat(new String(r.keyRecord(), StandardCharsets.UTF_8)).isEqualTo("key of " + st);
        String text = new String(r.sealedBatch(), StandardCharsets.UTF_8);
        seqs.computeIfAbsent(st, k -> new ArrayList<>()).add(Integer.parseInt(text.substring(text.lastIndexOf(' ') + 1)));
        c.ack(r);
      }
    }
    assertThat(seqs).hasSize(6);
    List<Integer> inOrder = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      inOrder.add(i);
    }
    seqs.values().forEach(l -> assertThat(l).isEqualTo(inOrder));
  }

  @Test
  void ack_outOfOrder_commitStopsAtTheFirstUnacknowledged() throws Exception {
    KafkaSpillSettings s = settings("ingest-2", 1).build();
    produce(s, 1, 10);
    try (SealedRecordConsumer c = new SealedRecordConsumer(s)) {
      List<SpilledRecord> all = take(c, 10);
      for (SpilledRecord r : all) {
        if (r.offset() != 3) {
          c.ack(r);
        }
      }
      c.commitNow();
      assertThat(committed(s)).containsEntry(new TopicPartition(s.topic(), 0), 3L);
    }
    try (SealedRecordConsumer again = new SealedRecordConsumer(s)) {
      List<SpilledRecord> redelivered = take(again, 7);
      assertThat(redelivered.get(0).offset()).isEqualTo(3);
      assertThat(redelivered).extracting(SpilledRecord::offset).containsExactly(3L, 4L, 5L, 6L, 7L, 8L, 9L);
    }
  }

  @Test
  void release_isHandedOutAgainBeforeNewerRecords() throws Exception {
    KafkaSpillSettings s = settings("ingest-3", 1).build();
    produce(s, 1, 3);
    try (SealedRecordConsumer c = new SealedRecordConsumer(s)) {
      SpilledRecord first = take(c, 1).get(0);
      c.release(first);
      SpilledRecord again = take(c, 1).get(0);
      assertThat(again.offset()).isEqualTo(first.offset());
      c.ack(again);
      assertThat(take(c, 1).get(0).offset()).isEqualTo(first.offset() + 1);
    }
  }

  @Test
  void rebalance_secondDrainJoinsMidway_everyRecordAcknowledgedAndCommitted() throws Exception {
    KafkaSpillSettings s = settings("ingest-4", 4).build();
    produce(s, 8, 40);
    Set<String> acked = Collections.synchronizedSet(new HashSet<>());
    AtomicInteger byFirst = new AtomicInteger();
    AtomicInteger bySecond = new AtomicInteger();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    java.util.function.Function<AtomicInteger, Runnable> drain = delivered -> () -> {
      try (SealedRecordConsumer c = new SealedRecordConsumer(s)) {
        while (acked.size() < 320 && System.nanoTime() < deadline) {
          SpilledRecord r = c.next(Duration.ofMillis(200));
          if (r == null) {
            continue;
          }
          delivered.incrementAndGet();
          // An export's round trip. Slow until the second drain has taken partitions over, so the
          // first cannot finish everything before the rebalance, however fast the machine.
          Thread.sleep(bySecond.get() == 0 ? 50 : 2);
          if (ThreadLocalRandom.current().nextInt(5) == 0) {
            c.release(r); // a failed export: it must come again
          } else {
            acked.add(r.partition().partition() + "@" + r.offset());
            c.ack(r);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    // A thread each: the common pool may run one task at a time on a small machine.
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
    CompletableFuture<Void> a = CompletableFuture.runAsync(drain.apply(byFirst), threads);
    long joinAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (acked.size() < 30 && System.nanoTime() < joinAt) {
      Thread.sleep(20);
    }
    CompletableFuture<Void> b = CompletableFuture.runAsync(drain.apply(bySecond), threads);
    try {
      CompletableFuture.allOf(a, b).get(120, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }

    assertThat(acked).hasSize(320);
    assertThat(committed(s)).isEqualTo(endOffsets(s, 4));
    assertThat(bySecond.get()).as("the second drain took partitions over").isPositive();
    assertThat(byFirst.get() + bySecond.get()).isGreaterThanOrEqualTo(320);
  }

  @Test
  void send_recordOverMaxRecordBytes_failsNamingTheSize() throws Exception {
    KafkaSpillSettings s = settings("ingest-5", 1).maxRecordBytes(64 << 10).build();
    try (SealedRecordProducer p = new SealedRecordProducer(s)) {
      p.awaitTopic(Duration.ofSeconds(30));
      CompletableFuture<SealedRecordProducer.Position> f = p.send(stream(0), new byte[8], new byte[100 << 10]);
      assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(RecordTooLargeException.class);
    }
  }

  @Test
  void send_clusterUnreachable_failsWithoutBlockingTheCaller() throws Exception {
    Path[] pair = cluster.pki().pemPair("ingest-6");
    KafkaSpillSettings s = KafkaSpillSettings.builder()
        .bootstrapServers(List.of("127.0.0.1:1"))
        .tls(new KafkaSpillSettings.Tls(cluster.pki().caPem(), pair[0], pair[1]))
        .build();
    try (SealedRecordProducer p = new SealedRecordProducer(s)) {
      long t0 = System.nanoTime();
      CompletableFuture<SealedRecordProducer.Position> f = p.send(stream(0), new byte[8], new byte[8]);
      long blockedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(blockedMs).isLessThan(SealedRecordProducer.MAX_BLOCK_MS + 2_000L);
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
    }
  }

  @Test
  void awaitTopic_missingTopic_namesIt() throws Exception {
    KafkaSpillSettings s = settings("ingest-7", 1).topic("no-such-topic").build();
    try (SealedRecordProducer p = new SealedRecordProducer(s)) {
      assertThatThrownBy(() -> p.awaitTopic(Duration.ofSeconds(3)))
          .hasMessageContaining("Kafka topic no-such-topic not reachable");
    }
  }

  static List<SpilledRecord> take(SealedRecordConsumer c, int n) {
    return SpillTopics.take(c, n);
  }

  static Map<TopicPartition, Long> committed(KafkaSpillSettings s) throws Exception {
    return SpillTopics.committed(s);
  }

  static Map<TopicPartition, Long> endOffsets(KafkaSpillSettings s, int partitions) throws Exception {
    return SpillTopics.endOffsets(s, partitions);
  }
}
