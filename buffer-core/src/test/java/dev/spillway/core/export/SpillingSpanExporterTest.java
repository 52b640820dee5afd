package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.CANARY;
import static dev.spillway.core.export.Spans.assertExactly;
import static dev.spillway.core.export.Spans.emit;
import static dev.spillway.core.export.Spans.filesWithCanary;
import static dev.spillway.core.export.Spans.range;
import static dev.spillway.core.export.Spans.seqs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.export.internal.SdkEncoding;
import dev.spillway.core.internal.seal.TestKeys;
import io.grpc.Status;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SpillingSpanExporter with the real SDK and the real OTLP/gRPC exporter, against a real
 * in-test OTLP receiver on 127.0.0.1 that can be made to fail, hang and recover.
 */
class SpillingSpanExporterTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path tmp;
  TestKeys keys;
  Path dir;
  OtlpReceiver receiver;
  /** What the SDK produced: every ended span, captured beside the exporter under test. */
  SpanRecorder produced;
  final List<SdkTracerProvider> providers = new ArrayList<>();
  final List<SpanExporter> exporters = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    dir = tmp.resolve("spill");
    receiver = OtlpReceiver.start();
    produced = new SpanRecorder();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (SdkTracerProvider p : providers) {
      p.shutdown().join(30, TimeUnit.SECONDS);
    }
    for (SpanExporter e : exporters) {
      e.shutdown().join(30, TimeUnit.SECONDS);
    }
    receiver.close();
  }

  SpillBufferBuilder bufferConfig() {
    return SpillBuffer.builder()
        .directory(dir)
        .writerKeys(keys.issuer())
        .readerKeys(keys.unwrapper())
        .fsync(FsyncPolicy.none());
  }

  OtlpGrpcSpanExporter otlp() {
    return OtlpGrpcSpanExporter.builder()
        .setEndpoint(receiver.endpoint())
        .setTimeout(Duration.ofSeconds(5))
        .setRetryPolicy(null)
        .build();
  }

  SpillingSpanExporter exporter(SpillBufferBuilder buffer) throws Exception {
    SpillingSpanExporter e =
        SpillingSpanExporter.builder(otlp(), buffer)
            .setExportTimeout(Duration.ofSeconds(10))
            .setReplayBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    exporters.add(e);
    return e;
  }

  /** A tracer provider exporting through {@code exporter} with a batch processor sized for tests. */
  Tracer tracer(SpanExporter exporter) {
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.create(
                    Attributes.of(AttributeKey.stringKey("service.name"), "gateway-test"),
                    "https://opentelemetry.io/schemas/1.24.0"))
            .addSpanProcessor(SimpleSpanProcessor.create(produced))
            // The default queue (2048) drops spans in a tight loop: size it for the test.
            .addSpanProcessor(
                BatchSpanProcessor.builder(exporter)
                    .setMaxQueueSize(20_000)
                    .setMaxExportBatchSize(50)
                    .setScheduleDelay(Duration.ofMillis(10))
                    .setExporterTimeout(Duration.ofSeconds(30))
                    .build())
            .build();
    providers.add(provider);
    return provider
        .tracerBuilder("dev.spillway.test")
        .setInstrumentationVersion("1.0.0")
        .setSchemaUrl("https://opentelemetry.io/schemas/1.21.0")
        .build();
  }

  void forceFlush() {
    for (SdkTracerProvider p : providers) {
      assertThat(p.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
  }

  @Test
  void export_healthyDelegate_deliversFromTheMemoryTierAndNothingReachesDisk() throws Exception {
    SpillingSpanExporter exporter = exporter(bufferConfig());
    Tracer tracer = tracer(exporter);

    emit(tracer, 0, 500);

    assertThat(receiver.awaitSpans(500, WAIT)).isTrue();
    assertExactly(receiver.spans(), produced.spans());
    assertThat(seqs(receiver.spans())).isEqualTo(range(0, 500));
    BufferMetrics m = exporter.bufferMetrics();
    assertThat(m.acceptedInMemory()).isEqualTo(m.offered()).isPositive();
    assertThat(m.spilled()).isZero();
    assertThat(exporter.originalsHeld()).isZero(); // exported from the SDK's spans, then forgotten
    assertThat(filesWithCanary(dir)).isEmpty();
  }

  /**
   * Forty spans of 1 MiB each are more than the buffer takes in one batch (by default just under
   * 8 MiB): the batch is offered in pieces, all of them on disk, and every span reaches the
   * delegate. A span larger than a batch on its own is refused, alone, and the export says so.
   */
  @Test
  void export_batchLargerThanOneSpillRecord_isOfferedInPiecesAndASpanTooLargeAloneIsRefused() throws Exception {
    SpanRecorder delegate = new SpanRecorder();
    SpillingSpanExporter exporter = SpillingSpanExporter.builder(delegate, bufferConfig().memoryLimitBytes(0))
        .setReplayBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
        .build();
    exporters.add(exporter);
    SpanRecorder made = new SpanRecorder();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(made)).build();
    providers.add(provider);
    Tracer tracer = provider.get("dev.spillway.test");
    String mebibyte = "x".repeat(1 << 20);
    for (long i = 0; i < 40; i++) {
      tracer.spanBuilder("big-" + i).setAttribute(Spans.SEQ, i).setAttribute("blob", mebibyte).startSpan().end();
    }
    List<SpanData> forty = made.spans();

    CompletableResultCode r = exporter.export(forty);

    assertThat(r.join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.bufferMetrics().spilled()).as("in pieces, each on disk").isGreaterThanOrEqualTo(6);
    assertThat(exporter.bufferMetrics().storageFaults()).isZero();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (delegate.spans().size() < 40 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(delegate.spans()).extracting(s -> s.getAttributes().get(Spans.SEQ))
        .containsExactlyElementsOf(range(0, 40));

    tracer.spanBuilder("too-big").setAttribute(Spans.SEQ, 40L).setAttribute("blob", "y".repeat(17 << 20))
        .startSpan().end();
    tracer.spanBuilder("small").setAttribute(Spans.SEQ, 41L).startSpan().end();
    List<SpanData> tooBigAndSmall = made.spans().subList(40, 42);

    CompletableResultCode refused = exporter.export(tooBigAndSmall);

    assertThat(refused.join(30, TimeUnit.SECONDS).isSuccess()).as("one span could not be kept").isFalse();
    deadline = System.nanoTime() + WAIT.toNanos();
    while (delegate.spans().size() < 41 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(delegate.spans()).extracting(s -> s.getAttributes().get(Spans.SEQ)).endsWith(41L).doesNotContain(40L);
  }

  @Test
  void export_delegateDownThenUp_spillsSealedThenReplaysEverySpanExactlyAndInOrder() throws Exception {
    // Small memory tier: most of the outage goes to disk, sealed.
    SpillingSpanExporter exporter = exporter(bufferConfig().memoryLimitBytes(32 << 10));
    Tracer tracer = tracer(exporter);
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));

    emit(tracer, 0, 600);
    forceFlush();
    assertThat(exporter.flush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();

    assertThat(receiver.awaitRefused(1, WAIT)).as("the delegate was tried").isTrue();
    assertThat(receiver.spans()).isEmpty();
    assertThat(exporter.bufferMetrics().memoryBatches()).isZero();
    assertThat(Spans.segmentBytes(dir)).isPositive();
    assertCanaryScanWorks();
    assertThat(filesWithCanary(dir)).isEmpty();

    // More while it is still down, then some right as it recovers: they queue behind the backlog.
    emit(tracer, 600, 800);
    forceFlush();
    receiver.recover();
    emit(tracer, 800, 1000);
    forceFlush();

    assertThat(receiver.awaitSpans(1000, WAIT)).isTrue();
    assertExactly(receiver.spans(), produced.spans());
    assertThat(seqs(receiver.spans())).isEqualTo(range(0, 1000));
    assertThat(filesWithCanary(dir)).isEmpty();

    // The backlog is gone; new batches follow in order.
    awaitPendingZero(exporter);
    emit(tracer, 1000, 1100);
    assertThat(receiver.awaitSpans(1100, WAIT)).isTrue();
    assertThat(seqs(receiver.spans())).isEqualTo(range(0, 1100));
  }

  @Test
  void export_restartBetweenOutageAndRecovery_nextStartReplaysEverySpanExactlyAndInOrder()
      throws Exception {
    SpillingSpanExporter first = exporter(bufferConfig());
    Tracer tracer = tracer(first);
    receiver.failWith(Status.UNAVAILABLE);

    emit(tracer, 0, 400);
    // Orderly stop of the whole pipeline: the processor exports what it holds, then shuts the
    // exporter down, which seals the in-memory backlog to disk.
    SdkTracerProvider firstProvider = providers.remove(0);
    assertThat(firstProvider.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(first.shutdown().isSuccess()).isTrue();
    assertThat(receiver.spans()).isEmpty();
    assertCanaryScanWorks();
    assertThat(filesWithCanary(dir)).isEmpty();
    List<SpanData> before = new ArrayList<>(produced.spans());
    assertThat(before).hasSize(400);

    receiver.recover();
    SpillingSpanExporter second = exporter(bufferConfig());
    Tracer tracer2 = tracer(second);
    emit(tracer2, 400, 500); // newer than the spill: must follow it

    assertThat(receiver.awaitSpans(500, WAIT)).isTrue();
    assertExactly(receiver.spans(), produced.spans());
    assertThat(seqs(receiver.spans())).isEqualTo(range(0, 500));
    assertThat(filesWithCanary(dir)).isEmpty();
  }

  @Test
  void export_restartInAnotherProcess_nextProcessReplaysEverySpanExactlyAndInOrder() throws Exception {
    receiver.failWith(Status.UNAVAILABLE);
    Path expectedFile = tmp.resolve("child-expected.bin");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String f : System.getProperty("spillway.jvm.flags", "").trim().split("\\s+")) {
      if (!f.isEmpty()) {
        cmd.add(f);
      }
    }
    cmd.addAll(
        List.of("-cp", System.getProperty("java.class.path"), ExporterChild.class.getName(),
            dir.toString(), keys.dir().toString(), receiver.endpoint(), "0", "300",
            expectedFile.toString()));
    Process child =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("child.log").toFile())
            .start();
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("child finished").isTrue();
    assertThat(child.exitValue()).as(Files.readString(tmp.resolve("child.log"))).isZero();

    assertThat(receiver.spans()).isEmpty();
    assertThat(receiver.refusedCalls()).isPositive();
    assertThat(filesWithCanary(dir)).isEmpty();
    assertThat(filesWithCanary(expectedFile.getParent())).contains(expectedFile); // positive control

    receiver.recover();
    SpillingSpanExporter next = exporter(bufferConfig());
    emit(tracer(next), 300, 350);

    assertThat(receiver.awaitSpans(350, WAIT)).isTrue();
    List<ResourceSpans> expected =
        new ArrayList<>(
            SdkEncoding.perSpan(
                io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.parseFrom(
                    Files.readAllBytes(expectedFile))));
    expected.addAll(SdkEncoding.perSpan(SdkEncoding.of(produced.spans())));
    Spans.assertExactlyPerSpan(receiver.spans(), expected);
    assertThat(seqs(receiver.spans())).isEqualTo(range(0, 350));
  }

  @Test
  void export_delegateTooSlow_acceptsAtOnceAndDeliversAtLeastOnce() throws Exception {
    SpillingSpanExporter exporter =
        SpillingSpanExporter.builder(otlp(), bufferConfig())
            .setExportTimeout(Duration.ofMillis(300))
            .setReplayBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    exporters.add(exporter);
    receiver.holdCalls();
    List<SpanData> spans = producedSpans(50);

    long start = System.nanoTime();
    CompletableResultCode r = exporter.export(spans);
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertThat(r.isSuccess()).isTrue(); // accepted by the buffer, without waiting on the delegate
    assertThat(tookMillis).isLessThan(2_000L);
    // The drain's attempt times out and the batch stays; the held call is answered on recovery.
    assertThat(receiver.awaitCalls(2, WAIT)).isTrue();
    receiver.recover();
    // The late original and the replayed copy: at-least-once.
    assertThat(receiver.awaitSpans(100, WAIT)).isTrue();
    List<ResourceSpans> got = receiver.spans();
    assertThat(new HashSet<>(got)).isEqualTo(new HashSet<>(SdkEncoding.perSpan(SdkEncoding.of(spans))));
  }

  @Test
  void flush_backlogHeldInMemory_sealsItToDisk() throws Exception {
    SpillingSpanExporter exporter =
        SpillingSpanExporter.builder(otlp(), bufferConfig()) // 64 MiB memory tier
            .setReplayBackoff(Duration.ofSeconds(30), Duration.ofSeconds(30)) // no replay meanwhile
            .build();
    exporters.add(exporter);
    receiver.failWith(Status.UNAVAILABLE);
    List<SpanData> spans = producedSpans(20);
    assertThat(exporter.export(spans).join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(filesWithCanary(dir)).isEmpty();

    assertThat(exporter.flush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();

    BufferMetrics m = exporter.bufferMetrics(); // the buffer reopened after sealing
    assertThat(m.memoryBatches()).isZero();
    assertThat(Spans.segmentBytes(dir)).isPositive();
    assertThat(filesWithCanary(dir)).isEmpty();
    // Sealed, not lost: shutdown tries the recovered delegate once and drains it.
    receiver.recover();
    assertThat(exporter.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertExactly(receiver.spans(), spans);
  }

  @Test
  void replay_delegateStaysDown_retriesWithBoundedBackoff() throws Exception {
    SpillingSpanExporter exporter =
        SpillingSpanExporter.builder(otlp(), bufferConfig())
            .setReplayBackoff(Duration.ofMillis(100), Duration.ofMillis(400))
            .build();
    exporters.add(exporter);
    receiver.failWith(Status.UNAVAILABLE);

    assertThat(exporter.export(producedSpans(5)).isSuccess()).isTrue();

    // In two seconds a tight loop would call thousands of times; the backoff allows about eight.
    assertThat(receiver.awaitRefused(30, Duration.ofSeconds(2))).isFalse();
    assertThat(receiver.refusedCalls()).isBetween(3, 29);
  }

  @Test
  void export_bufferRefuses_returnsFailureSoTheSdkKnows() throws Exception {
    SpillingSpanExporter exporter =
        exporter(bufferConfig().memoryLimitBytes(0).maxDiskBytes(1L << 20).segmentBytes(64L << 10));
    receiver.failWith(Status.UNAVAILABLE);
    List<SpanData> spans = producedSpans(200);

    boolean refused = false;
    for (int i = 0; i < 500 && !refused; i++) {
      refused = !exporter.export(spans).join(30, TimeUnit.SECONDS).isSuccess();
    }

    assertThat(refused).isTrue();
    assertThat(exporter.bufferMetrics().refused()).isPositive();
  }

  @Test
  void shutdown_calledTwice_sameResultAndLaterExportsFail() throws Exception {
    SpillingSpanExporter exporter = exporter(bufferConfig());

    CompletableResultCode first = exporter.shutdown();
    CompletableResultCode second = exporter.shutdown();

    assertThat(second).isSameAs(first);
    assertThat(first.join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.export(producedSpans(1)).isSuccess()).isFalse();
    assertThat(exporter.flush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.bufferMetrics()).isNull(); // the buffer is closed
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().equals(SpillingSpanExporter.THREAD_NAME) && t.isAlive());
  }

  @Test
  void close_shutsDownAndReleasesTheDirectory() throws Exception {
    SpillingSpanExporter exporter = exporter(bufferConfig());
    exporter.close();

    assertThat(exporter.export(producedSpans(1)).isSuccess()).isFalse();
    // The writer lock is released: another exporter can open the same directory.
    exporter(bufferConfig()).close();
  }

  @Test
  void shutdown_backlogAndHealthyDelegate_drainsBeforeClosing() throws Exception {
    receiver.failWith(Status.UNAVAILABLE);
    SpillingSpanExporter exporter =
        SpillingSpanExporter.builder(otlp(), bufferConfig())
            .setReplayBackoff(Duration.ofSeconds(20), Duration.ofSeconds(20)) // no replay on its own
            .setShutdownDrainTimeout(Duration.ofSeconds(30))
            .build();
    exporters.add(exporter);
    List<SpanData> spans = producedSpans(30);
    assertThat(exporter.export(spans).isSuccess()).isTrue();
    receiver.recover();

    assertThat(exporter.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();

    // Shutdown waits out no backoff of its own: it tries the delegate once and drains.
    assertThat(receiver.spans()).hasSize(30);
  }

  @Test
  void builder_invalidSettings_failAtOnceNamingThem() {
    SpillingSpanExporterBuilder b = SpillingSpanExporter.builder(SpanExporter.noop(), bufferConfig());
    assertThatThrownBy(() -> b.setExportTimeout(Duration.ZERO)).hasMessageContaining("exportTimeout");
    assertThatThrownBy(() -> b.setReplayBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("replayBackoff");
    assertThatThrownBy(() -> b.setShutdownDrainTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("shutdownDrainTimeout");
    assertThatThrownBy(() -> SpillingSpanExporter.builder(null, bufferConfig()))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("delegate");
    assertThatThrownBy(() -> SpillingSpanExporter.builder(SpanExporter.noop(), SpillBuffer.builder()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("directory");
  }

  /** Spans made by the real SDK, for tests that call export directly. */
  List<SpanData> producedSpans(int n) {
    SpanRecorder sink = new SpanRecorder();
    try (SdkTracerProvider p =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(sink)).build()) {
      emit(p.get("dev.spillway.test"), 0, n);
    }
    return sink.spans();
  }

  /** Positive control: the scan finds the canary where it is in plaintext. */
  void assertCanaryScanWorks() throws Exception {
    Path control = tmp.resolve("control");
    Files.createDirectories(control);
    Files.write(control.resolve("plain.bin"), ("xx" + CANARY + "yy").getBytes(StandardCharsets.UTF_8));
    assertThat(filesWithCanary(control)).hasSize(1);
  }

  /** Waits (bounded) until the buffer holds nothing unacknowledged. */
  static void awaitPendingZero(SpillingSpanExporter exporter) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      BufferMetrics m = exporter.bufferMetrics();
      if (m.diskRecordsPending() == 0 && m.memoryBatches() == 0) {
        return;
      }
      Thread.sleep(10); // bounded look at the drain thread's progress
    }
    assertThat(exporter.bufferMetrics().diskRecordsPending()).as("pending").isZero();
  }
}
