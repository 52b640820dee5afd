package dev.spillway.core.export;

import dev.spillway.core.export.SpillwaySettings.Signal;
import io.opentelemetry.sdk.autoconfigure.spi.metrics.ConfigurableMetricExporterProvider;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;

/**
 * The {@code spillway} metrics exporter for SDK autoconfiguration: {@code OTEL_METRICS_EXPORTER=spillway}
 * wraps the exporter named by {@code otel.spillway.delegate} (default {@code otlp}, built by its
 * own provider from the standard {@code otel.exporter.otlp.*} settings) in a {@link
 * SpillingMetricExporter}. The wrapped exporter's temporality preference ({@code
 * otel.exporter.otlp.metrics.temporality.preference}), default histogram aggregation and memory mode
 * ({@code otel.java.exporter.memory_mode}) are its own settings and decide how the SDK collects.
 *
 * <p>The settings are those of {@link SpillwaySpanExporterProvider}, each overridable for metrics
 * alone by {@code otel.spillway.metrics.*}. The spill directory is {@code
 * otel.spillway.metrics.directory}, by default the subdirectory {@code metrics} of {@code
 * otel.spillway.directory}. A missing or invalid setting fails SDK startup with a {@code
 * ConfigurationException} naming the property.
 */
public final class SpillwayMetricExporterProvider implements ConfigurableMetricExporterProvider {
  /** For {@link java.util.ServiceLoader}. */
  public SpillwayMetricExporterProvider() {}

  @Override
  public String getName() {
    return "spillway";
  }

  @Override
  public MetricExporter createExporter(ConfigProperties config) {
    SpillwaySettings settings = new SpillwaySettings(config, Signal.METRICS);
    return settings.exporter(
        () -> settings.delegate(
            ConfigurableMetricExporterProvider.class,
            ConfigurableMetricExporterProvider::getName,
            ConfigurableMetricExporterProvider::createExporter),
        MetricExporter::shutdown,
        SpillingMetricExporter::start);
  }
}
