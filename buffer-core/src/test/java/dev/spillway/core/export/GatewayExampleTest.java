package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.emit;
import static dev.spillway.core.export.Spans.range;
import static dev.spillway.core.export.Spans.seqs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import io.grpc.Status;
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
  private static final String START = "// --8<-- [start:gateway]";
  private static final String END = "// --8<-- [end:gateway]";

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

    assertThat(region(doc)).isEqualTo(region(source));
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

  /** The lines between the markers, without their common indentation. */
  private static List<String> region(String text) {
    List<String> lines = text.lines().toList();
    int start = -1;
    int end = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).trim().equals(START)) {
        start = i + 1;
      } else if (lines.get(i).trim().equals(END)) {
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
