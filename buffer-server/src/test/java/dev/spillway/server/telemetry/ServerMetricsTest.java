package dev.spillway.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The metrics on the Prometheus client: names, one listener label scheme, consistent histograms. */
class ServerMetricsTest {
  @Test
  void render_countersAndDroppedReasons_namedAsTheDashboardExpects() {
    ServerMetrics m = new ServerMetrics();
    m.spansExported.add(300);
    m.spansRejectedDownstream.add(3);
    m.spansDroppedTooLarge.add(1);
    String text = m.render();
    assertThat(text).contains("spillway_spans_exported_total 300")
        .contains("spillway_spans_dropped_total{reason=\"rejected_by_downstream\"} 2")
        .contains("spillway_spans_dropped_total{reason=\"too_large_for_downstream\"} 1")
        .contains("# TYPE storage_write_latency_seconds histogram");
  }

  @Test
  void onStorageWrite_bytesAppendedAreCountedAsWritten() {
    ServerMetrics m = new ServerMetrics();
    m.onStorageWrite(1_000, 4_096);
    m.onStorageWrite(2_000, 100);
    assertThat(m.render()).contains("spillway_storage_written_bytes_total 4196.0");
  }

  @Test
  void tlsHandshakeFailure_configPathsAndProtocolNames_oneListenerLabelScheme() {
    ServerMetrics m = new ServerMetrics();
    m.tlsHandshakeFailure("grpc", "no_client_certificate");
    m.tlsHandshakeFailure("receivers.otlp.protocols.http", "no_client_certificate");
    m.tlsHandshakeFailure("receivers.otlp.protocols.grpc.tls", "not_tls");
    m.tlsHandshakeFailure("telemetry.metrics", "not_tls");
    String text = m.render();
    assertThat(text).contains("listener=\"grpc\",reason=\"no_client_certificate\"} 1")
        .contains("listener=\"http\",reason=\"no_client_certificate\"} 1")
        .contains("listener=\"grpc\",reason=\"not_tls\"} 1")
        .contains("listener=\"metrics\",reason=\"not_tls\"} 1")
        .doesNotContain("receivers.otlp");
    assertThat(m.tlsHandshakeFailures()).isEqualTo(4);
  }

  @Test
  void histogram_renderedWhileObservedConcurrently_bucketsNeverDecreaseAndInfEqualsCount() throws Exception {
    ServerMetrics m = new ServerMetrics();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> writers = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      writers.add(pool.submit(() -> {
        go.await();
        for (int i = 0; i < 50_000; i++) {
          m.onStorageWrite((i % 2000) * 10_000L, 100);
        }
        return null;
      }));
    }
    go.countDown();
    Pattern bucket = Pattern.compile("storage_write_latency_seconds_bucket\\{le=\"([^\"]+)\"} (\\d+)");
    Pattern count = Pattern.compile("storage_write_latency_seconds_count (\\d+)");
    for (int scrape = 0; scrape < 200 && !writers.stream().allMatch(Future::isDone); scrape++) {
      String text = m.render();
      Matcher b = bucket.matcher(text);
      long previous = 0;
      long inf = -1;
      while (b.find()) {
        long v = Long.parseLong(b.group(2));
        assertThat(v).as("bucket le=%s", b.group(1)).isGreaterThanOrEqualTo(previous);
        previous = v;
        if (b.group(1).equals("+Inf")) {
          inf = v;
        }
      }
      Matcher c = count.matcher(text);
      assertThat(c.find()).isTrue();
      assertThat(inf).isEqualTo(Long.parseLong(c.group(1)));
    }
    for (Future<?> f : writers) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(m.render()).contains("storage_write_latency_seconds_count 150000");
  }
}
