package dev.spillway.core.export.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OtlpSpansTest {
  private static final int SPANS = 3_000;

  @Test
  void toRequest_generatedSpans_isWhatTheSdkPutsOnTheWire() {
    SpanGenerator gen = new SpanGenerator(1, false);
    Random batching = new Random(2);
    for (int done = 0; done < SPANS; ) {
      List<SpanData> batch = gen.spans(1 + batching.nextInt(200));
      done += batch.size();
      assertThat(SdkEncoding.perSpanSorted(OtlpSpans.toRequest(batch)))
          .isEqualTo(SdkEncoding.perSpanSorted(SdkEncoding.of(batch)));
    }
  }

  @Test
  void toBytes_generatedSpans_areTheProtobufObjectsBytesExactly() {
    // every attribute shape, events, links, trace states, dropped counts, statuses, several
    // resources and scopes with and without schema URLs (SpanGenerator)
    for (boolean severalResources : new boolean[] {false, true}) {
      SpanGenerator gen = new SpanGenerator(11, severalResources);
      Random batching = new Random(12);
      for (int done = 0; done < SPANS; ) {
        List<SpanData> batch = gen.spans(1 + batching.nextInt(200));
        done += batch.size();
        assertThat(OtlpSpans.toBytes(batch)).isEqualTo(OtlpSpans.toRequest(batch).toByteArray());
      }
    }
  }

  @Test
  void toBytes_decodedSpans_areTheProtobufObjectsBytesExactly() throws Exception {
    // decoded spans carry WireOrderAttributes and VALUE keys for what the generator's typed keys
    // cannot express; replaying them must write the same bytes either way
    SpanGenerator gen = new SpanGenerator(13, true);
    for (int i = 0; i < 20; i++) {
      List<SpanData> decoded =
          OtlpSpans.fromRequest(ExportTraceServiceRequest.parseFrom(OtlpSpans.toBytes(gen.spans(100))));
      assertThat(OtlpSpans.toBytes(decoded)).isEqualTo(OtlpSpans.toRequest(decoded).toByteArray());
    }
  }

  @Test
  void toBytes_noSpans_isAnEmptyRequest() {
    assertThat(OtlpSpans.toBytes(List.of())).isEmpty();
  }

  @Test
  void fromRequest_generatedSpans_equalTheOriginalsFieldByField() throws Exception {
    SpanGenerator gen = new SpanGenerator(3, true);
    Random batching = new Random(4);
    for (int done = 0; done < SPANS; ) {
      List<SpanData> batch = gen.spans(1 + batching.nextInt(200));
      done += batch.size();
      byte[] wire = OtlpSpans.toRequest(batch).toByteArray();
      List<SpanData> decoded = OtlpSpans.fromRequest(ExportTraceServiceRequest.parseFrom(wire));
      assertThat(decoded).hasSameSizeAs(batch);
      // Decoding keeps request order, which groups by resource and scope; match by id.
      for (SpanData expected : batch) {
        SpanData actual =
            decoded.stream()
                .filter(s -> s.getSpanContext().equals(expected.getSpanContext()))
                .findFirst()
                .orElseThrow();
        assertSameSpan(actual, expected);
      }
    }
  }

  @Test
  void fromRequest_anyAttributeTypes_reachTheWireAsOriginallyEncoded() throws Exception {
    SpanGenerator gen = new SpanGenerator(5, false);
    Random batching = new Random(6);
    for (int done = 0; done < SPANS; ) {
      List<SpanData> batch = gen.spans(1 + batching.nextInt(200));
      done += batch.size();
      List<SpanData> decoded =
          OtlpSpans.fromRequest(
              ExportTraceServiceRequest.parseFrom(OtlpSpans.toRequest(batch).toByteArray()));
      // What the SDK's OTLP exporter sends for the replayed spans is what it sent for the originals.
      assertThat(SdkEncoding.perSpanSorted(SdkEncoding.of(decoded)))
          .isEqualTo(SdkEncoding.perSpanSorted(SdkEncoding.of(batch)));
    }
  }

  @Test
  void toRequest_spansOfSeveralResourcesAndScopes_groupsInFirstAppearanceOrder() {
    List<SpanData> spans = new SpanGenerator(7, true).spans(300);
    ExportTraceServiceRequest request = OtlpSpans.toRequest(spans);
    List<String> expected = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          expected.add(s.getName());
        }
      }
    }
    // Within each (resource, scope) group the spans keep their given order.
    List<String> decodedNames = OtlpSpans.fromRequest(request).stream().map(SpanData::getName).toList();
    assertThat(decodedNames).isEqualTo(expected);
    assertThat(request.getResourceSpansCount()).isEqualTo(3);
    for (ResourceSpans rs : request.getResourceSpansList()) {
      List<Integer> seq = new ArrayList<>();
      rs.getScopeSpansList()
          .forEach(ss -> ss.getSpansList().forEach(s -> seq.add(Integer.parseInt(s.getName().split("-")[1]))));
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        List<Integer> inScope =
            ss.getSpansList().stream().map(s -> Integer.parseInt(s.getName().split("-")[1])).toList();
        assertThat(inScope).isSorted();
      }
    }
  }

  @Test
  void traceState_roundTrip_keepsEntriesAndOrder() {
    TraceState state = TraceState.builder().put("a", "1").put("b", "2").put("c", "3").build();
    String header = OtlpSpans.encodeTraceState(state);
    TraceState decoded = OtlpSpans.decodeTraceState(header);
    assertThat(decoded).isEqualTo(state);
    assertThat(OtlpSpans.encodeTraceState(decoded)).isEqualTo(header);
    assertThat(OtlpSpans.decodeTraceState("")).isEqualTo(TraceState.getDefault());
    assertThat(OtlpSpans.decodeTraceState("x=1 , y=2").asMap()).containsEntry("x", "1").containsEntry("y", "2");
  }

  @Test
  void fromRequest_spanFromAnotherProducer_readsWhatItCanAndDefaultsTheRest() {
    Span foreign =
        Span.newBuilder()
            .setTraceId(ByteString.copyFrom(new byte[16]))
            .setSpanId(ByteString.copyFrom(new byte[] {1, 2, 3})) // not 8 bytes
            .setParentSpanId(ByteString.copyFrom(new byte[] {0, 0, 0, 0, 0, 0, 0, 9}))
            .setFlags(0x201) // is-remote set without has-is-remote: unknown, so local
            .setKind(Span.SpanKind.SPAN_KIND_UNSPECIFIED)
            .setName("foreign")
            .build();
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder().addScopeSpans(ScopeSpans.newBuilder().addSpans(foreign)))
            .build();
    SpanData s = OtlpSpans.fromRequest(request).get(0);
    assertThat(s.getKind()).isEqualTo(SpanKind.INTERNAL);
    assertThat(s.getSpanContext().isValid()).isFalse();
    assertThat(s.getParentSpanContext().isRemote()).isFalse();
    assertThat(s.getSpanContext().getTraceFlags()).isEqualTo(TraceFlags.getSampled());
    assertThat(s.getAttributes()).isEqualTo(Attributes.empty());
    assertThat(s.getInstrumentationScopeInfo().getVersion()).isNull();
    assertThat(s.getResource().getSchemaUrl()).isNull();
    assertThat(s.hasEnded()).isTrue();
  }

  @Test
  void fromRequest_remoteParentAndLink_keepIsRemote() {
    SpanData original = new SpanGenerator(8, true).span(0);
    SpanContext remote =
        SpanContext.createFromRemoteParent(
            original.getTraceId(), "00000000000000aa", original.getSpanContext().getTraceFlags(),
            original.getSpanContext().getTraceState());
    SpanData withRemote =
        io.opentelemetry.sdk.testing.trace.TestSpanData.builder()
            .setSpanContext(original.getSpanContext())
            .setParentSpanContext(remote)
            .setResource(original.getResource())
            .setInstrumentationScopeInfo(original.getInstrumentationScopeInfo())
            .setName("remote-child")
            .setKind(SpanKind.SERVER)
            .setStartEpochNanos(1)
            .setEndEpochNanos(2)
            .setAttributes(Attributes.of(AttributeKey.stringKey("k"), "v"))
            .setStatus(original.getStatus())
            .setHasEnded(true)
            .setTotalRecordedEvents(0)
            .setTotalRecordedLinks(1)
            .setLinks(List.of(io.opentelemetry.sdk.trace.data.LinkData.create(remote)))
            .build();
    SpanData decoded = OtlpSpans.fromRequest(OtlpSpans.toRequest(List.of(withRemote))).get(0);
    assertThat(decoded.getParentSpanContext()).isEqualTo(remote);
    assertThat(decoded.getParentSpanContext().isRemote()).isTrue();
    assertThat(decoded.getLinks().get(0).getSpanContext()).isEqualTo(remote);
  }

  @SuppressWarnings("deprecation")
  static void assertSameSpan(SpanData actual, SpanData expected) {
    String id = expected.getName();
    assertThat(actual.getName()).as(id).isEqualTo(expected.getName());
    assertThat(actual.getKind()).as(id).isEqualTo(expected.getKind());
    assertThat(actual.getSpanContext()).as(id).isEqualTo(expected.getSpanContext());
    assertThat(actual.getSpanContext().isRemote()).as(id).isEqualTo(expected.getSpanContext().isRemote());
    assertThat(actual.getParentSpanContext()).as(id).isEqualTo(expected.getParentSpanContext());
    assertThat(actual.getParentSpanContext().isRemote()).as(id).isEqualTo(expected.getParentSpanContext().isRemote());
    assertThat(actual.getStatus()).as(id).isEqualTo(expected.getStatus());
    assertThat(actual.getStartEpochNanos()).as(id).isEqualTo(expected.getStartEpochNanos());
    assertThat(actual.getEndEpochNanos()).as(id).isEqualTo(expected.getEndEpochNanos());
    assertThat(actual.getAttributes()).as(id).isEqualTo(expected.getAttributes());
    assertThat(actual.getTotalAttributeCount()).as(id).isEqualTo(expected.getTotalAttributeCount());
    assertThat(actual.getEvents()).as(id).isEqualTo(expected.getEvents());
    assertThat(actual.getTotalRecordedEvents()).as(id).isEqualTo(expected.getTotalRecordedEvents());
    assertThat(actual.getLinks()).as(id).isEqualTo(expected.getLinks());
    for (int i = 0; i < expected.getLinks().size(); i++) {
      assertThat(actual.getLinks().get(i).getSpanContext().isRemote())
          .isEqualTo(expected.getLinks().get(i).getSpanContext().isRemote());
    }
    assertThat(actual.getTotalRecordedLinks()).as(id).isEqualTo(expected.getTotalRecordedLinks());
    assertThat(actual.getResource()).as(id).isEqualTo(expected.getResource());
    assertThat(actual.getInstrumentationScopeInfo()).as(id).isEqualTo(expected.getInstrumentationScopeInfo());
    assertThat(actual.getInstrumentationLibraryInfo()).as(id).isEqualTo(expected.getInstrumentationLibraryInfo());
    assertThat(actual.hasEnded()).isTrue();
  }
}
