package dev.spillway.server.drain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.Delivery;
import dev.spillway.core.SpillReader;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.PayloadType;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's drain on the real spill buffer: idle without spinning, and dead made visible. */
class DaemonDrainTest {
  static final Duration WINDOW = Duration.ofSeconds(10);

  @TempDir Path dir;

  private String yaml(TestPki pki, String name, String durability) throws Exception {
    Path keys = dir.resolve("keys");
    if (!keys.resolve(LocalKeys.WRITER_FILE).toFile().exists()) {
      LocalKeys.init(keys);
    }
    // No exporter configured: the debug exporter. The drain has nothing to do.
    return TestConfigs.daemon(pki, dir.resolve("spill-" + name), keys, "", 1 << 20)
        .replace("buffer:\n", "buffer:\n  durability: " + durability + "\n");
  }

  @Test
  void daemon_noTraffic_drainThreadUsesUnderOnePercentOfACore() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    List<Daemon> daemons = new ArrayList<>();
    List<Thread> drains = new ArrayList<>();
    try {
      for (String mode : List.of("memory-first", "durable")) {
        Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        Path sub = dir.resolve(mode);
        java.nio.file.Files.createDirectories(sub);
        daemons.add(Daemon.start(TestConfigs.load(sub, yaml(pki, mode, mode)), Role.BOTH, BufferOpener.spillBuffer()));
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t) && t.getName().equals(DrainLoop.THREAD_NAME))
            .forEach(drains::add);
      }
      assertThat(drains).hasSize(2);
      long[] start = new long[drains.size()];
      for (int i = 0; i < drains.size(); i++) {
        start[i] = mx.getThreadCpuTime(drains.get(i).getId());
      }
      Thread.sleep(WINDOW.toMillis()); // the measurement window itself
      for (int i = 0; i < drains.size(); i++) {
        long used = mx.getThreadCpuTime(drains.get(i).getId()) - start[i];
        System.out.printf("idle daemon drain %d: %.2f ms CPU in %s%n", i, used / 1e6, WINDOW);
        assertThat(used).as("drain thread CPU nanos over %s", WINDOW).isLessThan(WINDOW.toNanos() / 100);
      }
      for (Daemon d : daemons) {
        assertThat(d.metrics()).isNotNull();
      }
    } finally {
      for (Daemon d : daemons) {
        d.close();
      }
    }
  }

  @Test
  void daemon_exportThrowsAnError_readyzTurns503AndTheBatchStays() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    AtomicReference<BufferOpener.Opened> opened = new AtomicReference<>();
    // The real buffer, whose deliveries throw an Error when the drain reads them for export: as an
    // exporter hitting a NoClassDefFoundError would, on the drain thread.
    BufferOpener failing = (config, role, observer) -> {
      BufferOpener.Opened real = BufferOpener.spillBuffer().open(config, role, observer);
      opened.set(real);
      SpillReader r = real.reader().orElseThrow();
      SpillReader throwing = new SpillReader() {
        @Override
        public Delivery poll(Duration timeout) throws InterruptedException {
          Delivery d = r.poll(timeout);
          return d == null ? null : new Delivery() {
            @Override
            public PayloadType payloadType() {
              return d.payloadType();
            }

            @Override
            public byte[] payload() {
              throw new NoClassDefFoundError("io/example/ExporterDependency");
            }

            @Override
            public boolean fromDisk() {
              return d.fromDisk();
            }

            @Override
            public void ack() {
              d.ack();
            }

            @Override
            public void release() {
              d.release();
            }
          };
        }

        @Override
        public dev.spillway.core.BufferMetrics metrics() {
          return r.metrics();
        }

        @Override
        public void close() {
          r.close();
        }
      };
      return new BufferOpener.Opened(real.writer(), Optional.of(throwing), real.metrics(), real.close());
    };
    try (Daemon daemon = Daemon.start(TestConfigs.load(dir, yaml(pki, "error", "memory-first")), Role.BOTH, failing)) {
      assertThat(status(daemon.metricsPort(), "/readyz")).isEqualTo(200);
      byte[] batch = TestClients.request(3, "x").toByteArray();
      assertThat(opened.get().writer().orElseThrow().offer(PayloadType.OTLP_TRACES, batch).accepted()).isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (status(daemon.metricsPort(), "/readyz") != 503 && System.nanoTime() < deadline) {
        Thread.sleep(20); // bounded wait for the drain thread to reach the batch
      }
      assertThat(status(daemon.metricsPort(), "/readyz")).isEqualTo(503);
      assertThat(status(daemon.metricsPort(), "/healthz")).isEqualTo(503);
      // Released, not acknowledged: still in the buffer.
      assertThat(opened.get().metrics().get().acked()).isZero();
      assertThat(opened.get().metrics().get().memoryBatches()).isEqualTo(1);
    }
  }

  private static int status(int port, String path) throws Exception {
    HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
