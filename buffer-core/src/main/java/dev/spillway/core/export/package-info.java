/**
 * Spillway inside an OpenTelemetry Java SDK: {@link dev.spillway.core.export.SpillingSpanExporter}
 * wraps any {@code SpanExporter} with an encrypted spill buffer, and {@link
 * dev.spillway.core.export.SpillwaySpanExporterProvider} offers it to SDK autoconfiguration as
 * {@code OTEL_TRACES_EXPORTER=spillway}. Needs {@code io.opentelemetry:opentelemetry-sdk-trace}
 * (and, for autoconfiguration, {@code opentelemetry-sdk-extension-autoconfigure}) from the host:
 * buffer-core declares them optional. docs/EMBEDDING.md says what embedding costs.
 */
package dev.spillway.core.export;
