package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code buffer.coalesce}: defaults, values, 0 turning it off, and refusals naming the key. */
class CoalesceConfigTest {
  @TempDir Path dir;
  private TestPki pki;

  @BeforeEach
  void pki() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
  }

  private ServerConfig.Coalesce load(String coalesceBlock) throws Exception {
    return loadBuffer(4 << 20, coalesceBlock).coalesce();
  }

  @Test
  void absent_isOnWithTheDefaults() throws Exception {
    ServerConfig.Coalesce c = load("");
    assertThat(c).isEqualTo(ServerConfig.Coalesce.DEFAULT);
    assertThat(c.enabled()).isTrue();
    assertThat(c.maxRequestBytes()).isEqualTo(64 << 10);
    assertThat(c.window()).isEqualTo(Duration.ofMillis(2));
    assertThat(c.maxRecordBytes()).isEqualTo(1 << 20);
  }

  @Test
  void values_areRead_andZeroTurnsItOff() throws Exception {
    ServerConfig.Coalesce c =
        load("  coalesce:\n    window: 7ms\n    max_request_bytes: 16384\n    max_record_bytes: 524288\n");
    assertThat(c).isEqualTo(new ServerConfig.Coalesce(16384, Duration.ofMillis(7), 524288, false));
    assertThat(load("  coalesce:\n    wait: window\n").fullWindow()).isTrue();
    assertThat(load("  coalesce:\n    max_request_bytes: 0\n").enabled()).isFalse();
    assertThat(load("  coalesce:\n    window: 0ms\n").enabled()).isFalse();
  }

  @Test
  void badValues_areRefusedNamingTheKey() {
    assertThatThrownBy(() -> load("  coalesce:\n    window: 2s\n"))
        .hasMessageContaining("buffer.coalesce").hasMessageContaining("window").hasMessageContaining("at most 1s");
    assertThatThrownBy(() -> load("  coalesce:\n    max_request_bytes: 2097152\n"))
        .hasMessageContaining("max_request_bytes").hasMessageContaining("must not exceed max_record_bytes");
    assertThatThrownBy(() -> load("  coalesce:\n    windw: 2ms\n")).hasMessageContaining("windw");
  }

  /** A coalesced record is one batch of the spill: it must fit one Chronicle record (just under 16 MiB). */
  @Test
  void maxRecordBytes_aboveWhatTheSpillHolds_isRefused() throws Exception {
    assertThatThrownBy(() -> load("  coalesce:\n    max_record_bytes: " + (32 << 20) + "\n"))
        .hasMessageMatching("(?s).*buffer\\.coalesce\\.max_record_bytes: 33554432 bytes is more than the local spill"
            + " holds in one record; at most " + dev.spillway.core.SpillBuffer.MAX_BATCH_BYTES + ".*");
    assertThat(load("  coalesce:\n    max_record_bytes: " + dev.spillway.core.SpillBuffer.MAX_BATCH_BYTES + "\n")
        .maxRecordBytes()).isEqualTo(dev.spillway.core.SpillBuffer.MAX_BATCH_BYTES);
  }

  /** The receivers' limits too: a larger request could never be kept, so the daemon does not start. */
  @Test
  void receiverLimitsAboveWhatTheSpillHolds_areRefusedAtTheirKeys() throws Exception {
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 32 << 20);
    Path f = dir.resolve("big.yaml");
    Files.writeString(f, yaml);
    ConfigException e = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigException.class,
        () -> new ConfigLoader(name -> null, false).load(f));
    assertThat(e.problems()).hasSize(2);
    assertThat(e.getMessage())
        .containsPattern("big\\.yaml:\\d+:\\d+: receivers\\.otlp\\.protocols\\.grpc\\.max_recv_msg_size_mib: 32 MiB is more"
            + " than the local spill holds in one record; at most 15 MiB")
        .containsPattern("big\\.yaml:\\d+:\\d+: receivers\\.otlp\\.protocols\\.http\\.max_request_body_size: 33554432 bytes"
            + " is more than the local spill holds in one record; at most " + dev.spillway.core.SpillBuffer.MAX_BATCH_BYTES + " bytes");
    Files.writeString(f, TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 15 << 20));
    assertThat(new ConfigLoader(name -> null, false).load(f).grpc().get().maxRequestBytes()).isEqualTo(15 << 20);
  }

  /**
   * The local spill is built for the largest batch the daemon will offer, the larger of the
   * receivers' limits and a coalesced record: its memory mapping follows (SpillBufferBuilder.maxBatchBytes).
   */
  @Test
  void maxBatchBytes_isTheLargestRequestOrCoalescedRecord() throws Exception {
    assertThat(loadBuffer(4 << 20, "").maxBatchBytes()).as("the receivers' 4 MiB").isEqualTo(4 << 20);
    assertThat(loadBuffer(15 << 20, "").maxBatchBytes()).isEqualTo(15 << 20);
    assertThat(loadBuffer(1 << 20, "  coalesce:\n    max_record_bytes: 3000000\n").maxBatchBytes())
        .as("a coalesced record above the receivers' limit").isEqualTo(3_000_000);
    assertThat(loadBuffer(1 << 20, "  coalesce:\n    max_request_bytes: 0\n    max_record_bytes: 3000000\n")
        .maxBatchBytes()).as("coalescing off: only requests are offered").isEqualTo(1 << 20);
  }

  private ServerConfig.Buffer loadBuffer(long maxRequestBytes, String coalesceBlock) throws Exception {
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", maxRequestBytes)
        .replace("  spill:\n", coalesceBlock + "  spill:\n");
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, yaml);
    return new ConfigLoader(name -> null, false).load(f).buffer();
  }
}
