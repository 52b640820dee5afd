package dev.spillway.core.export;

import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.export.internal.SdkEncoding;
import dev.spillway.core.keys.LocalKeys;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A gateway process for restart tests: exports spans {@code from..to-1} through a
 * SpillingSpanExporter to {@code endpoint}, stops in order (the SDK shuts the exporter down) and
 * writes what the SDK's OTLP exporter would have sent for them to {@code expected}.
 *
 * <p>Arguments: spill dir, keys dir, endpoint, from, to, expected file.
 */
public final class ExporterChild {
  private ExporterChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Path keys = Path.of(args[1]);
    String endpoint = args[2];
    int from = Integer.parseInt(args[3]);
    int to = Integer.parseInt(args[4]);
    Path expected = Path.of(args[5]);

    SpillingSpanExporter exporter =
        SpillingSpanExporter.builder(
                OtlpGrpcSpanExporter.builder().setEndpoint(endpoint).setRetryPolicy(null).build(),
                SpillBuffer.builder()
                    .directory(dir)
                    .writerKeys(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)))
                    .readerKeys(LocalKeys.unwrapper(keys.resolve(LocalKeys.READER_FILE)))
                    .fsync(FsyncPolicy.none()))
            .setReplayBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    SpanRecorder produced = new SpanRecorder();
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(produced))
            .addSpanProcessor(
                BatchSpanProcessor.builder(exporter)
                    .setMaxQueueSize(20_000)
                    .setMaxExportBatchSize(50)
                    .setScheduleDelay(Duration.ofMillis(10))
                    .build())
            .build();
    Spans.emit(provider.get("dev.spillway.child"), from, to);
    boolean ok = provider.shutdown().join(60, TimeUnit.SECONDS).isSuccess();
    Files.write(expected, SdkEncoding.of(produced.spans()).toByteArray());
    System.out.println(ok ? "SHUTDOWN-OK" : "SHUTDOWN-FAILED");
    System.exit(ok ? 0 : 1);
  }
}
