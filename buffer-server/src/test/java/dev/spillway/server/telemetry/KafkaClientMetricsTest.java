package dev.spillway.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.kafka.KafkaSpillSettings;
import dev.spillway.kafka.testing.KafkaCluster;
import dev.spillway.kafka.testing.SpillTopics;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon on the Kafka backend (role both, a real broker): its {@code /metrics} shows the Kafka
 * producer's and consumer's own metrics beside Spillway's, with values that fit what happened.
 */
class KafkaClientMetricsTest {
  static final int REQUESTS = 20;
  static final int SPANS_PER_REQUEST = 10;
  @TempDir Path dir;

  @Test
  void daemonOnKafka_scrape_showsProducerAndConsumerMetricsWithPlausibleValues() throws Exception {
    KafkaSpillSettings kafka = SpillTopics.fresh(KafkaCluster.shared(), "metrics", 2).build();
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    String yaml = "receivers:\n"
        + "  otlp:\n"
        + "    protocols:\n"
        + "      grpc:\n"
        + "        endpoint: 127.0.0.1:0\n"
        + TestConfigs.tls(pki, "        ")
        + "buffer:\n"
        + "  durability: durable\n"
        + "  spill:\n"
        + "    backend: kafka\n"
        + "    kafka:\n"
        + "      bootstrap_servers: [" + String.join(", ", kafka.bootstrapServers()) + "]\n"
        + "      topic: " + kafka.topic() + "\n"
        + "      consumer_group: " + kafka.consumerGroup() + "\n"
        + "      tls: {ca_file: " + kafka.tls().caFile() + ", cert_file: " + kafka.tls().certFile()
        + ", key_file: " + kafka.tls().keyFile() + "}\n"
        + TestConfigs.localKeys(keys.resolve("writer.json"), keys.resolve("reader.json"))
        + "exporters:\n"
        + "  debug: {}\n"
        + "telemetry:\n"
        + "  metrics:\n"
        + "    endpoint: 127.0.0.1:0\n";
    try (Daemon daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer())) {
      ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
      try {
        for (int i = 0; i < REQUESTS; i++) {
          TestClients.exportRetrying(ch, TestClients.request(SPANS_PER_REQUEST, "kafka-metrics-canary"));
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      // Durable: each request returned after the broker acknowledged its batch, so the producer has
      // counted its sends; the drain reads them back (bounded wait for the consumer's side).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      String prom = scrape(daemon.metricsPort());
      while (value(prom, "spillway_kafka_consumer_records_consumed_total") < REQUESTS && System.nanoTime() < deadline) {
        Thread.sleep(200); // the drain's progress is in another thread: poll the scrape, 60 s at most
        prom = scrape(daemon.metricsPort());
      }
      String shown = prom;
      System.out.println(prom.lines().filter(l -> l.startsWith("spillway_kafka_")).count() + " Kafka client samples:\n"
          + String.join("\n", prom.lines().filter(l -> l.startsWith("spillway_kafka_")).toList()));

      assertThat(value(prom, "spillway_spans_received_total")).isEqualTo(REQUESTS * SPANS_PER_REQUEST);
      // Producers (the spill's and the drain's quarantine producer, one series each by client_id):
      // every batch sent, none failed; latencies in milliseconds; buffers not used up.
      assertThat(values(prom, "spillway_kafka_producer_record_send_total")).as(shown).hasSize(2);
      assertThat(sum(prom, "spillway_kafka_producer_record_send_total")).as(shown).isGreaterThanOrEqualTo(REQUESTS);
      assertThat(sum(prom, "spillway_kafka_producer_record_error_total")).as(shown).isZero();
      assertThat(sum(prom, "spillway_kafka_producer_record_error_rate")).as(shown).isZero();
      assertThat(values(prom, "spillway_kafka_producer_request_latency_avg")).as(shown).isNotEmpty()
          .allSatisfy(v -> assertThat(v).isBetween(0.0, 10_000.0));
      double bufferTotal = values(prom, "spillway_kafka_producer_buffer_total_bytes").get(0);
      assertThat(bufferTotal).as(shown).isPositive();
      assertThat(values(prom, "spillway_kafka_producer_buffer_available_bytes")).as(shown).hasSize(2)
          .allSatisfy(v -> assertThat(v).isBetween(1.0, bufferTotal));
      assertThat(prom).contains("# TYPE spillway_kafka_producer_record_send_total counter")
          .contains("# TYPE spillway_kafka_producer_record_send_rate gauge")
          .containsPattern("spillway_kafka_producer_record_send_total\\{client_id=\"producer-\\d+\"\\}");
      // Consumer: every record read, lag within what was produced, commits made and timed.
      assertThat(value(prom, "spillway_kafka_consumer_records_consumed_total")).as(shown).isGreaterThanOrEqualTo(REQUESTS);
      assertThat(value(prom, "spillway_kafka_consumer_records_lag_max")).as(shown).isBetween(0.0, (double) REQUESTS);
      assertThat(value(prom, "spillway_kafka_consumer_commit_total")).as(shown).isPositive();
      assertThat(value(prom, "spillway_kafka_consumer_commit_latency_avg")).as(shown).isBetween(0.0, 10_000.0);
      assertThat(value(prom, "spillway_kafka_consumer_assigned_partitions")).as(shown).isEqualTo(2);
      // Spillway's own series are still there, and nothing of the payload is.
      assertThat(prom).contains("spillway_buffer_batches_offered_total").doesNotContain("kafka-metrics-canary");
    }
  }

  static String scrape(int port) throws Exception {
    HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The value of the only or first sample of {@code name} (with or without labels); NaN if absent. */
  static double value(String prom, String name) {
    List<Double> v = values(prom, name);
    return v.isEmpty() ? Double.NaN : v.get(0);
  }

  /** Every sample of {@code name}, whatever its labels. */
  static List<Double> values(String prom, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(prom);
    List<Double> out = new ArrayList<>();
    while (m.find()) {
      out.add(Double.parseDouble(m.group(2)));
    }
    return out;
  }

  static double sum(String prom, String name) {
    return values(prom, name).stream().mapToDouble(Double::doubleValue).sum();
  }
}
