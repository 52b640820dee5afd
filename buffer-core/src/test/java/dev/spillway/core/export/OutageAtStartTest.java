package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.emit;
import static dev.spillway.core.export.Spans.filesWithCanary;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.export.internal.SdkEncoding;
import dev.spillway.core.internal.seal.TestKeys;
import io.grpc.Status;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downstream is down from the first second, the delegate is the real OTLP/gRPC exporter with
 * its default retry policy (it blocks for seconds per batch), and the SDK's real batch processor
 * feeds the exporter: nothing is refused while the budgets last, and nothing accepted is lost,
 * across recovery or an SDK close() with its default timeout and a restart.
 */
class OutageAtStartTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  /** The memory tier; the test emits at least four times as much. */
  static final long MEMORY_LIMIT = 256 << 10;

  @TempDir Path tmp;
  TestKeys keys;
  Path dir;
  OtlpReceiver receiver;
  SpanRecorder produced;

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    dir = tmp.resolve("spill");
    receiver = OtlpReceiver.start();
    produced = new SpanRecorder();
  }

  @AfterEach
  void tearDown() {
    receiver.close();
  }

  SpillBufferBuilder bufferConfig() {
    return SpillBuffer.builder()
        .directory(dir)
        .writerKeys(keys.issuer())
        .readerKeys(keys.unwrapper())
        .memoryLimitBytes(MEMORY_LIMIT)
        .fsync(FsyncPolicy.none());
  }

  /** The delegate as docs/EMBEDDING.md shows it, default retry policy included. */
  OtlpGrpcSpanExporter otlp() {
    return OtlpGrpcSpanExporter.builder().setEndpoint(receiver.endpoint()).build();
  }

  SpillingSpanExporter exporter() throws Exception {
    return SpillingSpanExporter.builder(otlp(), bufferConfig())
        .setReplayBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .build();
  }

  SdkTracerProvider provider(SpillingSpanExporter exporter) {
    return SdkTracerProvider.builder()
        .addSpanProcessor(SimpleSpanProcessor.create(produced))
        // The SDK's defaults but for the queue, sized so the processor itself never drops.
        .addSpanProcessor(BatchSpanProcessor.builder(exporter).setMaxQueueSize(50_000).build())
        .build();
  }

  @Test
  void export_outageFromTheStart_batchProcessorEmitsFourTimesTheMemoryTier_nothingRefusedAllDelivered()
      throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    SpillingSpanExporter exporter = exporter();
    SdkTracerProvider provider = provider(exporter);
    int spans = 12_000; // ~1 KiB of OTLP each: about 45 times the memory tier
    try {
      emit(provider.get("outage"), 0, spans);
      awaitAccepted(exporter, spans);

      long[] acceptedRefused = exporter.acceptedAndRefused();
      assertThat(acceptedRefused[1]).as("spans refused").isZero();
      assertThat(acceptedRefused[0]).isEqualTo(spans);
      BufferMetrics m = exporter.bufferMetrics();
      assertThat(m.refused()).isZero();
      assertThat(m.spilled()).as("batches sealed to disk past the memory tier").isPositive();
      assertThat(receiver.refusedCalls()).as("the delegate was tried meanwhile").isPositive();
      assertThat(receiver.spans()).isEmpty();
      assertThat(filesWithCanary(dir)).isEmpty();

      receiver.recover();
      assertThat(receiver.awaitSpans(spans, WAIT)).isTrue();
      assertEverySpanOnce(produced.spans(), receiver.spans());
    } finally {
      provider.shutdown().join(60, TimeUnit.SECONDS);
      exporter.shutdown().join(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void close_sdkDefaultTimeoutDuringAnOutage_nextStartDeliversEveryAcceptedSpan() throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    SpillingSpanExporter first = exporter();
    SdkTracerProvider provider = provider(first);
    emit(provider.get("outage"), 0, 5_000);

    long t0 = System.nanoTime();
    provider.close(); // shutdown().join(10 s), as an application's exit does
    long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    long accepted = first.acceptedAndRefused()[0];
    assertThat(accepted).isEqualTo(5_000);
    assertThat(closeMillis).isLessThan(15_000);
    // A JVM could exit here. This one lets the background shutdown end before reopening the
    // directory (one writer per directory).
    assertThat(first.shutdown().join(60, TimeUnit.SECONDS).isDone()).isTrue();
    assertThat(receiver.spans()).isEmpty();
    assertThat(filesWithCanary(dir)).isEmpty();

    receiver.recover();
    SpillingSpanExporter second = exporter();
    try {
      assertThat(receiver.awaitSpans(5_000, WAIT)).isTrue();
      assertEverySpanOnce(produced.spans(), receiver.spans());
    } finally {
      second.shutdown().join(60, TimeUnit.SECONDS);
    }
  }

  private static void awaitAccepted(SpillingSpanExporter exporter, long spans) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      long[] ar = exporter.acceptedAndRefused();
      if (ar[0] + ar[1] >= spans) {
        return;
      }
      Thread.sleep(10); // bounded look at the batch processor's progress
    }
  }

  /** Every produced span arrived; duplicates (at-least-once) allowed, nothing else. */
  private static void assertEverySpanOnce(List<SpanData> produced, List<ResourceSpans> received) {
    HashSet<ResourceSpans> expected = new HashSet<>(SdkEncoding.perSpan(SdkEncoding.of(produced)));
    assertThat(new HashSet<>(received)).isEqualTo(expected);
  }
}
