package dev.spillway.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka client settings from {@link KafkaSpillSettings}: TLS from the operator's PEM files (the
 * same files the daemon's OTLP exporter takes), idempotent {@code acks=all} producers, consumers
 * that commit only what the downstream accepted.
 */
public final class KafkaClientConfigs {
  /**
   * Settings an override may not touch: the transport's security, the producer's durability and
   * ordering, and the consumer's commit discipline. Each would quietly break a promise.
   */
  static final Set<String> PROTECTED = Set.of(
      CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
      CommonClientConfigs.SECURITY_PROTOCOL_CONFIG,
      ProducerConfig.ACKS_CONFIG,
      ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
      ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
      ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
      ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
      ProducerConfig.TRANSACTIONAL_ID_CONFIG,
      ConsumerConfig.GROUP_ID_CONFIG,
      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
      ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
      ConsumerConfig.ISOLATION_LEVEL_CONFIG,
      ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
      ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
      SaslConfigs.SASL_JAAS_CONFIG,
      SaslConfigs.SASL_MECHANISM);

  private KafkaClientConfigs() {}

  static void checkOverrides(String side, Map<String, String> overrides) {
    for (String key : overrides.keySet()) {
      if (PROTECTED.contains(key) || key.startsWith("ssl.")) {
        throw new IllegalArgumentException(side + "_overrides." + key
            + ": set by Spillway and not overridable (TLS comes from the tls block, durability and commits are fixed)");
      }
    }
  }

  /** The producer of the ingest side: idempotent, {@code acks=all}, records up to {@code max_record_bytes}. */
  public static Map<String, Object> producer(KafkaSpillSettings s) throws IOException {
    Map<String, Object> c = common(s);
    c.putAll(s.producerOverrides());
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    c.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    c.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, (int) s.linger().toMillis());
    c.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, s.batchBytes());
    c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, s.maxRecordBytes());
    c.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) s.deliveryTimeout().toMillis());
    // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms: leave room for one retry.
    c.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
        (int) Math.max(500, (s.deliveryTimeout().toMillis() - s.linger().toMillis()) / 2));
    // Sealed records are compressed and then encrypted: Kafka's compression would only cost CPU.
    c.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return c;
  }

  /** The consumer of the drain side: the group, manual commits, committed reads only. */
  public static Map<String, Object> consumer(KafkaSpillSettings s) throws IOException {
    Map<String, Object> c = common(s);
    c.putAll(s.consumerOverrides());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, s.consumerGroup());
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 16);
    c.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, s.maxRecordBytes());
    c.putIfAbsent(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Math.max(s.maxRecordBytes(), 50 << 20));
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return c;
  }

  /** An admin client's settings (topic checks, the tests). */
  public static Map<String, Object> admin(KafkaSpillSettings s) throws IOException {
    return common(s);
  }

  private static Map<String, Object> common(KafkaSpillSettings s) throws IOException {
    Map<String, Object> c = new HashMap<>();
    c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", s.bootstrapServers()));
    c.put(CommonClientConfigs.CLIENT_DNS_LOOKUP_CONFIG, "use_all_dns_ips");
    KafkaSpillSettings.Tls tls = s.tls();
    c.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
    c.put(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, pem("tls.ca_file", tls.caFile(), "CERTIFICATE"));
    c.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
    c.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, pem("tls.cert_file", tls.certFile(), "CERTIFICATE"));
    c.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, pem("tls.key_file", tls.keyFile(), "PRIVATE KEY"));
    c.put(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG, "https");
    c.put(SslConfigs.SSL_ENABLED_PROTOCOLS_CONFIG, "TLSv1.3,TLSv1.2");
    if (s.sasl().isPresent()) {
      KafkaSpillSettings.Sasl sasl = s.sasl().get();
      c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
      c.put(SaslConfigs.SASL_MECHANISM, sasl.mechanism());
      c.put(SaslConfigs.SASL_JAAS_CONFIG, jaas(sasl));
    } else {
      c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
    }
    return c;
  }

  static String jaas(KafkaSpillSettings.Sasl sasl) throws IOException {
    String password = Files.readString(sasl.passwordFile(), StandardCharsets.UTF_8).strip();
    if (password.isEmpty()) {
      throw new IOException(sasl.passwordFile() + ": sasl.password_file is empty");
    }
    String module = sasl.mechanism().equals("PLAIN")
        ? "org.apache.kafka.common.security.plain.PlainLoginModule"
        : "org.apache.kafka.common.security.scram.ScramLoginModule";
    return module + " required username=\"" + jaasQuoted(sasl.username()) + "\" password=\"" + jaasQuoted(password) + "\";";
  }

  private static String jaasQuoted(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** The PEM blocks of {@code type} in a file, checked to be there; a clear error names the setting and file. */
  private static String pem(String key, Path file, String type) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IOException(key + ": cannot read " + file + ": " + e.getMessage(), e);
    }
    if (!text.contains("-----BEGIN " + type + "-----")) {
      String found = text.contains("-----BEGIN ") ? text.substring(text.indexOf("-----BEGIN ")).lines().findFirst().orElse("") : "no PEM block";
      throw new IOException(key + ": " + file + " holds no '" + type + "' PEM block (found " + found + ")"
          + (type.equals("PRIVATE KEY") ? "; Kafka needs PKCS#8: openssl pkcs8 -topk8 -nocrypt -in KEY" : ""));
    }
    return text;
  }
}
