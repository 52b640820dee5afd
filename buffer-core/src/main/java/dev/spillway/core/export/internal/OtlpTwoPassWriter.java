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

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Writes SDK telemetry items as the bytes of an OTLP {@code Export*ServiceRequest} without
 * building the protobuf objects, in two passes over the same traversal: the first computes the
 * size of every nested message and queues them in the order the messages start; the second writes
 * each message's tag, the queued size, then its fields. Both passes must visit the same messages
 * in the same order, with protobuf's proto3 rules (scalars at their default value are not written;
 * a set message field and every {@code oneof} member are, even when empty; fields in field-number
 * order), so the output is byte for byte what the generated protobuf objects give. Strings are
 * encoded to UTF-8 once, in the size pass, and queued for the write pass like the sizes: the JDK's
 * encoder copies an ASCII string in bulk, where protobuf's would scan it char by char twice (once
 * to size it, once to write it), which made this writer slower than the SDK's marshalers on
 * string-heavy logs. Protobuf encodes an unpaired surrogate as {@code '?'} through the same JDK
 * encoder, so the bytes stay the same.
 *
 * <p>This class writes what the three signals share: the request, {@code Resource*} and {@code
 * Scope*} envelopes (the same field numbers for traces, metrics and logs), {@code Resource},
 * {@code InstrumentationScope}, {@code KeyValue} and {@code AnyValue}. A subclass writes one item
 * (a metric, a log record) with {@link #sizeItem} and {@link #writeItem}. Spans no longer come
 * through here: {@link OtlpTraceWriter} writes them in one pass ({@link ProtoSink}), at 0.57× this
 * writer's CPU on the benchmark spans; logs and metrics could follow it. One instance
 * writes one request on one thread.
 *
 * @param <T> the SDK item, grouped by its resource and instrumentation scope
 */
abstract class OtlpTwoPassWriter<T> {
  static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

  // Export{Trace,Metrics,Logs}ServiceRequest, Resource{Spans,Metrics,Logs}, Scope{Spans,...}
  private static final int REQUEST_RESOURCE_GROUPS = 1;
  private static final int RG_RESOURCE = 1;
  private static final int RG_SCOPE_GROUPS = 2;
  private static final int RG_SCHEMA_URL = 3;
  private static final int SG_SCOPE = 1;
  private static final int SG_ITEMS = 2;
  private static final int SG_SCHEMA_URL = 3;
  // Resource, InstrumentationScope

  /**
   * The queues of the last request this thread wrote, kept for the next one: a batch of 512 spans
   * queues ~25,000 sizes and ~13,000 strings, and growing fresh arrays to that on every request
   * (copy after copy, each zeroed) was a visible share of the embedded path's profile.
   */
  private static final ThreadLocal<Queues> KEPT = new ThreadLocal<>();
  /** Queues grown past this many entries are not kept (a one-off huge batch). */
  static final int MAX_KEPT_ENTRIES = 1 << 18;

  private static final class Queues {
    int[] sizes = new int[1024];
    byte[][] utf8 = new byte[512][];
  }

  /** Sizes of nested messages, in the order the messages start. */
  private int[] sizes;
  private int queued;
  private int taken;
  /** UTF-8 of every string the size pass wrote, in the order the write pass writes them. */
  private byte[][] utf8;
  private int utf8Queued;
  private int utf8Taken;
  /** Hex-decoded trace and span ids, written from here (the SDK's getters allocate a new array). */
  private final byte[] idScratch = new byte[16];
  /** Running total of an attribute loop (forEach takes a lambda). */
  private int attributeBytes;

  abstract Resource resourceOf(T item);

  abstract InstrumentationScopeInfo scopeOf(T item);

  /** Queues the item's message (with {@link #reserve}) and what it nests; returns its body size. */
  abstract int sizeItem(T item);

  /** Writes the item's fields; the caller started its message. */
  abstract void writeItem(CodedOutputStream out, T item) throws IOException;

  /**
   * The items as one request, grouped by resource then by scope, each group in order of first
   * appearance and the items of a group in their given order (what {@code toRequest} of the
   * signal's codec builds).
   */
  final byte[] writeRequest(Collection<? extends T> items) {
    Queues q = KEPT.get();
    KEPT.remove(); // ours alone until we give it back, should a subclass ever write re-entrantly
    if (q == null) {
      q = new Queues();
    }
    sizes = q.sizes;
    utf8 = q.utf8;
    try {
      return writeGrouped(items);
    } finally {
      Arrays.fill(utf8, 0, utf8Queued, null); // nothing of this request stays reachable
      if (sizes.length <= MAX_KEPT_ENTRIES && utf8.length <= MAX_KEPT_ENTRIES) {
        q.sizes = sizes;
        q.utf8 = utf8;
        KEPT.set(q);
      }
    }
  }

  private byte[] writeGrouped(Collection<? extends T> items) {
    Map<Resource, Map<InstrumentationScopeInfo, List<T>>> grouped =
        ResourceScopeGroups.of(items, this::resourceOf, this::scopeOf);
    int total = 0;
    for (Map.Entry<Resource, Map<InstrumentationScopeInfo, List<T>>> e : grouped.entrySet()) {
      total += field(REQUEST_RESOURCE_GROUPS, sizeResourceGroup(e.getKey(), e.getValue()));
    }
    byte[] out = new byte[total];
    CodedOutputStream cos = CodedOutputStream.newInstance(out);
    try {
      for (Map.Entry<Resource, Map<InstrumentationScopeInfo, List<T>>> e : grouped.entrySet()) {
        start(cos, REQUEST_RESOURCE_GROUPS);
        writeResourceGroup(cos, e.getKey(), e.getValue());
      }
      cos.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("OTLP size and write passes disagree", e);
    }
    if (taken != queued || utf8Taken != utf8Queued) {
      throw new IllegalStateException("OTLP writer wrote " + taken + " messages and " + utf8Taken
          + " strings, sized " + queued + " and " + utf8Queued);
    }
    return out;
  }

  // ------------------------------------------------------------------ the size pass

  /** A slot for the size of a message about to be sized; the write pass takes them in order. */
  final int reserve() {
    if (queued == sizes.length) {
      sizes = Arrays.copyOf(sizes, queued * 2);
    }
    return queued++;
  }

  final void setSize(int slot, int size) {
    sizes[slot] = size;
  }

  /** Bytes of a length-delimited field whose body is {@code size} bytes. */
  static int field(int number, int size) {
    return CodedOutputStream.computeTagSize(number) + CodedOutputStream.computeUInt32SizeNoTag(size) + size;
  }

  /** A proto3 string: skipped when empty; queues its UTF-8 for the write pass otherwise. */
  final int string(int number, String s) {
    return s == null || s.isEmpty() ? 0 : stringAlways(number, s);
  }

  /** A string {@code oneof} member, written even when empty. */
  final int stringAlways(int number, String s) {
    if (utf8Queued == utf8.length) {
      utf8 = Arrays.copyOf(utf8, utf8Queued * 2);
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    utf8[utf8Queued++] = b;
    return CodedOutputStream.computeTagSize(number) + CodedOutputStream.computeUInt32SizeNoTag(b.length) + b.length;
  }

  /**
   * A trace or span id field from its hex form ({@code SpanContext} keeps ids as validated hex of
   * exactly {@code 2 * byteLength} characters, all zeros when invalid): always written, as the
   * {@code getTraceIdBytes()} array it stands for is never empty.
   */
  static int idField(int number, int byteLength) {
    return CodedOutputStream.computeTagSize(number) + CodedOutputStream.computeUInt32SizeNoTag(byteLength) + byteLength;
  }

  static int bytes(int number, byte[] b) {
    return b.length == 0 ? 0 : CodedOutputStream.computeByteArraySize(number, b);
  }

  static int uint32(int number, int v) {
    return v == 0 ? 0 : CodedOutputStream.computeUInt32Size(number, v);
  }

  static int enumValue(int number, int v) {
    return v == 0 ? 0 : CodedOutputStream.computeEnumSize(number, v);
  }

  static int fixed64(int number, long v) {
    return v == 0 ? 0 : CodedOutputStream.computeFixed64Size(number, v);
  }

  static int fixed32(int number, int v) {
    return v == 0 ? 0 : CodedOutputStream.computeFixed32Size(number, v);
  }

  /** A proto3 {@code double} without presence: protobuf skips it when its bits are all zero. */
  static int doubleValue(int number, double v) {
    return Double.doubleToRawLongBits(v) == 0 ? 0 : CodedOutputStream.computeDoubleSize(number, v);
  }

  private int sizeResourceGroup(Resource resource, Map<InstrumentationScopeInfo, List<T>> byScope) {
    int slot = reserve();
    int size = field(RG_RESOURCE, sizeResource(resource));
    for (Map.Entry<InstrumentationScopeInfo, List<T>> e : byScope.entrySet()) {
      size += field(RG_SCOPE_GROUPS, sizeScopeGroup(e.getKey(), e.getValue()));
    }
    size += string(RG_SCHEMA_URL, resource.getSchemaUrl());
    sizes[slot] = size;
    return size;
  }

  private int sizeResource(Resource resource) {
    int slot = reserve();
    int size = sizeAttributes(RESOURCE_ATTRIBUTES, resource.getAttributes());
    sizes[slot] = size;
    return size;
  }

  private int sizeScopeGroup(InstrumentationScopeInfo scope, List<T> items) {
    int slot = reserve();
    int size = field(SG_SCOPE, sizeScope(scope));
    for (T item : items) {
      size += field(SG_ITEMS, sizeItem(item));
    }
    size += string(SG_SCHEMA_URL, scope.getSchemaUrl());
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

  /** Every attribute as a repeated {@code KeyValue} field {@code number}. */
  final int sizeAttributes(int number, Attributes attributes) {
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
      case STRING -> stringAlways(ANY_STRING, (String) value);
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
      case STRING_ARRAY -> stringAlways(ANY_STRING, (String) v);
      case BOOLEAN_ARRAY -> CodedOutputStream.computeBoolSize(ANY_BOOL, (Boolean) v);
      case LONG_ARRAY -> CodedOutputStream.computeInt64Size(ANY_INT, (Long) v);
      default -> CodedOutputStream.computeDoubleSize(ANY_DOUBLE, (Double) v);
    };
    sizes[slot] = size;
    return size;
  }

  /** Queues an {@code AnyValue} message holding {@code value} and what it nests; its body size. */
  final int sizeAnyValue(Value<?> value) {
    int slot = reserve();
    int size = sizeValueBody(value);
    sizes[slot] = size;
    return size;
  }

  /** The fields of an {@code AnyValue} holding {@code value}; queues what it nests, not itself. */
  @SuppressWarnings("unchecked")
  private int sizeValueBody(Value<?> value) {
    return switch (value.getType()) {
      case STRING -> stringAlways(ANY_STRING, (String) value.getValue());
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
  final void start(CodedOutputStream out, int number) throws IOException {
    out.writeTag(number, LEN);
    out.writeUInt32NoTag(sizes[taken++]);
  }

  /** Writes what {@link #string} sized: {@code s} decides only whether it was written. */
  final void writeString(CodedOutputStream out, int number, String s) throws IOException {
    if (s != null && !s.isEmpty()) {
      writeQueuedString(out, number);
    }
  }

  /** Writes the next string the size pass queued, as field {@code number}. */
  final void writeQueuedString(CodedOutputStream out, int number) throws IOException {
    byte[] b = utf8[utf8Taken];
    utf8[utf8Taken++] = null; // let a large batch's strings go as they are written
    out.writeTag(number, LEN);
    out.writeUInt32NoTag(b.length);
    out.writeRawBytes(b);
  }

  /** Writes what {@link #idField} sized: {@code hex} decoded, without a new array per id. */
  final void writeId(CodedOutputStream out, int number, String hex, int byteLength) throws IOException {
    for (int i = 0; i < byteLength; i++) {
      idScratch[i] = (byte) ((nibble(hex.charAt(2 * i)) << 4) | nibble(hex.charAt(2 * i + 1)));
    }
    out.writeTag(number, LEN);
    out.writeUInt32NoTag(byteLength);
    out.writeRawBytes(idScratch, 0, byteLength);
  }

  /** A lower-case hex digit's value ({@code SpanContext} ids are validated lower-case hex). */
  private static int nibble(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
  }

  static void writeBytes(CodedOutputStream out, int number, byte[] b) throws IOException {
    if (b.length != 0) {
      out.writeByteArray(number, b);
    }
  }

  static void writeUInt32(CodedOutputStream out, int number, int v) throws IOException {
    if (v != 0) {
      out.writeUInt32(number, v);
    }
  }

  static void writeEnum(CodedOutputStream out, int number, int v) throws IOException {
    if (v != 0) {
      out.writeEnum(number, v);
    }
  }

  static void writeFixed64(CodedOutputStream out, int number, long v) throws IOException {
    if (v != 0) {
      out.writeFixed64(number, v);
    }
  }

  static void writeFixed32(CodedOutputStream out, int number, int v) throws IOException {
    if (v != 0) {
      out.writeFixed32(number, v);
    }
  }

  static void writeDouble(CodedOutputStream out, int number, double v) throws IOException {
    if (Double.doubleToRawLongBits(v) != 0) {
      out.writeDouble(number, v);
    }
  }

  private void writeResourceGroup(
      CodedOutputStream out, Resource resource, Map<InstrumentationScopeInfo, List<T>> byScope)
      throws IOException {
    start(out, RG_RESOURCE);
    writeAttributes(out, RESOURCE_ATTRIBUTES, resource.getAttributes());
    for (Map.Entry<InstrumentationScopeInfo, List<T>> e : byScope.entrySet()) {
      start(out, RG_SCOPE_GROUPS);
      writeScopeGroup(out, e.getKey(), e.getValue());
    }
    writeString(out, RG_SCHEMA_URL, resource.getSchemaUrl());
  }

  private void writeScopeGroup(CodedOutputStream out, InstrumentationScopeInfo scope, List<T> items)
      throws IOException {
    start(out, SG_SCOPE);
    writeString(out, SCOPE_NAME, scope.getName());
    writeString(out, SCOPE_VERSION, scope.getVersion());
    writeAttributes(out, SCOPE_ATTRIBUTES, scope.getAttributes());
    for (T item : items) {
      start(out, SG_ITEMS);
      writeItem(out, item);
    }
    writeString(out, SG_SCHEMA_URL, scope.getSchemaUrl());
  }

  final void writeAttributes(CodedOutputStream out, int number, Attributes attributes) throws IOException {
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
      case STRING -> writeQueuedString(out, ANY_STRING);
      case BOOLEAN -> out.writeBool(ANY_BOOL, (Boolean) value);
      case LONG -> out.writeInt64(ANY_INT, (Long) value);
      case DOUBLE -> out.writeDouble(ANY_DOUBLE, (Double) value);
      case STRING_ARRAY, BOOLEAN_ARRAY, LONG_ARRAY, DOUBLE_ARRAY -> {
        start(out, ANY_ARRAY);
        for (Object v : (List<Object>) value) {
          start(out, LIST_VALUES);
          switch (key.getType()) {
            case STRING_ARRAY -> writeQueuedString(out, ANY_STRING);
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
  final void writeValueBody(CodedOutputStream out, Value<?> value) throws IOException {
    switch (value.getType()) {
      case STRING -> writeQueuedString(out, ANY_STRING);
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
