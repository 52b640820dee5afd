package dev.spillway.core.export.internal;

/**
 * Field numbers of the messages every OTLP signal shares (opentelemetry/proto/common/v1 and
 * resource/v1), for the writers that emit the wire format directly.
 */
final class OtlpCommonFields {
  private OtlpCommonFields() {}

  // Resource
  static final int RESOURCE_ATTRIBUTES = 1;
  // InstrumentationScope
  static final int SCOPE_NAME = 1;
  static final int SCOPE_VERSION = 2;
  static final int SCOPE_ATTRIBUTES = 3;
  // KeyValue, AnyValue, ArrayValue, KeyValueList
  static final int KV_KEY = 1;
  static final int KV_VALUE = 2;
  static final int ANY_STRING = 1;
  static final int ANY_BOOL = 2;
  static final int ANY_INT = 3;
  static final int ANY_DOUBLE = 4;
  static final int ANY_ARRAY = 5;
  static final int ANY_KVLIST = 6;
  static final int ANY_BYTES = 7;
  static final int LIST_VALUES = 1;
}
