package dev.spillway.core.export.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The single-pass trace writer's own risks, each against the protobuf objects' bytes and the SDK's
 * marshaler: lengths guessed wrong in both directions (the body moved), the kept buffer and the
 * key cache across requests.
 */
class OtlpTraceWriterTest {
  private static final Resource RESOURCE = Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "w"));
  private static final InstrumentationScopeInfo SCOPE = InstrumentationScopeInfo.create("writer-test");

  @Test
  void toBytes_parsesAsARequestEqualToTheSdkMarshalers() throws Exception {
    for (boolean severalResources : new boolean[] {false, true}) {
      SpanGenerator gen = new SpanGenerator(21, severalResources);
      Random batching = new Random(22);
      for (int done = 0; done < 2_000; ) {
        List<SpanData> batch = gen.spans(1 + batching.nextInt(300));
        done += batch.size();
        ExportTraceServiceRequest parsed = ExportTraceServiceRequest.parseFrom(OtlpSpans.toBytes(batch));
        assertThat(SdkEncoding.perSpanSorted(parsed)).isEqualTo(SdkEncoding.perSpanSorted(SdkEncoding.of(batch)));
      }
    }
  }

  @Test
  void toBytes_messagesLongerAndShorterThanTheirReservedLength_areExact() throws Exception {
    List<SpanData> spans = new ArrayList<>();
    spans.add(span(0, Attributes.empty(), List.of())); // a span under 128 bytes: one length byte, not two
    spans.add(span(1, Attributes.of(AttributeKey.stringKey("big"), "x".repeat(20_000)), List.of())); // three
    spans.add(span(2, Attributes.of(AttributeKey.longArrayKey("longs"), longs(40)), // array value over 127 bytes
        List.of(EventData.create(5, "e", Attributes.of(AttributeKey.stringKey("m"), "y".repeat(300))))));
    spans.add(span(3, Attributes.of(AttributeKey.booleanKey("b"), true), List.of(EventData.create(6, "", Attributes.empty()))));
    assertSameBytes(spans);
    // a batch over 2 MiB: the resource and scope groups need four length bytes, not three
    List<SpanData> large = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      large.add(span(10 + i, Attributes.of(AttributeKey.stringKey("payload"), "z".repeat(8_000)), List.of()));
    }
    assertSameBytes(large);
    assertThat(OtlpSpans.toBytes(large).length).isGreaterThan(2 << 20);
  }

  @Test
  void toBytes_keysOfEqualTextInOtherInstancesOrUsedAsEventNames_areWrittenAlike() throws Exception {
    // the key cache is by identity and field number: equal text in fresh String instances, a key
    // whose text is also an event name (another field number), non-ASCII keys
    List<SpanData> spans = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      AttributesBuilder a = Attributes.builder();
      a.put(new String("http.route".toCharArray()), "/r/" + i);
      a.put("ключ-" + (i % 3), "значение " + i + " \uD800 lone surrogate");
      a.put("e", i);
      spans.add(span(100 + i, a.build(), List.of(EventData.create(i + 1L, "e", Attributes.of(AttributeKey.stringKey("e"), "v")))));
    }
    assertSameBytes(spans);
  }

  @Test
  void toBytes_alternatingLargeAndSmallBatches_reuseTheBufferCleanly() throws Exception {
    SpanGenerator gen = new SpanGenerator(31, true);
    for (int i = 0; i < 20; i++) {
      assertSameBytes(gen.spans(i % 2 == 0 ? 900 : 3));
    }
    assertThat(OtlpSpans.toBytes(List.of())).isEmpty();
  }

  private static void assertSameBytes(List<SpanData> spans) throws Exception {
    byte[] written = OtlpSpans.toBytes(spans);
    assertThat(written).isEqualTo(OtlpSpans.toRequest(spans).toByteArray());
    assertThat(SdkEncoding.perSpanSorted(ExportTraceServiceRequest.parseFrom(written)))
        .isEqualTo(SdkEncoding.perSpanSorted(SdkEncoding.of(spans)));
  }

  private static List<Long> longs(int n) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Long.MAX_VALUE - i);
    }
    return out;
  }

  private static SpanData span(int index, Attributes attributes, List<EventData> events) {
    String traceId = String.format("%032x", index + 1);
    String spanId = String.format("%016x", index + 1);
    return TestSpanData.builder()
        .setSpanContext(SpanContext.create(traceId, spanId, TraceFlags.getSampled(), TraceState.getDefault()))
        .setResource(RESOURCE)
        .setInstrumentationScopeInfo(SCOPE)
        .setName("s" + index)
        .setKind(SpanKind.CLIENT)
        .setStartEpochNanos(1_000 + index)
        .setEndEpochNanos(2_000 + index)
        .setAttributes(attributes)
        .setTotalAttributeCount(attributes.size())
        .setEvents(events)
        .setTotalRecordedEvents(events.size())
        .setStatus(StatusData.unset())
        .setHasEnded(true)
        .build();
  }
}
