package dev.spillway.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where and how the spill lives on Apache Kafka: the brokers, the topic, the drain's consumer group,
 * TLS (always) and optionally SASL, and the producer/consumer settings users tune. Immutable; built
 * by {@link #builder()}, validated by {@link Builder#build()} with an error that names the setting.
 *
 * <p>The connection is always TLS ({@code SSL} or {@code SASL_SSL}): a spill that is sealed is
 * still worth not sending in the clear, and the brokers' identity is what stops a drain from
 * reading a forged topic. Overrides may not weaken what the spill promises: see {@link
 * KafkaClientConfigs#PROTECTED}.
 */
public final class KafkaSpillSettings {
  /** PEM files of the client's TLS identity and the brokers' CA. */
  public record Tls(Path caFile, Path certFile, Path keyFile) {
    public Tls {
      Objects.requireNonNull(caFile, "tls.ca_file");
      Objects.requireNonNull(certFile, "tls.cert_file");
      Objects.requireNonNull(keyFile, "tls.key_file");
    }
  }

  /** SASL over TLS: {@code PLAIN}, {@code SCRAM-SHA-256} or {@code SCRAM-SHA-512}; the password is read from a file. */
  public record Sasl(String mechanism, String username, Path passwordFile) {
    static final List<String> MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

    public Sasl {
      Objects.requireNonNull(mechanism, "sasl.mechanism");
      Objects.requireNonNull(username, "sasl.username");
      Objects.requireNonNull(passwordFile, "sasl.password_file");
      if (!MECHANISMS.contains(mechanism)) {
        throw new IllegalArgumentException("sasl.mechanism: " + mechanism + " is not one of " + MECHANISMS);
      }
    }
  }

  private final List<String> bootstrapServers;
  private final String topic;
  private final String consumerGroup;
  private final String quarantineTopic;
  private final Tls tls;
  private final Sasl sasl;
  private final Duration linger;
  private final int batchBytes;
  private final int maxRecordBytes;
  private final Duration deliveryTimeout;
  private final Map<String, String> producerOverrides;
  private final Map<String, String> consumerOverrides;

  private KafkaSpillSettings(Builder b) {
    this.bootstrapServers = List.copyOf(b.bootstrapServers);
    this.topic = b.topic;
    this.consumerGroup = b.consumerGroup;
    this.quarantineTopic = b.quarantineTopic != null ? b.quarantineTopic : b.topic + "-quarantine";
    this.tls = b.tls;
    this.sasl = b.sasl;
    this.linger = b.linger;
    this.batchBytes = b.batchBytes;
    this.maxRecordBytes = b.maxRecordBytes;
    this.deliveryTimeout = b.deliveryTimeout;
    this.producerOverrides = Map.copyOf(new TreeMap<>(b.producerOverrides));
    this.consumerOverrides = Map.copyOf(new TreeMap<>(b.consumerOverrides));
  }

  public static Builder builder() {
    return new Builder();
  }

  public List<String> bootstrapServers() {
    return bootstrapServers;
  }

  /** The topic sealed records are produced to and consumed from. */
  public String topic() {
    return topic;
  }

  /** The drain's consumer group. */
  public String consumerGroup() {
    return consumerGroup;
  }

  /** Where the drain sets aside records it cannot open (default: the topic's name + {@code -quarantine}). */
  public String quarantineTopic() {
    return quarantineTopic;
  }

  public Tls tls() {
    return tls;
  }

  public Optional<Sasl> sasl() {
    return Optional.ofNullable(sasl);
  }

  public Duration linger() {
    return linger;
  }

  public int batchBytes() {
    return batchBytes;
  }

  /** The largest sealed record produced ({@code max.request.size}); the topic's {@code max.message.bytes} must be at least this. */
  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  /**
   * The largest payload whose sealed record stays within {@link #maxRecordBytes} whatever the
   * codec, with {@value #RECORD_FRAMING_BYTES} bytes left for the key-record header, the stream id
   * and Kafka's own record framing.
   */
  public int maxBatchBytes() {
    return dev.spillway.core.internal.seal.EnvelopeFormat.largestPayloadIn(maxRecordBytes, RECORD_FRAMING_BYTES);
  }

  /** Room kept in each record for what is not the sealed batch (a key record is under 2 KiB). */
  static final int RECORD_FRAMING_BYTES = 8 << 10;

  /** How long the producer keeps trying one record before the offer that waits on it fails. */
  public Duration deliveryTimeout() {
    return deliveryTimeout;
  }

  public Map<String, String> producerOverrides() {
    return producerOverrides;
  }

  public Map<String, String> consumerOverrides() {
    return consumerOverrides;
  }

  /** Builds {@link KafkaSpillSettings}; every setter checks its argument at once. */
  public static final class Builder {
    /** {@value} ms: long enough to fill a produce request under load, short next to an OTLP deadline. */
    public static final long DEFAULT_LINGER_MS = 5;
    /** {@value} bytes: a few sealed batches per produce request. */
    public static final int DEFAULT_BATCH_BYTES = 1 << 20;
    /** {@value} bytes: the largest sealed record; brokers default to 1 MiB, so the topic needs {@code max.message.bytes} raised to match. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 8 << 20;
    /** {@value} ms: the producer's delivery.timeout.ms. */
    public static final long DEFAULT_DELIVERY_TIMEOUT_MS = 30_000;

    private List<String> bootstrapServers = List.of();
    private String topic = "spillway-spill";
    private String consumerGroup = "spillway-drain";
    private String quarantineTopic;
    private Tls tls;
    private Sasl sasl;
    private Duration linger = Duration.ofMillis(DEFAULT_LINGER_MS);
    private int batchBytes = DEFAULT_BATCH_BYTES;
    private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
    private Duration deliveryTimeout = Duration.ofMillis(DEFAULT_DELIVERY_TIMEOUT_MS);
    private Map<String, String> producerOverrides = Map.of();
    private Map<String, String> consumerOverrides = Map.of();

    private Builder() {}

    public Builder bootstrapServers(List<String> servers) {
      if (servers.isEmpty()) {
        throw new IllegalArgumentException("bootstrap_servers: at least one host:port");
      }
      for (String s : servers) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1 || !s.substring(colon + 1).chars().allMatch(Character::isDigit)) {
          throw new IllegalArgumentException("bootstrap_servers: '" + s + "' is not host:port");
        }
      }
      this.bootstrapServers = List.copyOf(servers);
      return this;
    }

    public Builder topic(String topic) {
      this.topic = topicName("topic", topic);
      return this;
    }

    public Builder consumerGroup(String group) {
      if (group == null || group.isBlank()) {
        throw new IllegalArgumentException("consumer_group: empty");
      }
      this.consumerGroup = group;
      return this;
    }

    public Builder quarantineTopic(String topic) {
      this.quarantineTopic = topicName("quarantine_topic", topic);
      return this;
    }

    public Builder tls(Tls tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    public Builder sasl(Sasl sasl) {
      this.sasl = sasl;
      return this;
    }

    public Builder linger(Duration linger) {
      if (linger.isNegative() || linger.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("linger: " + linger + " is outside 0..10s");
      }
      this.linger = linger;
      return this;
    }

    public Builder batchBytes(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("batch_bytes: " + bytes + " is below 1024");
      }
      this.batchBytes = bytes;
      return this;
    }

    public Builder maxRecordBytes(int bytes) {
      if (bytes < 64 << 10) {
        throw new IllegalArgumentException("max_record_bytes: " + bytes + " is below 64 KiB");
      }
      this.maxRecordBytes = bytes;
      return this;
    }

    public Builder deliveryTimeout(Duration timeout) {
      if (timeout.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("delivery_timeout: " + timeout + " is below 1s");
      }
      this.deliveryTimeout = timeout;
      return this;
    }

    /** Further producer settings; a setting the spill's promises depend on is refused, named. */
    public Builder producerOverrides(Map<String, String> overrides) {
      KafkaClientConfigs.checkOverrides("producer", overrides);
      this.producerOverrides = Map.copyOf(overrides);
      return this;
    }

    /** Further consumer settings; a setting the spill's promises depend on is refused, named. */
    public Builder consumerOverrides(Map<String, String> overrides) {
      KafkaClientConfigs.checkOverrides("consumer", overrides);
      this.consumerOverrides = Map.copyOf(overrides);
      return this;
    }

    public KafkaSpillSettings build() {
      if (bootstrapServers.isEmpty()) {
        throw new IllegalArgumentException("bootstrap_servers: required");
      }
      if (tls == null) {
        throw new IllegalArgumentException("tls: required (ca_file, cert_file, key_file); the spill never talks to Kafka in plaintext");
      }
      if (batchBytes > maxRecordBytes) {
        batchBytes = maxRecordBytes;
      }
      return new KafkaSpillSettings(this);
    }

    private static String topicName(String key, String name) {
      if (name == null || !name.matches("[A-Za-z0-9._-]{1,249}") || name.equals(".") || name.equals("..")) {
        throw new IllegalArgumentException(key + ": '" + name + "' is not a legal Kafka topic name ([A-Za-z0-9._-], 1-249 characters)");
      }
      return name;
    }
  }
}
