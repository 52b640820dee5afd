package dev.spillway.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaSpillSettingsTest {
  @TempDir Path dir;

  @Test
  void build_withoutTls_isRefusedSayingWhy() {
    assertThatThrownBy(() -> KafkaSpillSettings.builder().bootstrapServers(List.of("b1:9093")).build())
        .hasMessageContaining("tls: required").hasMessageContaining("plaintext");
  }

  @Test
  void bootstrapServers_notHostPort_isNamed() {
    assertThatThrownBy(() -> KafkaSpillSettings.builder().bootstrapServers(List.of("b1")))
        .hasMessageContaining("bootstrap_servers: 'b1' is not host:port");
  }

  @Test
  void overrides_thatWouldWeakenAPromise_areRefusedByName() {
    assertThatThrownBy(() -> KafkaSpillSettings.builder().producerOverrides(Map.of("acks", "1")))
        .hasMessageContaining("producer_overrides.acks");
    assertThatThrownBy(() -> KafkaSpillSettings.builder().consumerOverrides(Map.of("enable.auto.commit", "true")))
        .hasMessageContaining("consumer_overrides.enable.auto.commit");
    assertThatThrownBy(() -> KafkaSpillSettings.builder().producerOverrides(Map.of("ssl.truststore.location", "/x")))
        .hasMessageContaining("producer_overrides.ssl.truststore.location");
  }

  @Test
  void overrides_ordinaryTuning_isTaken() throws IOException {
    KafkaSpillSettings s = withTls().producerOverrides(Map.of("buffer.memory", "1048576"))
        .consumerOverrides(Map.of("max.poll.records", "4")).build();
    assertThat(KafkaClientConfigs.producer(s)).containsEntry("buffer.memory", "1048576").containsEntry("acks", "all")
        .containsEntry("enable.idempotence", true);
    assertThat(KafkaClientConfigs.consumer(s)).containsEntry("max.poll.records", "4")
        .containsEntry("enable.auto.commit", false).containsEntry("security.protocol", "SSL");
  }

  @Test
  void keyFile_inPkcs1_isRefusedWithTheFix() throws IOException {
    KafkaSpillSettings s = withTls().build();
    Files.writeString(s.tls().keyFile(), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(() -> KafkaClientConfigs.producer(s))
        .hasMessageContaining("tls.key_file").hasMessageContaining("BEGIN RSA PRIVATE KEY").hasMessageContaining("pkcs8");
  }

  @Test
  void sasl_scram_passwordFromFileIsQuotedIntoJaas() throws IOException {
    Path pw = dir.resolve("pw");
    Files.writeString(pw, "p\"w\\d\n");
    KafkaSpillSettings s = withTls().sasl(new KafkaSpillSettings.Sasl("SCRAM-SHA-512", "ingest", pw)).build();
    Map<String, Object> c = KafkaClientConfigs.producer(s);
    assertThat(c).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512");
    assertThat((String) c.get("sasl.jaas.config"))
        .isEqualTo("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"ingest\" password=\"p\\\"w\\\\d\";");
  }

  @Test
  void sasl_unknownMechanism_isNamed() {
    assertThatThrownBy(() -> new KafkaSpillSettings.Sasl("GSSAPI", "u", dir.resolve("pw")))
        .hasMessageContaining("sasl.mechanism: GSSAPI");
  }

  private KafkaSpillSettings.Builder withTls() throws IOException {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    Path crt = Files.writeString(dir.resolve("c.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("c.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    return KafkaSpillSettings.builder().bootstrapServers(List.of("127.0.0.1:9093"))
        .tls(new KafkaSpillSettings.Tls(ca, crt, key));
  }
}
