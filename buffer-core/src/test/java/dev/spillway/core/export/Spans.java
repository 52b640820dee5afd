package dev.spillway.core.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.export.internal.SdkEncoding;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;

/** Spans for exporter tests: every attribute type and a canary, and checks on what arrived. */
final class Spans {
  static final String CANARY = "CANARY-7f3e-enduser.ssn=078-05-1120";
  static final AttributeKey<Long> SEQ = AttributeKey.longKey("seq");

  private Spans() {}

  /** Ends spans {@code from..to-1} in order, each carrying its number as {@code seq}. */
  static void emit(Tracer tracer, int from, int to) {
    SpanContext remoteParent =
        SpanContext.createFromRemoteParent(
            "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", TraceFlags.getSampled(),
            TraceState.builder().put("vendor", "x1").put("other", "y2").build());
    for (int i = from; i < to; i++) {
      var builder =
          tracer
              .spanBuilder("op-" + i)
              .setSpanKind(SpanKind.values()[i % SpanKind.values().length])
              .setAttribute(SEQ, (long) i)
              .setAttribute("enduser.note", CANARY)
              .setAttribute("flag", i % 2 == 0)
              .setAttribute("ratio", i / 7.0)
              .setAttribute(AttributeKey.stringArrayKey("tags"), List.of("a", "b" + i))
              .setAttribute(AttributeKey.longArrayKey("sizes"), List.of((long) i, -1L))
              .setAttribute(AttributeKey.doubleArrayKey("weights"), List.of(0.5, i * 1.5))
              .setAttribute(AttributeKey.booleanArrayKey("bits"), List.of(true, false))
              .addLink(remoteParent, Attributes.of(AttributeKey.stringKey("link.k"), "l" + i));
      if (i % 2 == 0) {
        builder.setParent(Context.root().with(Span.wrap(remoteParent)));
      }
      Span span = builder.startSpan();
      span.addEvent("event", Attributes.of(AttributeKey.stringKey("event.k"), "e" + i, SEQ, (long) i));
      switch (i % 3) {
        case 0 -> span.setStatus(StatusCode.ERROR, "failed " + i);
        case 1 -> span.setStatus(StatusCode.OK);
        default -> {}
      }
      span.end();
    }
  }

  /** Asserts that {@code received} holds exactly the spans the SDK produced, as its exporter sends them. */
  static void assertExactly(List<ResourceSpans> received, Collection<SpanData> produced) {
    assertExactlyPerSpan(received, SdkEncoding.perSpan(SdkEncoding.of(produced)));
  }

  /** Asserts that {@code received} holds exactly {@code expected} (both one span per entry). */
  static void assertExactlyPerSpan(List<ResourceSpans> received, List<ResourceSpans> expectedPerSpan) {
    List<ResourceSpans> expected = new ArrayList<>(expectedPerSpan);
    expected.sort(java.util.Comparator.comparing(Spans::idKey));
    List<ResourceSpans> actual = new ArrayList<>(received);
    actual.sort(java.util.Comparator.comparing(Spans::idKey));
    assertThat(seqs(actual)).as("seq of each received span, by id").isEqualTo(seqs(expected));
    for (int i = 0; i < expected.size(); i++) {
      assertThat(actual.get(i))
          .as("span %s", expected.get(i).getScopeSpans(0).getSpans(0).getName())
          .isEqualTo(expected.get(i));
    }
  }

  /** The {@code seq} attributes in arrival order. */
  static List<Long> seqs(List<ResourceSpans> received) {
    List<Long> out = new ArrayList<>();
    for (ResourceSpans rs : received) {
      for (KeyValue kv : rs.getScopeSpans(0).getSpans(0).getAttributesList()) {
        if (kv.getKey().equals(SEQ.getKey())) {
          out.add(kv.getValue().getIntValue());
        }
      }
    }
    return out;
  }

  static List<Long> range(long from, long to) {
    return java.util.stream.LongStream.range(from, to).boxed().toList();
  }

  private static String idKey(ResourceSpans rs) {
    var s = rs.getScopeSpans(0).getSpans(0);
    return java.util.HexFormat.of().formatHex(s.getTraceId().toByteArray())
        + java.util.HexFormat.of().formatHex(s.getSpanId().toByteArray());
  }

  /** The files under {@code dir} whose bytes contain the canary. */
  static List<Path> filesWithCanary(Path dir) {
    return dev.spillway.core.SpillFixtures.filesContaining(dir, CANARY.getBytes(StandardCharsets.UTF_8));
  }

  /** Spill segment files (Chronicle cycle files) under {@code dir}, with their sizes. */
  static long segmentBytes(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(f -> f.toString().endsWith(".cq4")).mapToLong(f -> f.toFile().length()).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
