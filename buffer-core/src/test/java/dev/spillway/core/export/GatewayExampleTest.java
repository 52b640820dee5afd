package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.emit;
import static dev.spillway.core.export.Spans.range;
import static dev.spillway.core.export.Spans.seqs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import io.grpc.Status;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayExampleTest {

  @TempDir Path tmp;

  @Test
  void embeddingDoc_showsTheExampleThatCompiles_verbatim() throws Exception {
    Path root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("docs/EMBEDDING.md"))) {
      root = root.getParent();
      assertThat(root).as("docs/EMBEDDING.md above the module").isNotNull();
    }
    String source =
        Files.readString(
            root.resolve("buffer-core/src/test/java/dev/spillway/core/export/GatewayExample.java"),
            StandardCharsets.UTF_8);
    String doc = Files.readString(root.resolve("docs/EMBEDDING.md"), StandardCharsets.UTF_8);

    assertThat(region(doc, "gateway")).isEqualTo(region(source, "gateway"));
    assertThat(region(doc, "signals")).isEqualTo(region(source, "signals"));
  }

  @Test
  void loggingAndMetrics_collectorDownThenUp_everyRecordAndCollectionArrives() throws Exception {
    LocalKeys.init(tmp.resolve("keys"));
    try (OtlpReceiver collector = OtlpReceiver.start()) {
      collector.failWith(Status.UNAVAILABLE);
      SdkLoggerProvider logging = GatewayExample.logging(tmp, collector.endpoint());
      SdkMeterProvider metrics = GatewayExample.metrics(tmp, collector.endpoint());
      var logger = logging.get("gateway");
      LongCounter requests = metrics.get("gateway").counterBuilder("requests").build();
      for (int i = 0; i < 100; i++) {
        logger.logRecordBuilder().setBody("record " + i).emit();
      }
      requests.add(3);
      assertThat(logging.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(metrics.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(collector.awaitRefused(2, Duration.ofSeconds(30))).isTrue();

      collector.recover();
      assertThat(collector.awaitLogRecords(100, Duration.ofSeconds(60))).isTrue();
      assertThat(collector.awaitDataPoints(1, Duration.ofSeconds(60))).isTrue();
      var sum = collector.metricRequests().stream()
          .flatMap(r -> r.getResourceMetricsList().stream())
          .flatMap(rm -> rm.getScopeMetricsList().stream())
          .flatMap(sm -> sm.getMetricsList().stream())
          .filter(m -> m.getName().equals("requests"))
          .findFirst()
          .orElseThrow()
          .getSum();
      assertThat(sum.getAggregationTemporality())
          .isEqualTo(io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA);
      assertThat(sum.getDataPoints(0).getAsInt()).isEqualTo(3);
      assertThat(logging.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(metrics.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
  }

  @Test
  void tracing_collectorDownThenUp_everySpanArrivesInOrder() throws Exception {
    LocalKeys.init(tmp.resolve("keys"));
    try (OtlpReceiver collector = OtlpReceiver.start()) {
      collector.failWith(Status.UNAVAILABLE);
      SdkTracerProvider tracing = GatewayExample.tracing(tmp, collector.endpoint());
      emit(tracing.get("gateway"), 0, 100);
      assertThat(tracing.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(collector.awaitRefused(1, Duration.ofSeconds(30))).isTrue();

      collector.recover();
      assertThat(collector.awaitSpans(100, Duration.ofSeconds(60))).isTrue();
      assertThat(seqs(collector.spans())).isEqualTo(range(0, 100));
      assertThat(tracing.shutdown().join(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
  }

  /** The lines between the markers of region {@code name}, without their common indentation. */
  private static List<String> region(String text, String name) {
    String startMarker = "// --8<-- [start:" + name + "]";
    String endMarker = "// --8<-- [end:" + name + "]";
    List<String> lines = text.lines().toList();
    int start = -1;
    int end = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).trim().equals(startMarker)) {
        start = i + 1;
      } else if (lines.get(i).trim().equals(endMarker)) {
        end = i;
      }
    }
    assertThat(start).as("start marker").isPositive();
    assertThat(end).as("end marker").isGreaterThan(start);
    List<String> region = lines.subList(start, end);
    int indent =
        region.stream()
            .filter(l -> !l.isBlank())
            .mapToInt(l -> l.length() - l.stripLeading().length())
            .min()
            .orElse(0);
    return region.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList();
  }
}
