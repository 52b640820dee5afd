package dev.spillway.core.export.internal;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributeType;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attributes and {@link Value}s to and from OTLP {@code KeyValue}/{@code AnyValue}.
 *
 * <p>Decoding picks the attribute type from the wire value: scalars become the scalar keys, a
 * non-empty array whose elements are all one scalar kind becomes the typed array key, an empty
 * array becomes an empty string array, and anything else (key-value lists, bytes, mixed or nested
 * arrays, an empty value) becomes a {@link AttributeType#VALUE} key. Re-encoding a decoded
 * attribute gives back the same wire value, which is what a replayed span must preserve; only the
 * Java-side type of an empty array, or of a {@code VALUE} attribute that held a plain scalar, is
 * not recoverable from OTLP.
 */
final class OtlpAttributes {
  private OtlpAttributes() {}

  static List<KeyValue> toProto(Attributes attributes) {
    List<KeyValue> out = new ArrayList<>(attributes.size());
    attributes.forEach(
        (key, value) ->
            out.add(KeyValue.newBuilder().setKey(key.getKey()).setValue(toAnyValue(key, value)).build()));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static AnyValue toAnyValue(AttributeKey<?> key, Object value) {
    AnyValue.Builder b = AnyValue.newBuilder();
    switch (key.getType()) {
      case STRING -> b.setStringValue((String) value);
      case BOOLEAN -> b.setBoolValue((Boolean) value);
      case LONG -> b.setIntValue((Long) value);
      case DOUBLE -> b.setDoubleValue((Double) value);
      case STRING_ARRAY -> {
        ArrayValue.Builder a = ArrayValue.newBuilder();
        for (String s : (List<String>) value) {
          a.addValues(AnyValue.newBuilder().setStringValue(s));
        }
        b.setArrayValue(a);
      }
      case BOOLEAN_ARRAY -> {
        ArrayValue.Builder a = ArrayValue.newBuilder();
        for (Boolean v : (List<Boolean>) value) {
          a.addValues(AnyValue.newBuilder().setBoolValue(v));
        }
        b.setArrayValue(a);
      }
      case LONG_ARRAY -> {
        ArrayValue.Builder a = ArrayValue.newBuilder();
        for (Long v : (List<Long>) value) {
          a.addValues(AnyValue.newBuilder().setIntValue(v));
        }
        b.setArrayValue(a);
      }
      case DOUBLE_ARRAY -> {
        ArrayValue.Builder a = ArrayValue.newBuilder();
        for (Double v : (List<Double>) value) {
          a.addValues(AnyValue.newBuilder().setDoubleValue(v));
        }
        b.setArrayValue(a);
      }
      case VALUE -> {
        return toAnyValue((Value<?>) value);
      }
    }
    return b.build();
  }

  @SuppressWarnings("unchecked")
  static AnyValue toAnyValue(Value<?> value) {
    AnyValue.Builder b = AnyValue.newBuilder();
    switch (value.getType()) {
      case STRING -> b.setStringValue((String) value.getValue());
      case BOOLEAN -> b.setBoolValue((Boolean) value.getValue());
      case LONG -> b.setIntValue((Long) value.getValue());
      case DOUBLE -> b.setDoubleValue((Double) value.getValue());
      case ARRAY -> {
        ArrayValue.Builder a = ArrayValue.newBuilder();
        for (Value<?> v : (List<Value<?>>) value.getValue()) {
          a.addValues(toAnyValue(v));
        }
        b.setArrayValue(a);
      }
      case KEY_VALUE_LIST -> {
        KeyValueList.Builder l = KeyValueList.newBuilder();
        for (io.opentelemetry.api.common.KeyValue kv :
            (List<io.opentelemetry.api.common.KeyValue>) value.getValue()) {
          l.addValues(KeyValue.newBuilder().setKey(kv.getKey()).setValue(toAnyValue(kv.getValue())));
        }
        b.setKvlistValue(l);
      }
      case BYTES -> b.setBytesValue(ByteString.copyFrom(((ByteBuffer) value.getValue()).duplicate()));
      case EMPTY -> {}
    }
    return b.build();
  }

  /** Span, event and link attributes: in wire order (see {@link WireOrderAttributes}). */
  static Attributes fromProto(List<KeyValue> keyValues) {
    if (keyValues.isEmpty()) {
      return Attributes.empty();
    }
    LinkedHashMap<AttributeKey<?>, Object> entries = new LinkedHashMap<>();
    for (KeyValue kv : keyValues) {
      put(entries, kv.getKey(), kv.getValue());
    }
    return new WireOrderAttributes(entries);
  }

  /**
   * Resource and scope attributes: the SDK's own sorted {@code Attributes}, which is also the order
   * the SDK wrote them in, so resources and scopes stay equal to the SDK's in both directions.
   */
  static Attributes fromProtoSorted(List<KeyValue> keyValues) {
    return keyValues.isEmpty() ? Attributes.empty() : Attributes.builder().putAll(fromProto(keyValues)).build();
  }

  private static void put(Map<AttributeKey<?>, Object> b, String key, AnyValue v) {
    switch (v.getValueCase()) {
      case STRING_VALUE -> b.put(AttributeKey.stringKey(key), v.getStringValue());
      case BOOL_VALUE -> b.put(AttributeKey.booleanKey(key), v.getBoolValue());
      case INT_VALUE -> b.put(AttributeKey.longKey(key), v.getIntValue());
      case DOUBLE_VALUE -> b.put(AttributeKey.doubleKey(key), v.getDoubleValue());
      case ARRAY_VALUE -> putArray(b, key, v);
      default -> b.put(AttributeKey.valueKey(key), fromAnyValue(v));
    }
  }

  private static void putArray(Map<AttributeKey<?>, Object> b, String key, AnyValue v) {
    List<AnyValue> values = v.getArrayValue().getValuesList();
    if (values.isEmpty()) {
      b.put(AttributeKey.stringArrayKey(key), List.of());
      return;
    }
    AnyValue.ValueCase kind = values.get(0).getValueCase();
    for (AnyValue e : values) {
      if (e.getValueCase() != kind) {
        b.put(AttributeKey.valueKey(key), fromAnyValue(v));
        return;
      }
    }
    switch (kind) {
      case STRING_VALUE -> b.put(
          AttributeKey.stringArrayKey(key), values.stream().map(AnyValue::getStringValue).toList());
      case BOOL_VALUE -> b.put(
          AttributeKey.booleanArrayKey(key), values.stream().map(AnyValue::getBoolValue).toList());
      case INT_VALUE -> b.put(
          AttributeKey.longArrayKey(key), values.stream().map(AnyValue::getIntValue).toList());
      case DOUBLE_VALUE -> b.put(
          AttributeKey.doubleArrayKey(key), values.stream().map(AnyValue::getDoubleValue).toList());
      default -> b.put(AttributeKey.valueKey(key), fromAnyValue(v));
    }
  }

  static Value<?> fromAnyValue(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> Value.of(v.getStringValue());
      case BOOL_VALUE -> Value.of(v.getBoolValue());
      case INT_VALUE -> Value.of(v.getIntValue());
      case DOUBLE_VALUE -> Value.of(v.getDoubleValue());
      case ARRAY_VALUE -> {
        List<Value<?>> l = new ArrayList<>(v.getArrayValue().getValuesCount());
        for (AnyValue e : v.getArrayValue().getValuesList()) {
          l.add(fromAnyValue(e));
        }
        yield Value.of(l);
      }
      case KVLIST_VALUE -> {
        List<KeyValue> kvs = v.getKvlistValue().getValuesList();
        io.opentelemetry.api.common.KeyValue[] out = new io.opentelemetry.api.common.KeyValue[kvs.size()];
        for (int i = 0; i < out.length; i++) {
          out[i] = io.opentelemetry.api.common.KeyValue.of(kvs.get(i).getKey(), fromAnyValue(kvs.get(i).getValue()));
        }
        yield Value.of(out);
      }
      case BYTES_VALUE -> Value.of(v.getBytesValue().toByteArray());
      default -> Value.empty(); // VALUE_NOT_SET, or a kind newer than these classes
    };
  }
}
