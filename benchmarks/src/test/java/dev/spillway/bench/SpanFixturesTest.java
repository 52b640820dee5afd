package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.export.internal.OtlpSpans;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The two span shapes the load generator and the benchmarks send are what their docs say. */
class SpanFixturesTest {

  @Test
  void spans_rich_areAbout980BytesPerSpan() {
    double perSpan = OtlpSpans.toBytes(SpanFixtures.spans(512)).length / 512.0;
    assertThat(perSpan).isBetween(900.0, 1_060.0);
  }

  @Test
  void telemetrygenSpans_clientAndServerPairsWithTwoAttributes_about150BytesPerSpan() {
    List<SpanData> spans = SpanFixtures.telemetrygenSpans(512);

    assertThat(spans).hasSize(512).allSatisfy(s -> {
      assertThat(s.getAttributes().size()).isEqualTo(2);
      assertThat(s.getEvents()).isEmpty();
      assertThat(s.getResource().getAttribute(io.opentelemetry.api.common.AttributeKey.stringKey("service.name")))
          .isEqualTo("telemetrygen");
    });
    for (int i = 0; i < spans.size(); i += 2) {
      SpanData client = spans.get(i);
      SpanData server = spans.get(i + 1);
      assertThat(client.getName()).isEqualTo("lets-go");
      assertThat(client.getKind()).isEqualTo(SpanKind.CLIENT);
      assertThat(server.getName()).isEqualTo("okey-dokey-0");
      assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
      assertThat(server.getParentSpanId()).isEqualTo(client.getSpanId());
      assertThat(server.getTraceId()).isEqualTo(client.getTraceId());
    }
    double perSpan = OtlpSpans.toBytes(spans).length / 512.0;
    assertThat(perSpan).isBetween(130.0, 170.0);
    assertThat(OtlpSpans.toBytes(SpanFixtures.telemetrygenSpans(512))).isEqualTo(OtlpSpans.toBytes(spans));
  }
}
