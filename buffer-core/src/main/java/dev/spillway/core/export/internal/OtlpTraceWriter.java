package dev.spillway.core.export.internal;

import static dev.spillway.core.export.internal.OtlpCommonFields.ANY_ARRAY;
import static dev.spillway.core.export.internal.OtlpCommonFields.ANY_BOOL;
import static dev.spillway.core.export.internal.OtlpCommonFields.ANY_BYTES;
import static dev.spillway.core.export.internal.OtlpCommonFields.ANY_DOUBLE;
import static dev.spillway.core.export.internal.OtlpCommonFields.ANY_INT;
import static dev.spillway.core.export.internal.OtlpCommonFields.ANY_KVLIST;
import static dev.spillway.core.export.internal.OtlpCommonFields.ANY_STRING;
import static dev.spillway.core.export.internal.OtlpCommonFields.KV_KEY;
import static dev.spillway.core.export.internal.OtlpCommonFields.KV_VALUE;
import static dev.spillway.core.export.internal.OtlpCommonFields.LIST_VALUES;
import static dev.spillway.core.export.internal.OtlpCommonFields.RESOURCE_ATTRIBUTES;
import static dev.spillway.core.export.internal.OtlpCommonFields.SCOPE_ATTRIBUTES;
import static dev.spillway.core.export.internal.OtlpCommonFields.SCOPE_NAME;
import static dev.spillway.core.export.internal.OtlpCommonFields.SCOPE_VERSION;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Writes {@link SpanData} as the bytes of an OTLP {@code ExportTraceServiceRequest} without
 * building the protobuf objects: the bytes {@code OtlpSpans.toRequest(spans).toByteArray()} gives
 * (the tests hold it to that, byte for byte), fields in field-number order, proto3 defaults
 * skipped, a set message field and every {@code oneof} member written even when empty.
 *
 * <p>One pass over the spans into a {@link ProtoSink} reused by the thread (lengths patched in
 * when a message ends), attribute keys and event names taken encoded from an {@link
 * EncodedFieldCache}, ids decoded from hex straight into the output, and a string value's length
 * known before its key-value pair starts, so the pair and its {@code AnyValue} are written with
 * exact lengths. On the benchmark spans this takes 0.57× the CPU of the two-pass writer that
 * logs and metrics still use ({@link OtlpTwoPassWriter}), 0.56–0.68× the SDK's low-allocation
 * marshaler's (benchmarks/RESULTS.md, 2026-11-30).
 *
 * <p>One instance per thread, kept between requests; not re-entrant (a request in progress takes
 * it out of the thread-local).
 */
final class OtlpTraceWriter implements BiConsumer<AttributeKey<?>, Object> {
  // ExportTraceServiceRequest, ResourceSpans, ScopeSpans
  private static final int REQUEST_RESOURCE_SPANS = 1;
  private static final int RS_RESOURCE = 1;
  private static final int RS_SCOPE_SPANS = 2;
  private static final int RS_SCHEMA_URL = 3;
  private static final int SS_SCOPE = 1;
  private static final int SS_SPANS = 2;
  private static final int SS_SCHEMA_URL = 3;
  // Resource, InstrumentationScope
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

  // Length bytes reserved when a message starts: right for almost every message of its kind, so
  // the body is rarely moved (ProtoSink.end). Groups: up to 2 MiB; spans, events, links: up to
  // 16 KiB; key-value pairs, values, statuses: up to 127 bytes.
  private static final int GROUP_LENGTH = 3;
  private static final int ITEM_LENGTH = 2;
  private static final int SMALL_LENGTH = 1;

  /** The writer this thread used last, kept with its buffer for the next request. */
  private static final ThreadLocal<OtlpTraceWriter> KEPT = new ThreadLocal<>();
  /**
   * A buffer grown past this is not kept (a one-off huge batch); a batch of 8192 spans of ~1 KB
   * fits.
   */
  static final int MAX_KEPT_BYTES = 16 << 20;

  private final ProtoSink out = new ProtoSink(64 << 10);
  private final EncodedFieldCache names = new EncodedFieldCache();
  /** The repeated {@code KeyValue} field number of the attribute loop running ({@link #accept}). */
  private int attributesField;

  private OtlpTraceWriter() {}

  /** The spans as one request, grouped as {@code OtlpSpans.toRequest} groups them. */
  static byte[] write(Collection<? extends SpanData> spans) {
    OtlpTraceWriter w = KEPT.get();
    KEPT.remove(); // ours alone until we give it back
    if (w == null) {
      w = new OtlpTraceWriter();
    }
    byte[] bytes = w.writeRequest(spans);
    if (w.out.capacity() <= MAX_KEPT_BYTES) {
      KEPT.set(w);
    }
    return bytes;
  }

  private byte[] writeRequest(Collection<? extends SpanData> spans) {
    out.reset();
    if (!spans.isEmpty()) {
      if (oneGroup(spans)) {
        SpanData first = spans.iterator().next();
        Map<InstrumentationScopeInfo, Collection<? extends SpanData>> one = new LinkedHashMap<>(2);
        one.put(first.getInstrumentationScopeInfo(), spans);
        writeResourceSpans(first.getResource(), one);
      } else {
        for (Map.Entry<Resource, Map<InstrumentationScopeInfo, List<SpanData>>> e : grouped(spans).entrySet()) {
          writeResourceSpans(e.getKey(), e.getValue());
        }
      }
    }
    return out.toByteArray();
  }

  /** Whether every span has the same Resource and scope instances (one SDK's batch). */
  private static boolean oneGroup(Collection<? extends SpanData> spans) {
    Resource resource = null;
    InstrumentationScopeInfo scope = null;
    boolean first = true;
    for (SpanData s : spans) {
      if (first) {
        resource = s.getResource();
        scope = s.getInstrumentationScopeInfo();
        first = false;
      } else if (s.getResource() != resource || s.getInstrumentationScopeInfo() != scope) {
        return false;
      }
    }
    return true;
  }

  /** By resource, then scope, each in order of first appearance, spans in their given order. */
  private static Map<Resource, Map<InstrumentationScopeInfo, List<SpanData>>> grouped(
      Collection<? extends SpanData> spans) {
    return ResourceScopeGroups.of(spans, SpanData::getResource, SpanData::getInstrumentationScopeInfo);
  }

  private void writeResourceSpans(
      Resource resource, Map<InstrumentationScopeInfo, ? extends Collection<? extends SpanData>> byScope) {
    int rs = out.begin(REQUEST_RESOURCE_SPANS, GROUP_LENGTH);
    int r = out.begin(RS_RESOURCE, ITEM_LENGTH);
    attributes(RESOURCE_ATTRIBUTES, resource.getAttributes());
    out.end(r, ITEM_LENGTH);
    for (Map.Entry<InstrumentationScopeInfo, ? extends Collection<? extends SpanData>> e : byScope.entrySet()) {
      writeScopeSpans(e.getKey(), e.getValue());
    }
    string(RS_SCHEMA_URL, resource.getSchemaUrl());
    out.end(rs, GROUP_LENGTH);
  }

  private void writeScopeSpans(InstrumentationScopeInfo scope, Collection<? extends SpanData> spans) {
    int ss = out.begin(RS_SCOPE_SPANS, GROUP_LENGTH);
    int sc = out.begin(SS_SCOPE, ITEM_LENGTH);
    string(SCOPE_NAME, scope.getName());
    string(SCOPE_VERSION, scope.getVersion());
    attributes(SCOPE_ATTRIBUTES, scope.getAttributes());
    out.end(sc, ITEM_LENGTH);
    for (SpanData s : spans) {
      writeSpan(s);
    }
    string(SS_SCHEMA_URL, scope.getSchemaUrl());
    out.end(ss, GROUP_LENGTH);
  }

  private void writeSpan(SpanData s) {
    int span = out.begin(SS_SPANS, ITEM_LENGTH);
    SpanContext sc = s.getSpanContext();
    SpanContext parent = s.getParentSpanContext();
    out.hexId(SPAN_TRACE_ID, sc.getTraceId(), TRACE_ID_BYTES);
    out.hexId(SPAN_SPAN_ID, sc.getSpanId(), SPAN_ID_BYTES);
    string(SPAN_TRACE_STATE, OtlpSpans.encodeTraceState(sc.getTraceState()));
    if (parent.isValid()) {
      out.hexId(SPAN_PARENT_SPAN_ID, parent.getSpanId(), SPAN_ID_BYTES);
    }
    string(SPAN_NAME, s.getName());
    enumValue(SPAN_KIND, OtlpSpans.kindNumber(s.getKind()));
    fixed64(SPAN_START, s.getStartEpochNanos());
    fixed64(SPAN_END, s.getEndEpochNanos());
    Attributes attributes = s.getAttributes();
    attributes(SPAN_ATTRIBUTES, attributes);
    uint32(SPAN_DROPPED_ATTRIBUTES, s.getTotalAttributeCount() - attributes.size());
    List<EventData> events = s.getEvents();
    for (EventData e : events) {
      writeEvent(e);
    }
    uint32(SPAN_DROPPED_EVENTS, s.getTotalRecordedEvents() - events.size());
    List<LinkData> links = s.getLinks();
    for (LinkData l : links) {
      writeLink(l);
    }
    uint32(SPAN_DROPPED_LINKS, s.getTotalRecordedLinks() - links.size());
    StatusData status = s.getStatus();
    int st = out.begin(SPAN_STATUS, SMALL_LENGTH);
    string(STATUS_MESSAGE, status.getDescription());
    enumValue(STATUS_CODE, OtlpSpans.statusCodeNumber(status.getStatusCode()));
    out.end(st, SMALL_LENGTH);
    fixed32(SPAN_FLAGS, OtlpSpans.flags(sc.getTraceFlags(), parent.isRemote()));
    out.end(span, ITEM_LENGTH);
  }

  private void writeEvent(EventData e) {
    int ev = out.begin(SPAN_EVENTS, ITEM_LENGTH);
    fixed64(EVENT_TIME, e.getEpochNanos());
    String name = e.getName();
    if (name != null && !name.isEmpty()) {
      out.raw(names.field(EVENT_NAME, name));
    }
    Attributes attributes = e.getAttributes();
    attributes(EVENT_ATTRIBUTES, attributes);
    uint32(EVENT_DROPPED_ATTRIBUTES, e.getTotalAttributeCount() - attributes.size());
    out.end(ev, ITEM_LENGTH);
  }

  private void writeLink(LinkData l) {
    int link = out.begin(SPAN_LINKS, ITEM_LENGTH);
    SpanContext lc = l.getSpanContext();
    out.hexId(LINK_TRACE_ID, lc.getTraceId(), TRACE_ID_BYTES);
    out.hexId(LINK_SPAN_ID, lc.getSpanId(), SPAN_ID_BYTES);
    string(LINK_TRACE_STATE, OtlpSpans.encodeTraceState(lc.getTraceState()));
    Attributes attributes = l.getAttributes();
    attributes(LINK_ATTRIBUTES, attributes);
    uint32(LINK_DROPPED_ATTRIBUTES, l.getTotalAttributeCount() - attributes.size());
    fixed32(LINK_FLAGS, OtlpSpans.flags(lc.getTraceFlags(), lc.isRemote()));
    out.end(link, ITEM_LENGTH);
  }

  // ------------------------------------------------------------------ attributes

  /** Every attribute as a repeated {@code KeyValue} field {@code number}. */
  private void attributes(int number, Attributes attributes) {
    if (attributes.isEmpty()) {
      return;
    }
    int outer = attributesField; // not re-entered today (values nest lists, not Attributes); kept safe
    attributesField = number;
    attributes.forEach(this);
    attributesField = outer;
  }

  /** One attribute of the running {@link #attributes} loop as a {@code KeyValue}. */
  @Override
  public void accept(AttributeKey<?> key, Object value) {
    String k = key.getKey();
    byte[] keyField = k == null || k.isEmpty() ? null : names.field(KV_KEY, k);
    switch (key.getType()) {
      // the lengths are known before anything is written: no guess, no move
      case STRING -> out.stringKeyValue(
          attributesField, keyField, KV_VALUE, ANY_STRING, ((String) value).getBytes(StandardCharsets.UTF_8));
      default -> {
        int kv = out.begin(attributesField, SMALL_LENGTH);
        if (keyField != null) {
          out.raw(keyField);
        }
        int any = out.begin(KV_VALUE, SMALL_LENGTH);
        anyValueBody(key, value);
        out.end(any, SMALL_LENGTH);
        out.end(kv, SMALL_LENGTH);
      }
    }
  }

  /** The fields of an {@code AnyValue} holding attribute {@code value}; the caller started it. */
  @SuppressWarnings("unchecked")
  private void anyValueBody(AttributeKey<?> key, Object value) {
    switch (key.getType()) {
      case STRING -> out.stringAlways(ANY_STRING, (String) value);
      case BOOLEAN -> bool(ANY_BOOL, (Boolean) value);
      case LONG -> int64(ANY_INT, (Long) value);
      case DOUBLE -> doubleAlways(ANY_DOUBLE, (Double) value);
      case STRING_ARRAY, BOOLEAN_ARRAY, LONG_ARRAY, DOUBLE_ARRAY -> {
        int array = out.begin(ANY_ARRAY, ITEM_LENGTH);
        for (Object v : (List<Object>) value) {
          int element = out.begin(LIST_VALUES, SMALL_LENGTH);
          switch (key.getType()) {
            case STRING_ARRAY -> out.stringAlways(ANY_STRING, (String) v);
            case BOOLEAN_ARRAY -> bool(ANY_BOOL, (Boolean) v);
            case LONG_ARRAY -> int64(ANY_INT, (Long) v);
            default -> doubleAlways(ANY_DOUBLE, (Double) v);
          }
          out.end(element, SMALL_LENGTH);
        }
        out.end(array, ITEM_LENGTH);
      }
      case VALUE -> valueBody((Value<?>) value);
    }
  }

  /** The fields of an {@code AnyValue} holding {@code value}; the caller started the message. */
  @SuppressWarnings("unchecked")
  private void valueBody(Value<?> value) {
    switch (value.getType()) {
      case STRING -> out.stringAlways(ANY_STRING, (String) value.getValue());
      case BOOLEAN -> bool(ANY_BOOL, (Boolean) value.getValue());
      case LONG -> int64(ANY_INT, (Long) value.getValue());
      case DOUBLE -> doubleAlways(ANY_DOUBLE, (Double) value.getValue());
      case ARRAY -> {
        int array = out.begin(ANY_ARRAY, ITEM_LENGTH);
        for (Value<?> v : (List<Value<?>>) value.getValue()) {
          int element = out.begin(LIST_VALUES, SMALL_LENGTH);
          valueBody(v);
          out.end(element, SMALL_LENGTH);
        }
        out.end(array, ITEM_LENGTH);
      }
      case KEY_VALUE_LIST -> {
        int list = out.begin(ANY_KVLIST, ITEM_LENGTH);
        for (KeyValue kv : (List<KeyValue>) value.getValue()) {
          int pair = out.begin(LIST_VALUES, SMALL_LENGTH);
          string(KV_KEY, kv.getKey());
          int any = out.begin(KV_VALUE, SMALL_LENGTH);
          valueBody(kv.getValue());
          out.end(any, SMALL_LENGTH);
          out.end(pair, SMALL_LENGTH);
        }
        out.end(list, ITEM_LENGTH);
      }
      case BYTES -> {
        ByteBuffer b = ((ByteBuffer) value.getValue()).duplicate(); // position to limit, as ByteString.copyFrom
        byte[] raw = new byte[b.remaining()];
        b.get(raw);
        out.bytesField(ANY_BYTES, raw); // a oneof member: written even when empty
      }
      case EMPTY -> {}
    }
  }

  // ------------------------------------------------------------------ scalars, proto3 rules

  /** A proto3 string: skipped when empty. */
  private void string(int number, String s) {
    if (s != null && !s.isEmpty()) {
      out.stringAlways(number, s);
    }
  }

  private void uint32(int number, int v) {
    if (v != 0) {
      out.tag(number, ProtoSink.VARINT);
      out.varint32(v);
    }
  }

  /** An enum field (non-negative values here: span kinds and status codes). */
  private void enumValue(int number, int v) {
    if (v != 0) {
      out.tag(number, ProtoSink.VARINT);
      out.varint64(v); // protobuf's writeEnum sign-extends: the same bytes for v >= 0
    }
  }

  private void fixed64(int number, long v) {
    if (v != 0) {
      out.tag(number, ProtoSink.FIXED64);
      out.fixed64(v);
    }
  }

  private void fixed32(int number, int v) {
    if (v != 0) {
      out.tag(number, ProtoSink.FIXED32);
      out.fixed32(v);
    }
  }

  // oneof members: written whatever their value

  private void bool(int number, boolean v) {
    out.tag(number, ProtoSink.VARINT);
    out.varint32(v ? 1 : 0);
  }

  private void int64(int number, long v) {
    out.tag(number, ProtoSink.VARINT);
    out.varint64(v);
  }

  private void doubleAlways(int number, double v) {
    out.tag(number, ProtoSink.FIXED64);
    out.fixed64(Double.doubleToRawLongBits(v));
  }
}
