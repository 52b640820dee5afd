package dev.spillway.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.Delivery;
import dev.spillway.core.Durability;
import dev.spillway.core.OfferResult;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.PayloadType;
import dev.spillway.core.RotationPolicy;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.StreamWatermarks;
import dev.spillway.kafka.testing.KafkaCluster;
import dev.spillway.kafka.testing.SpillTopics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker goes away and comes back: memory-first holds what it accepted, durable refuses. */
class KafkaOutageTest {
  @TempDir static Path dir;
  static KafkaCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = KafkaCluster.start(dir.resolve("kafka"), 1);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void brokerDown_memoryFirstAcceptsUpToItsLimit_thenEveryAcceptedBatchArrives_durableRefuses() throws Exception {
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    KafkaSpillSettings s = SpillTopics.fresh(cluster, "outage", 1).deliveryTimeout(Duration.ofSeconds(3)).build();
    SealedRecordProducer producer = new SealedRecordProducer(s);
    producer.awaitTopic(Duration.ofSeconds(30));
    Sealer sealer = new Sealer(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), DeploymentId.of("outage"),
        s.topic(), RotationPolicy.defaults(), Codec.NONE, Clock.systemUTC(), null);
    List<String> warnings = new CopyOnWriteArrayList<>();
    ThrottledWarning resendWarning = new ThrottledWarning(KafkaSpillWriter.RESEND_WARNING_INTERVAL_NANOS,
        System::nanoTime, warnings::add);
    long started = System.nanoTime();
    KafkaSpillWriter memoryFirst = new KafkaSpillWriter(producer, sealer, Codec.NONE, Durability.MEMORY_FIRST,
        64 << 10, Duration.ofSeconds(2), resendWarning);
    SealedRecordProducer durableProducer = new SealedRecordProducer(s);
    durableProducer.awaitTopic(Duration.ofSeconds(30));
    KafkaSpillWriter durable = new KafkaSpillWriter(durableProducer,
        new Sealer(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)), DeploymentId.of("outage"), s.topic(),
            RotationPolicy.defaults(), Codec.NONE, Clock.systemUTC(), null),
        Codec.NONE, Durability.DURABLE, 0, Duration.ofSeconds(2));

    cluster.kill(1);
    Set<String> accepted = new HashSet<>();
    int refused = 0;
    for (int i = 0; i < 200 && refused < 20; i++) {
      byte[] body = String.format("batch %04d %s", i, "x".repeat(1000)).getBytes(StandardCharsets.UTF_8);
      OfferResult r = memoryFirst.offer(PayloadType.OTLP_TRACES, body);
      if (r.accepted()) {
        accepted.add(new String(body, StandardCharsets.UTF_8));
      } else {
        refused++;
        assertThat(r.reason()).contains("not acknowledged");
      }
    }
    assertThat(accepted).hasSizeBetween(60, 64); // 64 KiB of ~1 KiB batches
    assertThat(refused).isEqualTo(20);
    OfferResult whileDown = durable.offer(PayloadType.OTLP_TRACES, "durable while down".getBytes(StandardCharsets.UTF_8));
    assertThat(whileDown.outcome()).isEqualTo(OfferResult.Outcome.REFUSED);

    // Longer than delivery_timeout: the sends fail and are sealed again until the broker is back.
    Thread.sleep(5_000);
    cluster.restart(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (memoryFirst.unacknowledgedBytes() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(memoryFirst.unacknowledgedBytes()).isZero();
    assertThat(memoryFirst.resent()).isPositive();
    memoryFirst.close();
    durable.close();
    // One warning line per interval with a count, not one per failed send.
    long intervals = (System.nanoTime() - started) / KafkaSpillWriter.RESEND_WARNING_INTERVAL_NANOS;
    assertThat(warnings).as("resend warnings for %d resends", memoryFirst.resent())
        .isNotEmpty().hasSizeLessThanOrEqualTo((int) intervals + 2);
    long counted = warnings.stream().mapToLong(l -> Long.parseLong(l.substring(0, l.indexOf(' ')))).sum();
    assertThat(counted).as("events the lines stand for").isEqualTo(memoryFirst.resent());
    assertThat(memoryFirst.resent()).isGreaterThan(warnings.size());

    Opener opener = new Opener(LocalKeys.unwrapper(keys.resolve(LocalKeys.READER_FILE)), DeploymentId.of("outage"),
        s.topic(), Opener.DEFAULT_MAX_CACHED_KEYS, new StreamWatermarks());
    SealedRecordProducer q = SealedRecordProducer.quarantine(s);
    q.awaitTopic(Duration.ofSeconds(30));
    Set<String> delivered = new HashSet<>();
    try (KafkaSpillReader reader = new KafkaSpillReader(s, opener, q)) {
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!delivered.containsAll(accepted) && System.nanoTime() < deadline) {
        Delivery d = reader.poll(Duration.ofMillis(500));
        if (d != null) {
          delivered.add(new String(d.payload(), StandardCharsets.UTF_8));
          d.ack();
        }
      }
      assertThat(reader.metrics().quarantined()).isZero();
    }
    assertThat(delivered).containsAll(accepted);
  }
}
