package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.CANARY;
import static dev.spillway.core.export.Spans.filesWithCanary;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.internal.seal.TestKeys;
import io.grpc.Status;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.resources.Resource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SpillingLogRecordExporter with the real log SDK ({@code BatchLogRecordProcessor}) around the real
 * OTLP/gRPC log exporter with its default retry policy, against a real in-test OTLP receiver on
 * 127.0.0.1 that is down from the start: nothing is refused while the budgets last, a canary in
 * bodies and attributes never reaches the spill directory in plaintext, and every accepted record
 * arrives, after recovery or after an SDK close() with its default timeout and a restart.
 */
class SpillingLogRecordExporterTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  /** The memory tier; the tests emit many times as much. */
  static final long MEMORY_LIMIT = 64 << 10;
  static final AttributeKey<Long> SEQ = AttributeKey.longKey("seq");
  static final AttributeKey<String> NOTE = AttributeKey.stringKey("enduser.note");

  @TempDir Path tmp;
  TestKeys keys;
  Path dir;
  OtlpReceiver receiver;

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    dir = tmp.resolve("spill");
    receiver = OtlpReceiver.start();
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
  OtlpGrpcLogRecordExporter otlp() {
    return OtlpGrpcLogRecordExporter.builder().setEndpoint(receiver.endpoint()).build();
  }

  SpillingLogRecordExporter exporter() throws Exception {
    return SpillingLogRecordExporter.builder(otlp(), bufferConfig())
        .setReplayBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .build();
  }

  static SdkLoggerProvider provider(Accepted.Logs exporter) {
    return SdkLoggerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "log-gateway")))
        // The SDK's defaults but for the queue, sized so the processor itself never drops.
        .addLogRecordProcessor(BatchLogRecordProcessor.builder(exporter).setMaxQueueSize(50_000).build())
        .build();
  }

  /** Emits records {@code from..to-1}, the canary in each body and in an attribute. */
  static void emit(Logger logger, int from, int to) {
    for (int i = from; i < to; i++) {
      logger
          .logRecordBuilder()
          .setSeverity(i % 2 == 0 ? Severity.INFO : Severity.ERROR)
          .setSeverityText(i % 2 == 0 ? "INFO" : "ERROR")
          .setBody("login failed for user 4711 (" + CANARY + ") attempt " + i)
          .setAttribute(SEQ, (long) i)
          .setAttribute(NOTE, CANARY)
          .setAttribute(AttributeKey.stringArrayKey("tags"), java.util.List.of("auth", "t" + i))
          .emit();
    }
  }

  @Test
  void export_outageFromTheStart_batchProcessor_nothingRefusedEveryAcceptedRecordDelivered() throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    SpillingLogRecordExporter exporter = exporter();
    Accepted.Logs accepted = new Accepted.Logs(exporter);
    SdkLoggerProvider provider = provider(accepted);
    int records = 3_000;
    try {
      emit(provider.get("dev.spillway.logs"), 0, records);
      assertThat(provider.forceFlush().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();

      long[] acceptedRefused = exporter.acceptedAndRefused();
      assertThat(acceptedRefused).containsExactly(records, 0);
      assertThat(accepted.count()).isEqualTo(records);
      assertThat(accepted.bytes()).as("OTLP bytes accepted").isGreaterThan(4 * MEMORY_LIMIT);
      BufferMetrics m = exporter.bufferMetrics();
      assertThat(m.refused()).isZero();
      assertThat(m.spilled()).as("batches sealed to disk past the memory tier").isPositive();
      assertThat(receiver.logRequests()).isEmpty();
      assertThat(filesWithCanary(dir)).isEmpty();

      receiver.recover();
      assertThat(receiver.awaitLogRecords(records, WAIT)).isTrue();
      assertThat(Accepted.logRecords(receiver.logRequests())).isEqualTo(accepted.records());
    } finally {
      provider.shutdown().join(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void close_sdkDefaultTimeoutDuringAnOutage_nextStartDeliversEveryAcceptedRecord() throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    SpillingLogRecordExporter first = exporter();
    Accepted.Logs accepted = new Accepted.Logs(first);
    SdkLoggerProvider provider = provider(accepted);
    emit(provider.get("dev.spillway.logs"), 0, 2_000);

    long t0 = System.nanoTime();
    provider.close(); // shutdown().join(10 s), as an application's exit does
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(15_000);
    assertThat(first.acceptedAndRefused()).containsExactly(2_000, 0);
    // A JVM could exit here. This one lets the background shutdown end before reopening the
    // directory (one writer per directory).
    assertThat(first.shutdown().join(60, TimeUnit.SECONDS).isDone()).isTrue();
    assertThat(receiver.logRequests()).isEmpty();
    assertThat(filesWithCanary(dir)).isEmpty();

    receiver.recover();
    SpillingLogRecordExporter second = exporter();
    try {
      assertThat(receiver.awaitLogRecords(2_000, WAIT)).isTrue();
      assertThat(Accepted.logRecords(receiver.logRequests())).isEqualTo(accepted.records());
    } finally {
      second.shutdown().join(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void export_delegateBlocks_acceptsAtOnce() throws Exception {
    receiver.holdCalls(); // the delegate's call hangs until recover()
    SpillingLogRecordExporter exporter = exporter();
    Accepted.Logs accepted = new Accepted.Logs(exporter);
    SdkLoggerProvider provider = provider(accepted);
    try {
      emit(provider.get("dev.spillway.logs"), 0, 100);
      assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(receiver.awaitCalls(1, WAIT)).isTrue();
      emit(provider.get("dev.spillway.logs"), 100, 200);
      long t0 = System.nanoTime();
      assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
          .as("ms to accept while the delegate hangs").isLessThan(5_000);
      assertThat(exporter.acceptedAndRefused()).containsExactly(200, 0);
      receiver.recover();
      assertThat(receiver.awaitLogRecords(200, WAIT)).isTrue();
      assertThat(Accepted.logRecords(receiver.logRequests())).isEqualTo(accepted.records());
    } finally {
      provider.shutdown().join(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void flush_backlogHeldInMemory_sealsItToDiskAndShutdownDrainsIt() throws Exception {
    SpillingLogRecordExporter exporter =
        SpillingLogRecordExporter.builder(otlp(), bufferConfig().memoryLimitBytes(64L << 20))
            .setReplayBackoff(Duration.ofSeconds(30), Duration.ofSeconds(30)) // no replay meanwhile
            .build();
    receiver.failWith(Status.UNAVAILABLE);
    Accepted.Logs accepted = new Accepted.Logs(exporter);
    SdkLoggerProvider provider = provider(accepted);
    emit(provider.get("dev.spillway.logs"), 0, 50);
    assertThat(provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.acceptedAndRefused()).containsExactly(50, 0);
    assertThat(exporter.bufferMetrics().spilled()).as("sealed before flush").isZero();

    assertThat(exporter.flush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();

    assertThat(exporter.bufferMetrics().memoryBatches()).isZero();
    // Counted as sealed, not as pending: the replay loop may be opening the record at this moment,
    // when the pending gauge counts it neither as unread nor as delivered yet.
    assertThat(exporter.bufferMetrics().spilled()).as("sealed by flush").isPositive();
    assertThat(Spans.segmentBytes(dir)).isPositive();
    assertThat(filesWithCanary(dir)).isEmpty();
    // Sealed, not lost: shutdown replays to the recovered delegate before closing.
    receiver.recover();
    assertThat(provider.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(receiver.awaitLogRecords(50, WAIT)).isTrue();
    assertThat(Accepted.logRecords(receiver.logRequests())).isEqualTo(accepted.records());
  }

  @Test
  void shutdown_calledTwice_sameResultAndLaterExportsFail() throws Exception {
    SpillingLogRecordExporter exporter = exporter();
    var first = exporter.shutdown();
    assertThat(exporter.shutdown()).isSameAs(first);
    assertThat(first.join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.export(java.util.List.of(
        io.opentelemetry.sdk.testing.logs.TestLogRecordData.builder().setBody("x").build())).isSuccess()).isFalse();
  }

  @Test
  void builder_invalidSettings_failAtOnceNamingThem() {
    var b = SpillingLogRecordExporter.builder(otlp(), bufferConfig());
    assertThatThrownBy(() -> b.setExportTimeout(Duration.ZERO)).hasMessageContaining("exportTimeout");
    assertThatThrownBy(() -> b.setReplayBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("replayBackoff");
    assertThatThrownBy(() -> b.setShutdownDrainTimeout(Duration.ofMillis(-1)))
        .hasMessageContaining("shutdownDrainTimeout");
  }
}
