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

  /** A request the Kafka spill could not produce as one record is refused at load, at the receiver's key. */
  @Test
  void receiverLimitAboveTheKafkaRecordLimit_isRefusedNamingBothKeys() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    String small = yaml(pki, "").replace("      topic: spill-a\n", "      topic: spill-a\n      max_record_bytes: 1048576\n");
    assertThatThrownBy(() -> TestConfigs.load(dir, small))
        .isInstanceOf(ConfigException.class)
        .hasMessageMatching("(?s).*:\\d+:\\d+: receivers\\.otlp\\.protocols\\.grpc\\.max_recv_msg_size_mib: 4 MiB is more than"
            + " the Kafka spill \\(buffer\\.spill\\.kafka\\.max_record_bytes\\) holds in one record; at most 0 MiB.*");
    String fits = small.replace("        endpoint: 127.0.0.1:0\n", "        endpoint: 127.0.0.1:0\n        max_recv_msg_size_mib: 1\n")
        .replace("max_record_bytes: 1048576", "max_record_bytes: 2097152");
    assertThat(TestConfigs.load(dir, fits).grpc().get().maxRequestBytes()).isEqualTo(1 << 20);
    // Under 1 MiB a record is smaller than the coalescer's default group (1 MiB): the default shrinks,
    // a value written in the file is an error.
    String httpOnly = small.replace("      grpc:\n        endpoint: 127.0.0.1:0\n",
        "      http:\n        endpoint: 127.0.0.1:0\n        max_request_body_size: 1000000\n");
    ServerConfig.Buffer b = TestConfigs.load(dir, httpOnly).buffer();
    assertThat(b.coalesce().maxRecordBytes()).isEqualTo(b.recordLimitBytes()).isLessThan(1 << 20);
    assertThatThrownBy(() -> TestConfigs.load(dir, httpOnly.replace("buffer:\n", "buffer:\n  coalesce:\n    max_record_bytes: 1048576\n")))
        .hasMessageContaining("buffer.coalesce.max_record_bytes: 1048576 bytes is more than the Kafka spill's max_record_bytes");
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
