package dev.spillway.core.export.internal;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.TraceStateBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link SpanData} to and from an OTLP {@link ExportTraceServiceRequest}, written against the
 * public {@code io.opentelemetry.proto} classes (the SDK's own marshalers are internal API).
 *
 * <p><b>Not API.</b> This package may change in any release.
 *
 * <p>What OTLP cannot carry, and what a decoded span therefore has instead:
 *
 * <ul>
 *   <li>the parent's trace flags and trace state (OTLP has only {@code parent_span_id} and the
 *       parent's is-remote bit in {@code flags}): the decoded parent context carries the span's own
 *       flags and state, which is what the SDK gives a local child;
 *   <li>the Java type of an empty array attribute (decoded as an empty string array), and of a
 *       {@code VALUE} attribute that held a plain scalar (decoded as that scalar's key type).
 * </ul>
 *
 * Each of these encodes to the same OTLP bytes again, so a replayed span reaches the backend as it
 * was produced.
 */
public final class OtlpSpans {
  /** W3C trace flags in the low byte of {@code Span.flags} and {@code Link.flags}. */
  static final int TRACE_FLAGS_MASK = 0xff;
  /** {@code SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK}: the next bit is meaningful. */
  static final int HAS_IS_REMOTE = 0x100;
  /** {@code SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK}: the parent (or linked) context was remote. */
  static final int IS_REMOTE = 0x200;

  private OtlpSpans() {}

  /**
   * One request holding {@code spans}, grouped by resource, then by instrumentation scope, each
   * group in order of first appearance and the spans of a group in their given order.
   */
  public static ExportTraceServiceRequest toRequest(Collection<? extends SpanData> spans) {
    Map<Resource, Map<InstrumentationScopeInfo, List<Span>>> grouped = new LinkedHashMap<>();
    for (SpanData s : spans) {
      grouped
          .computeIfAbsent(s.getResource(), r -> new LinkedHashMap<>())
          .computeIfAbsent(s.getInstrumentationScopeInfo(), i -> new ArrayList<>())
          .add(toProto(s));
    }
    ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
    grouped.forEach(
        (resource, byScope) -> {
          ResourceSpans.Builder rs = ResourceSpans.newBuilder().setResource(OtlpResourceScope.toProto(resource));
          if (resource.getSchemaUrl() != null) {
            rs.setSchemaUrl(resource.getSchemaUrl());
          }
          byScope.forEach(
              (scope, protoSpans) -> {
                ScopeSpans.Builder ss =
                    ScopeSpans.newBuilder().setScope(OtlpResourceScope.toProto(scope)).addAllSpans(protoSpans);
                if (scope.getSchemaUrl() != null) {
                  ss.setSchemaUrl(scope.getSchemaUrl());
                }
                rs.addScopeSpans(ss);
              });
          request.addResourceSpans(rs);
        });
    return request.build();
  }

  /**
   * The bytes of {@link #toRequest}{@code (spans)}, written directly without building the protobuf
   * objects, in one pass (see {@code OtlpTraceWriter}).
   */
  public static byte[] toBytes(Collection<? extends SpanData> spans) {
    return OtlpTraceWriter.write(spans);
  }

  /** Every span of {@code request}, in request order. */
  public static List<SpanData> fromRequest(ExportTraceServiceRequest request) {
    List<SpanData> out = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      Resource resource = OtlpResourceScope.fromProto(rs.getResource(), rs.getSchemaUrl());
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        InstrumentationScopeInfo scope = OtlpResourceScope.fromProto(ss.getScope(), ss.getSchemaUrl());
        for (Span span : ss.getSpansList()) {
          out.add(fromProto(span, scope, resource));
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ encode

  static Span toProto(SpanData s) {
    SpanContext sc = s.getSpanContext();
    SpanContext parent = s.getParentSpanContext();
    Span.Builder b =
        Span.newBuilder()
            .setTraceId(ByteString.copyFrom(sc.getTraceIdBytes()))
            .setSpanId(ByteString.copyFrom(sc.getSpanIdBytes()))
            .setTraceState(encodeTraceState(sc.getTraceState()))
            .setFlags(flags(sc.getTraceFlags(), parent.isRemote()))
            .setName(s.getName())
            .setKind(toProto(s.getKind()))
            .setStartTimeUnixNano(s.getStartEpochNanos())
            .setEndTimeUnixNano(s.getEndEpochNanos())
            .addAllAttributes(OtlpAttributes.toProto(s.getAttributes()))
            .setDroppedAttributesCount(s.getTotalAttributeCount() - s.getAttributes().size())
            .setDroppedEventsCount(s.getTotalRecordedEvents() - s.getEvents().size())
            .setDroppedLinksCount(s.getTotalRecordedLinks() - s.getLinks().size())
            .setStatus(toProto(s.getStatus()));
    if (parent.isValid()) {
      b.setParentSpanId(ByteString.copyFrom(parent.getSpanIdBytes()));
    }
    for (EventData e : s.getEvents()) {
      b.addEvents(
          Span.Event.newBuilder()
              .setTimeUnixNano(e.getEpochNanos())
              .setName(e.getName())
              .addAllAttributes(OtlpAttributes.toProto(e.getAttributes()))
              .setDroppedAttributesCount(e.getTotalAttributeCount() - e.getAttributes().size()));
    }
    for (LinkData l : s.getLinks()) {
      SpanContext lc = l.getSpanContext();
      b.addLinks(
          Span.Link.newBuilder()
              .setTraceId(ByteString.copyFrom(lc.getTraceIdBytes()))
              .setSpanId(ByteString.copyFrom(lc.getSpanIdBytes()))
              .setTraceState(encodeTraceState(lc.getTraceState()))
              .addAllAttributes(OtlpAttributes.toProto(l.getAttributes()))
              .setDroppedAttributesCount(l.getTotalAttributeCount() - l.getAttributes().size())
              .setFlags(flags(lc.getTraceFlags(), lc.isRemote())));
    }
    return b.build();
  }

  static int flags(TraceFlags traceFlags, boolean remote) {
    return (traceFlags.asByte() & TRACE_FLAGS_MASK) | HAS_IS_REMOTE | (remote ? IS_REMOTE : 0);
  }

  static int kindNumber(SpanKind kind) {
    return toProto(kind).getNumber();
  }

  static int statusCodeNumber(StatusCode code) {
    return toProto(code).getNumber();
  }

  private static Span.SpanKind toProto(SpanKind kind) {
    return switch (kind) {
      case INTERNAL -> Span.SpanKind.SPAN_KIND_INTERNAL;
      case SERVER -> Span.SpanKind.SPAN_KIND_SERVER;
      case CLIENT -> Span.SpanKind.SPAN_KIND_CLIENT;
      case PRODUCER -> Span.SpanKind.SPAN_KIND_PRODUCER;
      case CONSUMER -> Span.SpanKind.SPAN_KIND_CONSUMER;
    };
  }

  private static Status toProto(StatusData status) {
    return Status.newBuilder().setCode(toProto(status.getStatusCode())).setMessage(status.getDescription()).build();
  }

  private static Status.StatusCode toProto(StatusCode code) {
    return switch (code) {
      case UNSET -> Status.StatusCode.STATUS_CODE_UNSET;
      case OK -> Status.StatusCode.STATUS_CODE_OK;
      case ERROR -> Status.StatusCode.STATUS_CODE_ERROR;
    };
  }

  /** The W3C {@code tracestate} header form: {@code key=value} pairs joined by commas. */
  static String encodeTraceState(TraceState state) {
    if (state.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    state.forEach(
        (k, v) -> {
          if (sb.length() > 0) {
            sb.append(',');
          }
          sb.append(k).append('=').append(v);
        });
    return sb.toString();
  }

  // ------------------------------------------------------------------ decode

  private static SpanData fromProto(Span span, InstrumentationScopeInfo scope, Resource resource) {
    String traceId = traceId(span.getTraceId());
    TraceFlags traceFlags = TraceFlags.fromByte((byte) (span.getFlags() & TRACE_FLAGS_MASK));
    TraceState traceState = decodeTraceState(span.getTraceState());
    SpanContext context =
        SpanContext.create(traceId, spanId(span.getSpanId()), traceFlags, traceState);
    SpanContext parent = SpanContext.getInvalid();
    if (!span.getParentSpanId().isEmpty()) {
      String parentId = spanId(span.getParentSpanId());
      parent =
          isRemote(span.getFlags())
              ? SpanContext.createFromRemoteParent(traceId, parentId, traceFlags, traceState)
              : SpanContext.create(traceId, parentId, traceFlags, traceState);
    }
    List<EventData> events = new ArrayList<>(span.getEventsCount());
    for (Span.Event e : span.getEventsList()) {
      events.add(
          EventData.create(
              e.getTimeUnixNano(),
              e.getName(),
              OtlpAttributes.fromProto(e.getAttributesList()),
              e.getAttributesCount() + e.getDroppedAttributesCount()));
    }
    List<LinkData> links = new ArrayList<>(span.getLinksCount());
    for (Span.Link l : span.getLinksList()) {
      TraceFlags lf = TraceFlags.fromByte((byte) (l.getFlags() & TRACE_FLAGS_MASK));
      TraceState ls = decodeTraceState(l.getTraceState());
      String lt = traceId(l.getTraceId());
      String lsid = spanId(l.getSpanId());
      SpanContext lc =
          isRemote(l.getFlags())
              ? SpanContext.createFromRemoteParent(lt, lsid, lf, ls)
              : SpanContext.create(lt, lsid, lf, ls);
      links.add(
          LinkData.create(
              lc,
              OtlpAttributes.fromProto(l.getAttributesList()),
              l.getAttributesCount() + l.getDroppedAttributesCount()));
    }
    return new OtlpSpanData(
        span.getName(),
        fromProto(span.getKind()),
        context,
        parent,
        fromProto(span.getStatus()),
        span.getStartTimeUnixNano(),
        span.getEndTimeUnixNano(),
        OtlpAttributes.fromProto(span.getAttributesList()),
        span.getAttributesCount() + span.getDroppedAttributesCount(),
        events,
        span.getEventsCount() + span.getDroppedEventsCount(),
        links,
        span.getLinksCount() + span.getDroppedLinksCount(),
        scope,
        resource);
  }

  private static boolean isRemote(int flags) {
    return (flags & (HAS_IS_REMOTE | IS_REMOTE)) == (HAS_IS_REMOTE | IS_REMOTE);
  }

  private static String traceId(ByteString bytes) {
    return bytes.size() == TraceId.getLength() / 2
        ? TraceId.fromBytes(bytes.toByteArray())
        : TraceId.getInvalid();
  }

  private static String spanId(ByteString bytes) {
    return bytes.size() == SpanId.getLength() / 2
        ? SpanId.fromBytes(bytes.toByteArray())
        : SpanId.getInvalid();
  }

  private static SpanKind fromProto(Span.SpanKind kind) {
    return switch (kind) {
      case SPAN_KIND_SERVER -> SpanKind.SERVER;
      case SPAN_KIND_CLIENT -> SpanKind.CLIENT;
      case SPAN_KIND_PRODUCER -> SpanKind.PRODUCER;
      case SPAN_KIND_CONSUMER -> SpanKind.CONSUMER;
      default -> SpanKind.INTERNAL;
    };
  }

  private static StatusData fromProto(Status status) {
    StatusCode code =
        switch (status.getCode()) {
          case STATUS_CODE_OK -> StatusCode.OK;
          case STATUS_CODE_ERROR -> StatusCode.ERROR;
          default -> StatusCode.UNSET;
        };
    return StatusData.create(code, status.getMessage());
  }

  /** Parses the W3C header form back, keeping the entries' order. Malformed members are skipped. */
  static TraceState decodeTraceState(String header) {
    if (header.isEmpty()) {
      return TraceState.getDefault();
    }
    String[] members = header.split(",");
    TraceStateBuilder b = TraceState.builder();
    // The builder puts each new entry first (W3C: an updated key moves to the front), so add the
    // last member first to keep the header's order.
    for (int i = members.length - 1; i >= 0; i--) {
      String m = members[i].trim();
      int eq = m.indexOf('=');
      if (eq > 0) {
        b.put(m.substring(0, eq), m.substring(eq + 1));
      }
    }
    return b.build();
  }
}
