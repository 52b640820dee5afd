package dev.spillway.core.export.internal;

import com.google.protobuf.CodedOutputStream;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.io.IOException;
import java.util.Collection;

/**
 * Writes {@link SpanData} as the bytes of an OTLP {@code ExportTraceServiceRequest} without
 * building the protobuf objects: the bytes {@code OtlpSpans.toRequest(spans).toByteArray()} gives
 * (the tests hold it to that, byte for byte), in about 60 % of the time on the benchmark spans
 * (docs/BENCHMARKS.md). See {@link OtlpTwoPassWriter} for the two passes and what all signals
 * share; this class writes a {@code Span} and what it nests, in field-number order.
 */
final class OtlpTraceWriter extends OtlpTwoPassWriter<SpanData> {
  // Span
  private static final int SPAN_TRACE_ID = 1;
  private static final int SPAN_SPAN_ID = 2;
  private static final int SPAN_TRACE_STATE = 3;
  private static final int SPAN_PARENT_SPAN_ID = 4;
  private static final int SPAN_NAME = 5;
  private static final int SPAN_KIND = 6;
  private static final int SPAN_START = 7;
  private static final int SPAN_END = 8;
  private static final int SPAN_ATTRIBUTES = 9;
  private static final int SPAN_DROPPED_ATTRIBUTES = 10;
  private static final int SPAN_EVENTS = 11;
  private static final int SPAN_DROPPED_EVENTS = 12;
  private static final int SPAN_LINKS = 13;
  private static final int SPAN_DROPPED_LINKS = 14;
  private static final int SPAN_STATUS = 15;
  private static final int SPAN_FLAGS = 16;
  // Span.Event, Span.Link, Status
  private static final int EVENT_TIME = 1;
  private static final int EVENT_NAME = 2;
  private static final int EVENT_ATTRIBUTES = 3;
  private static final int EVENT_DROPPED_ATTRIBUTES = 4;
  private static final int LINK_TRACE_ID = 1;
  private static final int LINK_SPAN_ID = 2;
  private static final int LINK_TRACE_STATE = 3;
  private static final int LINK_ATTRIBUTES = 4;
  private static final int LINK_DROPPED_ATTRIBUTES = 5;
  private static final int LINK_FLAGS = 6;
  private static final int STATUS_MESSAGE = 2;
  private static final int STATUS_CODE = 3;
  private static final int TRACE_ID_BYTES = 16;
  private static final int SPAN_ID_BYTES = 8;

  private OtlpTraceWriter() {}

  /** The spans as one request, grouped as {@code OtlpSpans.toRequest} groups them. */
  static byte[] write(Collection<? extends SpanData> spans) {
    return new OtlpTraceWriter().writeRequest(spans);
  }

  @Override
  Resource resourceOf(SpanData span) {
    return span.getResource();
  }

  @Override
  InstrumentationScopeInfo scopeOf(SpanData span) {
    return span.getInstrumentationScopeInfo();
  }

  // ------------------------------------------------------------------ the size pass

  @Override
  int sizeItem(SpanData s) {
    int slot = reserve();
    SpanContext sc = s.getSpanContext();
    SpanContext parent = s.getParentSpanContext();
    int size = idField(SPAN_TRACE_ID, TRACE_ID_BYTES)
        + idField(SPAN_SPAN_ID, SPAN_ID_BYTES)
        + string(SPAN_TRACE_STATE, OtlpSpans.encodeTraceState(sc.getTraceState()))
        + (parent.isValid() ? idField(SPAN_PARENT_SPAN_ID, SPAN_ID_BYTES) : 0)
        + string(SPAN_NAME, s.getName())
        + enumValue(SPAN_KIND, OtlpSpans.kindNumber(s.getKind()))
        + fixed64(SPAN_START, s.getStartEpochNanos())
        + fixed64(SPAN_END, s.getEndEpochNanos())
        + sizeAttributes(SPAN_ATTRIBUTES, s.getAttributes())
        + uint32(SPAN_DROPPED_ATTRIBUTES, s.getTotalAttributeCount() - s.getAttributes().size());
    for (EventData e : s.getEvents()) {
      size += field(SPAN_EVENTS, sizeEvent(e));
    }
    size += uint32(SPAN_DROPPED_EVENTS, s.getTotalRecordedEvents() - s.getEvents().size());
    for (LinkData l : s.getLinks()) {
      size += field(SPAN_LINKS, sizeLink(l));
    }
    size += uint32(SPAN_DROPPED_LINKS, s.getTotalRecordedLinks() - s.getLinks().size());
    size += field(SPAN_STATUS, sizeStatus(s.getStatus()));
    size += fixed32(SPAN_FLAGS, OtlpSpans.flags(sc.getTraceFlags(), parent.isRemote()));
    setSize(slot, size);
    return size;
  }

  private int sizeEvent(EventData e) {
    int slot = reserve();
    int size = fixed64(EVENT_TIME, e.getEpochNanos())
        + string(EVENT_NAME, e.getName())
        + sizeAttributes(EVENT_ATTRIBUTES, e.getAttributes())
        + uint32(EVENT_DROPPED_ATTRIBUTES, e.getTotalAttributeCount() - e.getAttributes().size());
    setSize(slot, size);
    return size;
  }

  private int sizeLink(LinkData l) {
    int slot = reserve();
    SpanContext lc = l.getSpanContext();
    int size = idField(LINK_TRACE_ID, TRACE_ID_BYTES)
        + idField(LINK_SPAN_ID, SPAN_ID_BYTES)
        + string(LINK_TRACE_STATE, OtlpSpans.encodeTraceState(lc.getTraceState()))
        + sizeAttributes(LINK_ATTRIBUTES, l.getAttributes())
        + uint32(LINK_DROPPED_ATTRIBUTES, l.getTotalAttributeCount() - l.getAttributes().size())
        + fixed32(LINK_FLAGS, OtlpSpans.flags(lc.getTraceFlags(), lc.isRemote()));
    setSize(slot, size);
    return size;
  }

  private int sizeStatus(StatusData status) {
    int slot = reserve();
    int size = string(STATUS_MESSAGE, status.getDescription())
        + enumValue(STATUS_CODE, OtlpSpans.statusCodeNumber(status.getStatusCode()));
    setSize(slot, size);
    return size;
  }

  // ------------------------------------------------------------------ the write pass

  @Override
  void writeItem(CodedOutputStream out, SpanData s) throws IOException {
    SpanContext sc = s.getSpanContext();
    SpanContext parent = s.getParentSpanContext();
    writeId(out, SPAN_TRACE_ID, sc.getTraceId(), TRACE_ID_BYTES);
    writeId(out, SPAN_SPAN_ID, sc.getSpanId(), SPAN_ID_BYTES);
    writeString(out, SPAN_TRACE_STATE, OtlpSpans.encodeTraceState(sc.getTraceState()));
    if (parent.isValid()) {
      writeId(out, SPAN_PARENT_SPAN_ID, parent.getSpanId(), SPAN_ID_BYTES);
    }
    writeString(out, SPAN_NAME, s.getName());
    writeEnum(out, SPAN_KIND, OtlpSpans.kindNumber(s.getKind()));
    writeFixed64(out, SPAN_START, s.getStartEpochNanos());
    writeFixed64(out, SPAN_END, s.getEndEpochNanos());
    writeAttributes(out, SPAN_ATTRIBUTES, s.getAttributes());
    writeUInt32(out, SPAN_DROPPED_ATTRIBUTES, s.getTotalAttributeCount() - s.getAttributes().size());
    for (EventData e : s.getEvents()) {
      start(out, SPAN_EVENTS);
      writeFixed64(out, EVENT_TIME, e.getEpochNanos());
      writeString(out, EVENT_NAME, e.getName());
      writeAttributes(out, EVENT_ATTRIBUTES, e.getAttributes());
      writeUInt32(out, EVENT_DROPPED_ATTRIBUTES, e.getTotalAttributeCount() - e.getAttributes().size());
    }
    writeUInt32(out, SPAN_DROPPED_EVENTS, s.getTotalRecordedEvents() - s.getEvents().size());
    for (LinkData l : s.getLinks()) {
      SpanContext lc = l.getSpanContext();
      start(out, SPAN_LINKS);
      writeId(out, LINK_TRACE_ID, lc.getTraceId(), TRACE_ID_BYTES);
      writeId(out, LINK_SPAN_ID, lc.getSpanId(), SPAN_ID_BYTES);
      writeString(out, LINK_TRACE_STATE, OtlpSpans.encodeTraceState(lc.getTraceState()));
      writeAttributes(out, LINK_ATTRIBUTES, l.getAttributes());
      writeUInt32(out, LINK_DROPPED_ATTRIBUTES, l.getTotalAttributeCount() - l.getAttributes().size());
      writeFixed32(out, LINK_FLAGS, OtlpSpans.flags(lc.getTraceFlags(), lc.isRemote()));
    }
    writeUInt32(out, SPAN_DROPPED_LINKS, s.getTotalRecordedLinks() - s.getLinks().size());
    start(out, SPAN_STATUS);
    writeString(out, STATUS_MESSAGE, s.getStatus().getDescription());
    writeEnum(out, STATUS_CODE, OtlpSpans.statusCodeNumber(s.getStatus().getStatusCode()));
    writeFixed32(out, SPAN_FLAGS, OtlpSpans.flags(sc.getTraceFlags(), parent.isRemote()));
  }
}
