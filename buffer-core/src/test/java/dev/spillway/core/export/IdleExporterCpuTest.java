package dev.spillway.core.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Durability;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.internal.seal.TestKeys;
import io.grpc.Status;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An idle exporter costs no CPU: its drain thread waits. Fresh, and after an outage's spill was
 * replayed, in both durability modes, all measured in one 10 s window with thread CPU time; fresh
 * log and metric exporters (the same drain) in the same window.
 */
class IdleExporterCpuTest {
  static final Duration WINDOW = Duration.ofSeconds(10);

  @TempDir Path tmp;

  @Test
  void drainThread_idleFreshAndAfterAReplayedOutage_bothModes_usesUnderOnePercentOfACore() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    List<SpillingSpanExporter> exporters = new ArrayList<>();
    List<Thread> drains = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<Supplier<CompletableResultCode>> others = new ArrayList<>();
    List<Supplier<BufferMetrics>> otherMetrics = new ArrayList<>();
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      int n = 0;
      for (Durability mode : Durability.values()) {
        for (boolean afterOutage : new boolean[] {false, true}) {
          Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
          SpillingSpanExporter e =
              SpillingSpanExporter.builder(
                      OtlpGrpcSpanExporter.builder().setEndpoint(receiver.endpoint()).setRetryPolicy(null).build(),
                      SpillBuffer.builder()
                          .directory(tmp.resolve("spill-" + n++))
                          .writerKeys(keys.issuer())
                          .readerKeys(keys.unwrapper())
                          .durability(mode)
                          .memoryLimitBytes(32 << 10)
                          .fsync(FsyncPolicy.none()))
                  .setReplayBackoff(Duration.ofMillis(20), Duration.ofMillis(100))
                  .build();
          exporters.add(e);
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> !before.contains(t) && t.getName().equals(SpillingSpanExporter.THREAD_NAME))
              .forEach(drains::add);
          names.add(mode + (afterOutage ? "-after-outage" : "-fresh"));
          if (afterOutage) {
            receiver.failWith(Status.UNAVAILABLE);
            SpanRecorder made = new SpanRecorder();
            try (SdkTracerProvider p =
                SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(made)).build()) {
              Spans.emit(p.get("idle"), 0, 200);
            }
            List<io.opentelemetry.sdk.trace.data.SpanData> spans = made.spans();
            for (int i = 0; i < spans.size(); i += 10) {
              assertThat(e.export(spans.subList(i, i + 10)).isSuccess()).isTrue();
            }
            assertThat(receiver.awaitRefused(receiver.refusedCalls() + 3, Duration.ofSeconds(30))).isTrue();
            receiver.recover();
            awaitIdle(e);
          }
        }
      }
      // The log and metric exporters run the same drain: fresh ones, measured in the same window.
      Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
      SpillingLogRecordExporter logs =
          SpillingLogRecordExporter.builder(
                  OtlpGrpcLogRecordExporter.builder().setEndpoint(receiver.endpoint()).setRetryPolicy(null).build(),
                  SpillBuffer.builder().directory(tmp.resolve("spill-logs"))
                      .writerKeys(keys.issuer()).readerKeys(keys.unwrapper()).fsync(FsyncPolicy.none()))
              .build();
      others.add(logs::shutdown);
      otherMetrics.add(logs::bufferMetrics);
      SpillingMetricExporter metrics =
          SpillingMetricExporter.builder(
                  OtlpGrpcMetricExporter.builder().setEndpoint(receiver.endpoint()).setRetryPolicy(null).build(),
                  SpillBuffer.builder().directory(tmp.resolve("spill-metrics"))
                      .writerKeys(keys.issuer()).readerKeys(keys.unwrapper()).fsync(FsyncPolicy.none()))
              .build();
      others.add(metrics::shutdown);
      otherMetrics.add(metrics::bufferMetrics);
      for (String thread : List.of(SpillingLogRecordExporter.THREAD_NAME, SpillingMetricExporter.THREAD_NAME)) {
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t) && t.getName().equals(thread))
            .forEach(drains::add);
        names.add(thread + "-fresh");
      }
      assertThat(drains).hasSize(exporters.size() + others.size());
      long[] start = new long[drains.size()];
      for (int i = 0; i < drains.size(); i++) {
        start[i] = mx.getThreadCpuTime(drains.get(i).getId());
      }
      Thread.sleep(WINDOW.toMillis()); // the measurement window itself
      for (int i = 0; i < drains.size(); i++) {
        long used = mx.getThreadCpuTime(drains.get(i).getId()) - start[i];
        System.out.printf("idle exporter %s: %.2f ms CPU in %s%n", names.get(i), used / 1e6, WINDOW);
        assertThat(used).as("CPU nanos of %s's drain over %s", names.get(i), WINDOW).isLessThan(WINDOW.toNanos() / 100);
        BufferMetrics m = i < exporters.size()
            ? exporters.get(i).bufferMetrics()
            : otherMetrics.get(i - exporters.size()).get();
        assertThat(m.diskRecordsPending()).as("pending of %s", names.get(i)).isZero();
      }
    } finally {
      for (SpillingSpanExporter e : exporters) {
        e.shutdown().join(30, TimeUnit.SECONDS);
      }
      for (Supplier<CompletableResultCode> shutdown : others) {
        shutdown.get().join(30, TimeUnit.SECONDS);
      }
    }
  }

  private static void awaitIdle(SpillingSpanExporter e) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      BufferMetrics m = e.bufferMetrics();
      if (m.delivered() > 0 && m.diskRecordsPending() == 0 && m.memoryBatches() == 0 && m.acked() >= m.offered()) {
        return;
      }
      Thread.sleep(10); // bounded look at the drain's progress
    }
    assertThat(e.bufferMetrics().diskRecordsPending()).isZero();
  }
}
