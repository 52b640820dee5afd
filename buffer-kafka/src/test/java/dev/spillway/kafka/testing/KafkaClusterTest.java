package dev.spillway.kafka.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test broker itself: it speaks mTLS only, and what is produced can be consumed. */
class KafkaClusterTest {
  static KafkaCluster cluster;

  @BeforeAll
  static void startBroker() throws Exception {
    cluster = KafkaCluster.shared();
  }

  @Test
  void produceConsume_withClientCertificate_roundTrips() throws Exception {
    try (Admin admin = Admin.create(cluster.clientConfig("admin"))) {
      admin.createTopics(List.of(new NewTopic("round-trip", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    Map<String, Object> pc = cluster.clientConfig("writer");
    pc.put(ProducerConfig.ACKS_CONFIG, "all");
    pc.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pc, new ByteArraySerializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>("round-trip", "hello".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
    }
    Map<String, Object> cc = cluster.clientConfig("reader");
    cc.put(ConsumerConfig.GROUP_ID_CONFIG, "round-trip-readers");
    cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<String> got = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cc, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(Set.of("round-trip"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          got.add(new String(r.value(), StandardCharsets.UTF_8));
        }
      }
    }
    assertThat(got).containsExactly("hello");
  }

  @Test
  void admin_withoutClientCertificate_isRefused() throws Exception {
    Map<String, Object> c = cluster.clientConfig("anonymous");
    c.remove(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG);
    c.remove(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG);
    c.remove(SslConfigs.SSL_KEY_PASSWORD_CONFIG);
    c.remove(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG);
    c.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    c.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    try (Admin admin = Admin.create(c)) {
      assertThatThrownBy(() -> admin.describeCluster().nodes().get(20, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(SslAuthenticationException.class);
    }
  }

  @Test
  void admin_overPlaintext_getsNoAnswer() throws Exception {
    Map<String, Object> c = Map.of(
        CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
        CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000,
        CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 3_000);
    try (Admin admin = Admin.create(c)) {
      assertThatThrownBy(() -> admin.describeCluster().nodes().get(20, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class);
    }
  }
}
