/**
 * Spillway inside an OpenTelemetry Java SDK: {@link dev.spillway.core.export.SpillingSpanExporter},
 * {@link dev.spillway.core.export.SpillingLogRecordExporter} and {@link
 * dev.spillway.core.export.SpillingMetricExporter} wrap the SDK's exporter of their signal with an
 * encrypted spill buffer, and {@link dev.spillway.core.export.SpillwaySpanExporterProvider}, {@link
 * dev.spillway.core.export.SpillwayLogRecordExporterProvider} and {@link
 * dev.spillway.core.export.SpillwayMetricExporterProvider} offer them to SDK autoconfiguration as
 * {@code OTEL_TRACES_EXPORTER=spillway}, {@code OTEL_LOGS_EXPORTER=spillway} and {@code
 * OTEL_METRICS_EXPORTER=spillway}. Needs {@code io.opentelemetry:opentelemetry-sdk-trace}, {@code
 * -sdk-logs} or {@code -sdk-metrics} (and, for autoconfiguration, {@code
 * opentelemetry-sdk-extension-autoconfigure}) from the host: buffer-core declares them optional.
 * docs/EMBEDDING.md says what embedding costs.
 */
package dev.spillway.core.export;
