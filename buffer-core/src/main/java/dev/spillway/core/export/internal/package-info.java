/**
 * Not API: the OTLP codecs behind {@link dev.spillway.core.export.SpillingSpanExporter} and the
 * log and metric exporters: SDK {@code SpanData}, {@code LogRecordData} and {@code MetricData} to
 * OTLP request bytes ({@code OtlpSpans}, {@code OtlpLogs}, {@code OtlpMetrics}) and back for
 * replay. Anything here may change in any release.
 */
package dev.spillway.core.export.internal;
