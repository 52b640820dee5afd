package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.BufferObserver;
import dev.spillway.core.PayloadType;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillWriter;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local spill the daemon opens is built for the configuration's largest request. */
class BufferOpenerTest {
  @TempDir Path dir;

  @Test
  void localSpill_takesBatchesUpToTheReceiversLimit_andRefusesLarger() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    assertThat(Main.run(new String[] {"keys", "init", "--out", dir.resolve("keys").toString()},
        System.out, System.err)).isZero();
    ServerConfig config = TestConfigs.load(dir,
        TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 2 << 20));
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
}
