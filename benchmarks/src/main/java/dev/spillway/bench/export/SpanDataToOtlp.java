package dev.spillway.bench.export;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal SDK {@link SpanData} → OTLP {@code ExportTraceServiceRequest} mapping, written for the
 * embedded-path benchmark because buffer-core has no such mapping yet (no {@code
 * dev.spillway.core.export.internal} on main when this was written). It builds the generated
 * protobuf objects, as a straightforward embedder would; the SDK's own exporter streams its
 * marshalers instead, which {@code EmbeddedPathBenchmark} measures too.
 */
public final class SpanDataToOtlp {
  private SpanDataToOtlp() {}

  public static ExportTraceServiceRequest request(Collection<SpanData> spans) {
    Map<Resource, Map<InstrumentationScopeInfo, ScopeSpans.Builder>> grouped = new LinkedHashMap<>();
    for (SpanData s : spans) {
      grouped
          .computeIfAbsent(s.getResource(), k -> new LinkedHashMap<>())
          .computeIfAbsent(s.getInstrumentationScopeInfo(), SpanDataToOtlp::scope)
          .addSpans(span(s));
    }
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    for (Map.Entry<Resource, Map<InstrumentationScopeInfo, ScopeSpans.Builder>> e : grouped.entrySet()) {
      ResourceSpans.Builder rs = ResourceSpans.newBuilder()
          .setResource(io.opentelemetry.proto.resource.v1.Resource.newBuilder()
              .addAllAttributes(attributes(e.getKey().getAttributes())));
      if (e.getKey().getSchemaUrl() != null) {
        rs.setSchemaUrl(e.getKey().getSchemaUrl());
      }
      for (ScopeSpans.Builder ss : e.getValue().values()) {
        rs.addScopeSpans(ss);
      }
      req.addResourceSpans(rs);
    }
    return req.build();
  }

  private static ScopeSpans.Builder scope(InstrumentationScopeInfo info) {
    InstrumentationScope.Builder b = InstrumentationScope.newBuilder().setName(info.getName());
    if (info.getVersion() != null) {
      b.setVersion(info.getVersion());
    }
    ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(b);
    if (info.getSchemaUrl() != null) {
      ss.setSchemaUrl(info.getSchemaUrl());
    }
    return ss;
  }

  static Span span(SpanData s) {
    Span.Builder b = Span.newBuilder()
        .setTraceId(id(s.getSpanContext().getTraceId()))
        .setSpanId(id(s.getSpanContext().getSpanId()))
        .setName(s.getName())
        .setKind(Span.SpanKind.forNumber(s.getKind().ordinal() + 1))
        .setStartTimeUnixNano(s.getStartEpochNanos())
        .setEndTimeUnixNano(s.getEndEpochNanos())
        .addAllAttributes(attributes(s.getAttributes()))
        .setDroppedAttributesCount(s.getTotalAttributeCount() - s.getAttributes().size())
        .setDroppedEventsCount(s.getTotalRecordedEvents() - s.getEvents().size())
        .setDroppedLinksCount(s.getTotalRecordedLinks() - s.getLinks().size())
        .setFlags(s.getSpanContext().getTraceFlags().asByte() & 0xff);
    String state = s.getSpanContext().getTraceState().isEmpty() ? "" : traceState(s.getSpanContext());
    if (!state.isEmpty()) {
      b.setTraceState(state);
    }
    if (s.getParentSpanContext().isValid()) {
      b.setParentSpanId(id(s.getParentSpanContext().getSpanId()));
    }
    for (EventData e : s.getEvents()) {
      b.addEvents(Span.Event.newBuilder()
          .setTimeUnixNano(e.getEpochNanos())
          .setName(e.getName())
          .addAllAttributes(attributes(e.getAttributes()))
          .setDroppedAttributesCount(e.getTotalAttributeCount() - e.getAttributes().size()));
    }
    for (LinkData l : s.getLinks()) {
      b.addLinks(Span.Link.newBuilder()
          .setTraceId(id(l.getSpanContext().getTraceId()))
          .setSpanId(id(l.getSpanContext().getSpanId()))
          .addAllAttributes(attributes(l.getAttributes())));
    }
    Status.StatusCode code = switch (s.getStatus().getStatusCode()) {
      case OK -> Status.StatusCode.STATUS_CODE_OK;
      case ERROR -> Status.StatusCode.STATUS_CODE_ERROR;
      case UNSET -> Status.StatusCode.STATUS_CODE_UNSET;
    };
    b.setStatus(Status.newBuilder().setCode(code).setMessage(s.getStatus().getDescription()));
    return b.build();
  }

  private static String traceState(SpanContext ctx) {
    StringBuilder sb = new StringBuilder();
    ctx.getTraceState().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(v));
    return sb.toString();
  }

  private static ByteString id(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }

  static List<KeyValue> attributes(Attributes attributes) {
    List<KeyValue> out = new java.util.ArrayList<>(attributes.size());
    attributes.forEach((k, v) -> out.add(KeyValue.newBuilder().setKey(k.getKey()).setValue(value(k, v)).build()));
    return out;
  }

  private static AnyValue value(AttributeKey<?> key, Object v) {
    return switch (key.getType()) {
      case STRING -> AnyValue.newBuilder().setStringValue((String) v).build();
      case BOOLEAN -> AnyValue.newBuilder().setBoolValue((Boolean) v).build();
      case LONG -> AnyValue.newBuilder().setIntValue((Long) v).build();
      case DOUBLE -> AnyValue.newBuilder().setDoubleValue((Double) v).build();
      default -> {
        ArrayValue.Builder arr = ArrayValue.newBuilder();
        for (Object o : (List<?>) v) {
          AnyValue.Builder item = AnyValue.newBuilder();
          if (o instanceof String str) {
            item.setStringValue(str);
          } else if (o instanceof Boolean bo) {
            item.setBoolValue(bo);
          } else if (o instanceof Long l) {
            item.setIntValue(l);
          } else if (o instanceof Double d) {
            item.setDoubleValue(d);
          } else {
            item.setStringValue(String.valueOf(o));
          }
          arr.addValues(item);
        }
        yield AnyValue.newBuilder().setArrayValue(arr).build();
      }
    };
  }
}
