package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code buffer.spill.backend: kafka}: the buffer has no local directory, and says where it spills. */
class KafkaSpillConfigTest {
  @TempDir Path dir;

  private String yaml(TestPki pki, String extraSpillLine) {
    return "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n"
        + TestConfigs.tls(pki, "        ")
        + "buffer:\n  spill:\n    backend: kafka\n" + extraSpillLine
        + "    kafka:\n      bootstrap_servers: [127.0.0.1:9093]\n      topic: spill-a\n"
        + "      tls: {ca_file: " + pki.ca + ", cert_file: " + pki.clientCert + ", key_file: " + pki.clientKey + "}\n"
        + TestConfigs.localKeys(dir.resolve("writer.json"), null);
  }

  @Test
  void kafkaBackend_hasNoSpillDirectory_andNamesItsTopic() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    ServerConfig.Buffer b = TestConfigs.load(dir, yaml(pki, "")).buffer();
    assertThat(b.kafka()).isPresent();
    assertThat(b.directory()).as("no placeholder path for the Kafka spill").isEmpty();
    assertThat(b.spillLocation()).isEqualTo("kafka topic spill-a");
  }

  @Test
  void kafkaBackend_withALocalDirectory_isRefusedNamingTheKey() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    assertThatThrownBy(() -> TestConfigs.load(dir, yaml(pki, "    directory: /var/lib/spillway\n")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("directory")
        .hasMessageContaining("setting of the local spill");
  }

  @Test
  void buffer_withBothOrNeitherPlace_isRefused() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    ServerConfig.Buffer k = TestConfigs.load(dir, yaml(pki, "")).buffer();
    assertThatThrownBy(() -> new ServerConfig.Buffer(k.durability(), k.memoryLimitBytes(), k.spikeLimitBytes(),
        Optional.of(dir), 0, k.fsync(), k.compression(), k.overflow(), k.keys(), false, k.deploymentId(), k.kafka()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
    assertThatThrownBy(() -> new ServerConfig.Buffer(k.durability(), k.memoryLimitBytes(), k.spikeLimitBytes(),
        Optional.empty(), 0, k.fsync(), k.compression(), k.overflow(), k.keys(), false, k.deploymentId(),
        Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
  }
}
