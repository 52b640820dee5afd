package dev.spillway.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiagnosticsTest {
  @TempDir Path dir;

  @Test
  void of_runningDaemon_showsMetricsAndTheDrainThreadsStack() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    try (Daemon d = Daemon.start(TestConfigs.load(dir,
        TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 1 << 20)), Role.BOTH,
        new InMemoryBuffer(10).opener())) {
      String s = Diagnostics.of(d);
      // The daemon's drain thread runs the core drain.
      assertThat(s).contains("spillway_spans_received_total").contains("drain thread alive: true")
          .contains("\"spillway-drain\"").contains("dev.spillway.core.drain.Drain");
    }
  }
}
