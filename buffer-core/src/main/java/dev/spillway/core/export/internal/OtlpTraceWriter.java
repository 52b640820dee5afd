package dev.spillway.core.export.internal;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@link SpanData} as the bytes of an OTLP {@code ExportTraceServiceRequest} without
 * building the protobuf objects: the bytes {@code OtlpSpans.toRequest(spans).toByteArray()} gives
 * (the tests hold it to that, byte for byte), in about 60 % of the time on the benchmark spans
 * (docs/BENCHMARKS.md).
 *
 * <p>Two passes over the same traversal. The first computes the size of every nested message and
 * queues them in the order the messages start; the second writes each message's tag, the queued
 * size, then its fields. Both passes must visit the same messages in the same order: a field
 * added to one belongs in the other, in field-number order, with protobuf's proto3 rules (scalars
 * at their default value are not written; a set message field and every {@code oneof} member are,
 * even when empty).
 */
final class OtlpTraceWriter {
  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

  // ExportTraceServiceRequest
  private static final int REQUEST_RESOURCE_SPANS = 1;
  // ResourceSpans, ScopeSpans
  private static final int RS_RESOURCE = 1;
  private static final int RS_SCOPE_SPANS = 2;
  private static final int RS_SCHEMA_URL = 3;
  private static final int SS_SCOPE = 1;
  private static final int SS_SPANS = 2;
  private static final int SS_SCHEMA_URL = 3;
  // Resource, InstrumentationScope
  private static final int RESOURCE_ATTRIBUTES = 1;
  private static final int SCOPE_NAME = 1;
  private static final int SCOPE_VERSION = 2;
  private static final int SCOPE_ATTRIBUTES = 3;
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
  // KeyValue, AnyValue, ArrayValue, KeyValueList
  private static final int KV_KEY = 1;
  private static final int KV_VALUE = 2;
  private static final int ANY_STRING = 1;
  private static final int ANY_BOOL = 2;
  private static final int ANY_INT = 3;
  private static final int ANY_DOUBLE = 4;
  private static final int ANY_ARRAY = 5;
  private static final int ANY_KVLIST = 6;
  private static final int ANY_BYTES = 7;
  private static final int LIST_VALUES = 1;

  /** Sizes of nested messages, in the order the messages start. */
  private int[] sizes = new int[1024];
  private int queued;
  private int taken;
  /** Running total of an attribute loop (forEach takes a lambda). */
  private int attributeBytes;

  private OtlpTraceWriter() {}

  /** The spans as one request, grouped as {@code OtlpSpans.toRequest} groups them. */
  static byte[] write(Collection<? extends SpanData> spans) {
    Map<Resource, Map<InstrumentationScopeInfo, List<SpanData>>> grouped = new LinkedHashMap<>();
    for (SpanData s : spans) {
      grouped
          .computeIfAbsent(s.getResource(), r -> new LinkedHashMap<>())
          .computeIfAbsent(s.getInstrumentationScopeInfo(), i -> new ArrayList<>())
          .add(s);
    }
    OtlpTraceWriter w = new OtlpTraceWriter();
    int total = 0;
    for (Map.Entry<Resource, Map<InstrumentationScopeInfo, List<SpanData>>> e : grouped.entrySet()) {
      total += field(REQUEST_RESOURCE_SPANS, w.sizeResourceSpans(e.getKey(), e.getValue()));
    }
    byte[] out = new byte[total];
    CodedOutputStream cos = CodedOutputStream.newInstance(out);
    try {
      for (Map.Entry<Resource, Map<InstrumentationScopeInfo, List<SpanData>>> e : grouped.entrySet()) {
        w.start(cos, REQUEST_RESOURCE_SPANS);
        w.writeResourceSpans(cos, e.getKey(), e.getValue());
      }
      cos.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("OTLP size and write passes disagree", e);
    }
    if (w.taken != w.queued) {
      throw new IllegalStateException("OTLP writer wrote " + w.taken + " messages, sized " + w.queued);
    }
    return out;
  }

  // ------------------------------------------------------------------ the size pass

  private int reserve() {
    if (queued == sizes.length) {
      sizes = Arrays.copyOf(sizes, queued * 2);
    }
    return queued++;
  }

  /** Bytes of a length-delimited field whose body is {@code size} bytes. */
  private static int field(int number, int size) {
    return CodedOutputStream.computeTagSize(number) + CodedOutputStream.computeUInt32SizeNoTag(size) + size;
  }

  private static int string(int number, String s) {
    return s == null || s.isEmpty() ? 0 : CodedOutputStream.computeStringSize(number, s);
  }

  private static int bytes(int number, byte[] b) {
    return b.length == 0 ? 0 : CodedOutputStream.computeByteArraySize(number, b);
  }

  private static int uint32(int number, int v) {
    return v == 0 ? 0 : CodedOutputStream.computeUInt32Size(number, v);
  }

  private static int enumValue(int number, int v) {
    return v == 0 ? 0 : CodedOutputStream.computeEnumSize(number, v);
  }

  private static int fixed64(int number, long v) {
    return v == 0 ? 0 : CodedOutputStream.computeFixed64Size(number, v);
  }

  private static int fixed32(int number, int v) {
    return v == 0 ? 0 : CodedOutputStream.computeFixed32Size(number, v);
  }

  private int sizeResourceSpans(Resource resource, Map<InstrumentationScopeInfo, List<SpanData>> byScope) {
    int slot = reserve();
    int size = field(RS_RESOURCE, sizeResource(resource));
    for (Map.Entry<InstrumentationScopeInfo, List<SpanData>> e : byScope.entrySet()) {
      size += field(RS_SCOPE_SPANS, sizeScopeSpans(e.getKey(), e.getValue()));
    }
    size += string(RS_SCHEMA_URL, resource.getSchemaUrl());
    sizes[slot] = size;
    return size;
  }

  private int sizeResource(Resource resource) {
    int slot = reserve();
    int size = sizeAttributes(RESOURCE_ATTRIBUTES, resource.getAttributes());
    sizes[slot] = size;
    return size;
  }

  private int sizeScopeSpans(InstrumentationScopeInfo scope, List<SpanData> spans) {
    int slot = reserve();
    int size = field(SS_SCOPE, sizeScope(scope));
    for (SpanData s : spans) {
      size += field(SS_SPANS, sizeSpan(s));
    }
    size += string(SS_SCHEMA_URL, scope.getSchemaUrl());
    sizes[slot] = size;
    return size;
  }

  private int sizeScope(InstrumentationScopeInfo scope) {
    int slot = reserve();
    int size = string(SCOPE_NAME, scope.getName())
        + string(SCOPE_VERSION, scope.getVersion())
        + sizeAttributes(SCOPE_ATTRIBUTES, scope.getAttributes());
    sizes[slot] = size;
    return size;
  }

  private int sizeSpan(SpanData s) {
    int slot = reserve();
    SpanContext sc = s.getSpanContext();
    SpanContext parent = s.getParentSpanContext();
    int size = bytes(SPAN_TRACE_ID, sc.getTraceIdBytes())
        + bytes(SPAN_SPAN_ID, sc.getSpanIdBytes())
        + string(SPAN_TRACE_STATE, OtlpSpans.encodeTraceState(sc.getTraceState()))
        + (parent.isValid() ? bytes(SPAN_PARENT_SPAN_ID, parent.getSpanIdBytes()) : 0)
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
    sizes[slot] = size;
    return size;
  }

  private int sizeEvent(EventData e) {
    int slot = reserve();
    int size = fixed64(EVENT_TIME, e.getEpochNanos())
        + string(EVENT_NAME, e.getName())
        + sizeAttributes(EVENT_ATTRIBUTES, e.getAttributes())
        + uint32(EVENT_DROPPED_ATTRIBUTES, e.getTotalAttributeCount() - e.getAttributes().size());
    sizes[slot] = size;
    return size;
  }

  private int sizeLink(LinkData l) {
    int slot = reserve();
    SpanContext lc = l.getSpanContext();
    int size = bytes(LINK_TRACE_ID, lc.getTraceIdBytes())
        + bytes(LINK_SPAN_ID, lc.getSpanIdBytes())
        + string(LINK_TRACE_STATE, OtlpSpans.encodeTraceState(lc.getTraceState()))
        + sizeAttributes(LINK_ATTRIBUTES, l.getAttributes())
        + uint32(LINK_DROPPED_ATTRIBUTES, l.getTotalAttributeCount() - l.getAttributes().size())
        + fixed32(LINK_FLAGS, OtlpSpans.flags(lc.getTraceFlags(), lc.isRemote()));
    sizes[slot] = size;
    return size;
  }

  private int sizeStatus(StatusData status) {
    int slot = reserve();
    int size = string(STATUS_MESSAGE, status.getDescription())
        + enumValue(STATUS_CODE, OtlpSpans.statusCodeNumber(status.getStatusCode()));
    sizes[slot] = size;
    return size;
  }

  /** Every attribute as a repeated {@code KeyValue} field {@code number}. */
  private int sizeAttributes(int number, Attributes attributes) {
    attributeBytes = 0;
    attributes.forEach((key, value) -> attributeBytes += field(number, sizeKeyValue(key, value)));
    return attributeBytes;
  }

  // Each KeyValue, AnyValue and ArrayValue/KeyValueList message queues its size, in the order the
  // write pass starts them: KeyValue, then its AnyValue, then what the AnyValue holds.

  private int sizeKeyValue(AttributeKey<?> key, Object value) {
    int slot = reserve();
    int size = string(KV_KEY, key.getKey()) + field(KV_VALUE, sizeAnyValue(key, value));
    sizes[slot] = size;
    return size;
  }

  private int sizeKeyValue(io.opentelemetry.api.common.KeyValue kv) {
    int slot = reserve();
    int size = string(KV_KEY, kv.getKey()) + field(KV_VALUE, sizeAnyValue(kv.getValue()));
    sizes[slot] = size;
    return size;
  }

  @SuppressWarnings("unchecked")
  private int sizeAnyValue(AttributeKey<?> key, Object value) {
    int slot = reserve();
    int size = switch (key.getType()) {
      case STRING -> CodedOutputStream.computeStringSize(ANY_STRING, (String) value);
      case BOOLEAN -> CodedOutputStream.computeBoolSize(ANY_BOOL, (Boolean) value);
      case LONG -> CodedOutputStream.computeInt64Size(ANY_INT, (Long) value);
      case DOUBLE -> CodedOutputStream.computeDoubleSize(ANY_DOUBLE, (Double) value);
      case STRING_ARRAY, BOOLEAN_ARRAY, LONG_ARRAY, DOUBLE_ARRAY -> {
        int arraySlot = reserve();
        int arraySize = 0;
        for (Object v : (List<Object>) value) {
          arraySize += field(LIST_VALUES, sizeArrayElement(key, v));
        }
        sizes[arraySlot] = arraySize;
        yield field(ANY_ARRAY, arraySize);
      }
      case VALUE -> sizeValueBody((Value<?>) value);
    };
    sizes[slot] = size;
    return size;
  }

  private int sizeArrayElement(AttributeKey<?> arrayKey, Object v) {
    int slot = reserve();
    int size = switch (arrayKey.getType()) {
      case STRING_ARRAY -> CodedOutputStream.computeStringSize(ANY_STRING, (String) v);
      case BOOLEAN_ARRAY -> CodedOutputStream.computeBoolSize(ANY_BOOL, (Boolean) v);
      case LONG_ARRAY -> CodedOutputStream.computeInt64Size(ANY_INT, (Long) v);
      default -> CodedOutputStream.computeDoubleSize(ANY_DOUBLE, (Double) v);
    };
    sizes[slot] = size;
    return size;
  }

  private int sizeAnyValue(Value<?> value) {
    int slot = reserve();
    int size = sizeValueBody(value);
    sizes[slot] = size;
    return size;
  }

  /** The fields of an {@code AnyValue} holding {@code value}; queues what it nests, not itself. */
  @SuppressWarnings("unchecked")
  private int sizeValueBody(Value<?> value) {
    return switch (value.getType()) {
      case STRING -> CodedOutputStream.computeStringSize(ANY_STRING, (String) value.getValue());
      case BOOLEAN -> CodedOutputStream.computeBoolSize(ANY_BOOL, (Boolean) value.getValue());
      case LONG -> CodedOutputStream.computeInt64Size(ANY_INT, (Long) value.getValue());
      case DOUBLE -> CodedOutputStream.computeDoubleSize(ANY_DOUBLE, (Double) value.getValue());
      case ARRAY -> {
        int slot = reserve();
        int size = 0;
        for (Value<?> v : (List<Value<?>>) value.getValue()) {
          size += field(LIST_VALUES, sizeAnyValue(v));
        }
        sizes[slot] = size;
        yield field(ANY_ARRAY, size);
      }
      case KEY_VALUE_LIST -> {
        int slot = reserve();
        int size = 0;
        for (io.opentelemetry.api.common.KeyValue kv : (List<io.opentelemetry.api.common.KeyValue>) value.getValue()) {
          size += field(LIST_VALUES, sizeKeyValue(kv));
        }
        sizes[slot] = size;
        yield field(ANY_KVLIST, size);
      }
      case BYTES -> field(ANY_BYTES, ((ByteBuffer) value.getValue()).remaining()); // oneof: even empty
      case EMPTY -> 0;
    };
  }

  // ------------------------------------------------------------------ the write pass

  /** Tag and length of the next message, whose size the first pass queued. */
  private void start(CodedOutputStream out, int number) throws IOException {
    out.writeTag(number, LEN);
    out.writeUInt32NoTag(sizes[taken++]);
  }

  private static void writeString(CodedOutputStream out, int number, String s) throws IOException {
    if (s != null && !s.isEmpty()) {
      out.writeString(number, s);
    }
  }

  private static void writeBytes(CodedOutputStream out, int number, byte[] b) throws IOException {
    if (b.length != 0) {
      out.writeByteArray(number, b);
    }
  }

  private static void writeUInt32(CodedOutputStream out, int number, int v) throws IOException {
    if (v != 0) {
      out.writeUInt32(number, v);
    }
  }

  private static void writeEnum(CodedOutputStream out, int number, int v) throws IOException {
    if (v != 0) {
      out.writeEnum(number, v);
    }
  }

  private static void writeFixed64(CodedOutputStream out, int number, long v) throws IOException {
    if (v != 0) {
      out.writeFixed64(number, v);
    }
  }

  private static void writeFixed32(CodedOutputStream out, int number, int v) throws IOException {
    if (v != 0) {
      out.writeFixed32(number, v);
    }
  }

  private void writeResourceSpans(
      CodedOutputStream out, Resource resource, Map<InstrumentationScopeInfo, List<SpanData>> byScope)
      throws IOException {
    start(out, RS_RESOURCE);
    writeAttributes(out, RESOURCE_ATTRIBUTES, resource.getAttributes());
    for (Map.Entry<InstrumentationScopeInfo, List<SpanData>> e : byScope.entrySet()) {
      start(out, RS_SCOPE_SPANS);
      writeScopeSpans(out, e.getKey(), e.getValue());
    }
    writeString(out, RS_SCHEMA_URL, resource.getSchemaUrl());
  }

  private void writeScopeSpans(CodedOutputStream out, InstrumentationScopeInfo scope, List<SpanData> spans)
      throws IOException {
    start(out, SS_SCOPE);
    writeString(out, SCOPE_NAME, scope.getName());
    writeString(out, SCOPE_VERSION, scope.getVersion());
    writeAttributes(out, SCOPE_ATTRIBUTES, scope.getAttributes());
    for (SpanData s : spans) {
      start(out, SS_SPANS);
      writeSpan(out, s);
    }
    writeString(out, SS_SCHEMA_URL, scope.getSchemaUrl());
  }

  private void writeSpan(CodedOutputStream out, SpanData s) throws IOException {
    SpanContext sc = s.getSpanContext();
    SpanContext parent = s.getParentSpanContext();
    writeBytes(out, SPAN_TRACE_ID, sc.getTraceIdBytes());
    writeBytes(out, SPAN_SPAN_ID, sc.getSpanIdBytes());
    writeString(out, SPAN_TRACE_STATE, OtlpSpans.encodeTraceState(sc.getTraceState()));
    if (parent.isValid()) {
      writeBytes(out, SPAN_PARENT_SPAN_ID, parent.getSpanIdBytes());
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
      writeBytes(out, LINK_TRACE_ID, lc.getTraceIdBytes());
      writeBytes(out, LINK_SPAN_ID, lc.getSpanIdBytes());
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

  private void writeAttributes(CodedOutputStream out, int number, Attributes attributes) throws IOException {
    try {
      attributes.forEach((key, value) -> {
        try {
          start(out, number);
          writeString(out, KV_KEY, key.getKey());
          start(out, KV_VALUE);
          writeAnyValue(out, key, value);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** The fields of an {@code AnyValue}; the caller started the message. */
  @SuppressWarnings("unchecked")
  private void writeAnyValue(CodedOutputStream out, AttributeKey<?> key, Object value) throws IOException {
    switch (key.getType()) {
      case STRING -> out.writeString(ANY_STRING, (String) value);
      case BOOLEAN -> out.writeBool(ANY_BOOL, (Boolean) value);
      case LONG -> out.writeInt64(ANY_INT, (Long) value);
      case DOUBLE -> out.writeDouble(ANY_DOUBLE, (Double) value);
      case STRING_ARRAY, BOOLEAN_ARRAY, LONG_ARRAY, DOUBLE_ARRAY -> {
        start(out, ANY_ARRAY);
        for (Object v : (List<Object>) value) {
          start(out, LIST_VALUES);
          switch (key.getType()) {
            case STRING_ARRAY -> out.writeString(ANY_STRING, (String) v);
            case BOOLEAN_ARRAY -> out.writeBool(ANY_BOOL, (Boolean) v);
            case LONG_ARRAY -> out.writeInt64(ANY_INT, (Long) v);
            default -> out.writeDouble(ANY_DOUBLE, (Double) v);
          }
        }
      }
      case VALUE -> writeValueBody(out, (Value<?>) value);
    }
  }

  /** The fields of an {@code AnyValue} holding {@code value}; the caller started the message. */
  @SuppressWarnings("unchecked")
  private void writeValueBody(CodedOutputStream out, Value<?> value) throws IOException {
    switch (value.getType()) {
      case STRING -> out.writeString(ANY_STRING, (String) value.getValue());
      case BOOLEAN -> out.writeBool(ANY_BOOL, (Boolean) value.getValue());
      case LONG -> out.writeInt64(ANY_INT, (Long) value.getValue());
      case DOUBLE -> out.writeDouble(ANY_DOUBLE, (Double) value.getValue());
      case ARRAY -> {
        start(out, ANY_ARRAY);
        for (Value<?> v : (List<Value<?>>) value.getValue()) {
          start(out, LIST_VALUES);
          writeValueBody(out, v);
        }
      }
      case KEY_VALUE_LIST -> {
        start(out, ANY_KVLIST);
        for (io.opentelemetry.api.common.KeyValue kv : (List<io.opentelemetry.api.common.KeyValue>) value.getValue()) {
          start(out, LIST_VALUES);
          writeString(out, KV_KEY, kv.getKey());
          start(out, KV_VALUE);
          writeValueBody(out, kv.getValue());
        }
      }
      case BYTES -> {
        ByteBuffer b = ((ByteBuffer) value.getValue()).duplicate(); // position to limit, as ByteString.copyFrom
        byte[] raw = new byte[b.remaining()];
        b.get(raw);
        out.writeTag(ANY_BYTES, LEN);
        out.writeUInt32NoTag(raw.length);
        out.writeRawBytes(raw);
      }
      case EMPTY -> {}
    }
  }
}
