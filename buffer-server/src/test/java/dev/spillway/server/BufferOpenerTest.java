package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.BufferObserver;
import dev.spillway.core.Delivery;
import dev.spillway.core.PayloadType;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local spill the daemon opens is built for the configuration's largest request. */
class BufferOpenerTest {
  @TempDir Path dir;
  TestPki pki;
  Path keys;

  @BeforeEach
  void certificatesAndKeys() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    keys = dir.resolve("keys");
    LocalKeys.init(keys);
  }

  @Test
  void localSpill_takesBatchesUpToTheReceiversLimit_andRefusesLarger() throws Exception {
    ServerConfig config = TestConfigs.load(dir,
        TestConfigs.daemon(pki, dir.resolve("spill"), keys, "", 2 << 20));
    BufferOpener.Opened opened = BufferOpener.spillBuffer().open(config.buffer(), Role.BOTH, BufferObserver.NOOP);
    try {
      SpillWriter writer = opened.writer().orElseThrow();
      assertThat(((SpillBuffer) writer).maxBatchBytes()).isEqualTo(2 << 20);
      assertThat(writer.offer(PayloadType.OTLP_TRACES, new byte[2 << 20]).accepted()).isTrue();
      assertThatThrownBy(() -> writer.offer(PayloadType.OTLP_TRACES, new byte[(2 << 20) + 1]))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(String.valueOf(2 << 20));
    } finally {
      opened.close().run();
    }
  }

  /**
   * Split roles at the largest receiver limit: the drain has no receivers, so it maps the smallest
   * chunk, and still reads the 15 MiB records an ingest process wrote with its larger chunks.
   */
  @Test
  void drainWithoutReceivers_readsTheLargestRequestsAnIngestWrote() throws Exception {
    Path spill = dir.resolve("spill");
    int largest = 15 << 20;
    ServerConfig ingest = TestConfigs.load(dir, TestConfigs.daemon(pki, spill,
        TestConfigs.localKeys(keys.resolve("writer.json"), null), "", largest));
    ServerConfig drain = TestConfigs.load(dir, "buffer:\n  memory:\n    limit_mib: 8\n  spill:\n"
        + "    directory: " + spill + "\n    max_disk_mib: 64\n"
        + TestConfigs.localKeys(null, keys.resolve("reader.json"))
        + TestConfigs.exporter(pki, "grpc", 9)
        + "telemetry:\n  metrics:\n    endpoint: 127.0.0.1:0\n");
    assertThat(drain.buffer().maxBatchBytes()).isLessThan(largest / 2);

    byte[][] batches = new byte[2][];
    BufferOpener.Opened writing = BufferOpener.spillBuffer().open(ingest.buffer(), Role.INGEST, BufferObserver.NOOP);
    try {
      SpillWriter writer = writing.writer().orElseThrow();
      for (int i = 0; i < batches.length; i++) {
        batches[i] = new byte[largest];
        new Random(i).nextBytes(batches[i]); // incompressible: the sealed record is larger still
        assertThat(writer.offer(PayloadType.OTLP_TRACES, batches[i]).accepted()).as("batch %d", i).isTrue();
      }
    } finally {
      writing.close().run();
    }

    BufferOpener.Opened reading = BufferOpener.spillBuffer().open(drain.buffer(), Role.DRAIN, BufferObserver.NOOP);
    try {
      for (int i = 0; i < batches.length; i++) {
        Delivery d = reading.reader().orElseThrow().poll(Duration.ofSeconds(10));
        assertThat(d).as("batch %d", i).isNotNull();
        assertThat(d.payload()).as("batch %d", i).isEqualTo(batches[i]);
        d.ack();
      }
      assertThat(reading.metrics().get().quarantined()).isZero();
    } finally {
      reading.close().run();
    }
  }
}
