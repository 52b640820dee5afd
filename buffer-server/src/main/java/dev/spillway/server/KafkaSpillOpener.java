package dev.spillway.server;

import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.RotationPolicy;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.StreamWatermarks;
import dev.spillway.kafka.KafkaSpillReader;
import dev.spillway.kafka.KafkaSpillWriter;
import dev.spillway.kafka.SealedRecordProducer;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.telemetry.KafkaClientMetrics;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code buffer.spill.backend: kafka}: the ingest half produces sealed batches to the topic, the
 * drain half is a member of the consumer group (docs/SCALE-OUT.md). Each role holds only its own
 * key, as with the local spill; the topic is the queue name bound into every record.
 */
final class KafkaSpillOpener {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaSpillOpener.class);
  /** How long the start waits for the topic's partitions before it refuses to start. */
  private static final Duration TOPIC_WAIT = Duration.ofSeconds(60);

  private KafkaSpillOpener() {}

  static BufferOpener.Opened open(ServerConfig.Buffer config, ServerConfig.KafkaSpill kafka, Role role,
      Function<String, String> env) throws IOException {
    SpillKeys keys = SpillKeys.open(config.keys(), role, env, w -> LOG.warn("{}", w));
    DeploymentId deployment = config.deploymentId();
    String topic = kafka.settings().topic();
    ExecutorService keyFetcher = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "spillway-key-fetch");
      t.setDaemon(true);
      return t;
    });
    KafkaSpillWriter writer = null;
    KafkaSpillReader reader = null;
    try {
      if (keys.issuer.isPresent()) {
        SealedRecordProducer producer = new SealedRecordProducer(kafka.settings());
        try {
          producer.awaitTopic(TOPIC_WAIT);
        } catch (IOException e) {
          producer.close(Duration.ZERO);
          throw e;
        }
        Sealer sealer = new Sealer(keys.issuer.get(), deployment, topic, RotationPolicy.defaults(),
            Codec.of(config.compression()), Clock.systemUTC(), keyFetcher);
        writer = new KafkaSpillWriter(producer, sealer, Codec.of(config.compression()), config.durability(),
            config.memoryLimitBytes(), kafka.offerTimeout());
      }
      if (keys.unwrapper.isPresent()) {
        Opener opener = new Opener(keys.unwrapper.get(), deployment, topic, Opener.DEFAULT_MAX_CACHED_KEYS,
            new StreamWatermarks());
        SealedRecordProducer quarantine = SealedRecordProducer.quarantine(kafka.settings());
        try {
          quarantine.awaitTopic(TOPIC_WAIT);
        } catch (IOException e) {
          quarantine.close(Duration.ZERO);
          throw new IOException("the quarantine topic: " + e.getMessage(), e);
        }
        reader = new KafkaSpillReader(kafka.settings(), opener, quarantine);
      }
    } catch (IOException | RuntimeException e) {
      if (writer != null) {
        writer.close(Duration.ZERO);
      }
      keyFetcher.shutdownNow();
      keys.close();
      throw e;
    }
    LOG.info("spill on Kafka: topic {} at {}, {}{}", topic, kafka.settings().bootstrapServers(),
        writer != null ? "producing (" + config.durability().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ")" : "",
        reader != null ? (writer != null ? ", " : "") + "consuming as group " + kafka.settings().consumerGroup() : "");
    KafkaSpillWriter w = writer;
    KafkaSpillReader r = reader;
    Supplier<BufferMetrics> metrics = () -> combined(w == null ? null : w.metrics(), r == null ? null : r.metrics());
    Runnable close = () -> {
      try {
        if (w != null) {
          w.close();
        }
      } finally {
        try {
          if (r != null) {
            r.close();
          }
        } finally {
          keyFetcher.shutdownNow();
          keys.close();
        }
      }
    };
    List<Supplier<Map<MetricName, ? extends Metric>>> clients = new ArrayList<>();
    if (w != null) {
      clients.add(w::clientMetrics);
    }
    if (r != null) {
      clients.add(r::consumerMetrics);
      clients.add(r::quarantineProducerMetrics);
    }
    return new BufferOpener.Opened(Optional.ofNullable(w), Optional.ofNullable(r), metrics, close,
        List.of(new KafkaClientMetrics(clients)));
  }

  /** The writer's counters of what came in, the reader's of what went out. */
  private static BufferMetrics combined(BufferMetrics w, BufferMetrics r) {
    if (w == null) {
      return r;
    }
    if (r == null) {
      return w;
    }
    return new BufferMetrics(w.memoryBatches(), w.memoryBytes(), 0, r.diskRecordsPending(), 0, w.keyEpochs(),
        w.keyRequests(), w.offered(), w.acceptedInMemory(), w.spilled(), w.refused(), w.dropped(), r.delivered(),
        r.acked(), r.quarantined(), 0, 0, r.missing(), 0, 0);
  }
}
