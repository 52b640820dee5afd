package dev.spillway.core;

/**
 * What a sealed payload holds. The payload itself is opaque bytes; the type is authenticated with
 * it, so logs and metrics fit without a format change. Codes are written to disk: never reuse one.
 */
public enum PayloadType {
  /** A serialized OTLP {@code ExportTraceServiceRequest}. */
  OTLP_TRACES(1),
  /** A serialized OTLP {@code ExportMetricsServiceRequest}. */
  OTLP_METRICS(2),
  /** A serialized OTLP {@code ExportLogsServiceRequest}. */
  OTLP_LOGS(3);

  private final int code;

  PayloadType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The type with this on-disk code, or null. Used by the envelope parser. */
  public static PayloadType fromCode(int code) {
    for (PayloadType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    return null;
  }
}
