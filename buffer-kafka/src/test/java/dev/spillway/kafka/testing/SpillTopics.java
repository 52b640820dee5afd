package dev.spillway.kafka.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.kafka.KafkaClientConfigs;
import dev.spillway.kafka.KafkaSpillSettings;
import dev.spillway.kafka.SealedRecordConsumer;
import dev.spillway.kafka.SpilledRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Fresh topics on a test cluster, and what the group committed on them. */
public final class SpillTopics {
  private static final AtomicInteger topics = new AtomicInteger();

  private SpillTopics() {}

  /**
   * Settings as an operator writes them (PEM files for a client named {@code client}) for a fresh
   * topic of {@code partitions}, with its quarantine topic, both created.
   */
  public static KafkaSpillSettings.Builder fresh(KafkaCluster cluster, String client, int partitions) throws Exception {
    String topic = "spill-" + topics.incrementAndGet();
    Path[] pair = cluster.pki().pemPair(client + "-" + topic);
    KafkaSpillSettings.Builder b = KafkaSpillSettings.builder()
        .bootstrapServers(List.of(cluster.bootstrapServers().split(",")))
        .topic(topic)
        .consumerGroup(topic + "-drain")
        .tls(new KafkaSpillSettings.Tls(cluster.pki().caPem(), pair[0], pair[1]));
    KafkaSpillSettings s = b.build();
    try (Admin admin = Admin.create(KafkaClientConfigs.admin(s))) {
      short replication = (short) Math.min(3, cluster.size());
      // As docs/SCALE-OUT.md says to create it: with 3 replicas an acknowledged batch is on 2 at least.
      Map<String, String> config = Map.of("max.message.bytes", Integer.toString(s.maxRecordBytes()),
          "min.insync.replicas", Integer.toString(Math.min(2, replication)));
      admin.createTopics(List.of(new NewTopic(topic, partitions, replication).configs(config),
          new NewTopic(s.quarantineTopic(), 1, replication).configs(config))).all().get(30, TimeUnit.SECONDS);
    }
    return b;
  }

  /** Per partition of the topic: its leader's node id (-1 for none) and the ids in its in-sync replica set. */
  public record PartitionState(int partition, int leader, List<Integer> isr) {}

  /** The leader and in-sync replicas of every partition of {@code s}'s topic, as the cluster reports them now. */
  public static List<PartitionState> partitions(KafkaSpillSettings s) throws Exception {
    Map<String, Object> c = new HashMap<>(KafkaClientConfigs.admin(s));
    c.put("request.timeout.ms", 5_000);
    c.put("default.api.timeout.ms", 5_000);
    try (Admin admin = Admin.create(c)) {
      var d = admin.describeTopics(List.of(s.topic())).allTopicNames().get(10, TimeUnit.SECONDS).get(s.topic());
      List<PartitionState> out = new ArrayList<>();
      for (var p : d.partitions()) {
        out.add(new PartitionState(p.partition(), p.leader() == null ? -1 : p.leader().id(),
            p.isr().stream().map(org.apache.kafka.common.Node::id).sorted().toList()));
      }
      return out;
    }
  }

  /** The next {@code n} records, within 60 s. */
  public static List<SpilledRecord> take(SealedRecordConsumer c, int n) {
    List<SpilledRecord> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (out.size() < n && System.nanoTime() < deadline) {
      SpilledRecord r = c.next(Duration.ofMillis(500));
      if (r != null) {
        out.add(r);
      }
    }
    assertThat(out).as("records within 60 s").hasSize(n);
    return out;
  }

  /** The offsets the drain's group committed, per partition. */
  public static Map<TopicPartition, Long> committed(KafkaSpillSettings s) throws Exception {
    try (Admin admin = Admin.create(KafkaClientConfigs.admin(s))) {
      Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(s.consumerGroup())
          .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      Map<TopicPartition, Long> out = new HashMap<>();
      m.forEach((tp, o) -> out.put(tp, o.offset()));
      return out;
    }
  }

  /** The end offsets of the topic's {@code partitions}. */
  public static Map<TopicPartition, Long> endOffsets(KafkaSpillSettings s, int partitions) throws Exception {
    try (Admin admin = Admin.create(KafkaClientConfigs.admin(s))) {
      Map<TopicPartition, OffsetSpec> q = new HashMap<>();
      for (int i = 0; i < partitions; i++) {
        q.put(new TopicPartition(s.topic(), i), OffsetSpec.latest());
      }
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> r = admin.listOffsets(q).all().get(30, TimeUnit.SECONDS);
      Map<TopicPartition, Long> out = new HashMap<>();
      r.forEach((tp, info) -> out.put(tp, info.offset()));
      return out;
    }
  }
}
