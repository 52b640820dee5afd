package dev.spillway.core.export;

import dev.spillway.core.export.SpillwaySettings.Signal;
import io.opentelemetry.sdk.autoconfigure.spi.logs.ConfigurableLogRecordExporterProvider;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;

/**
 * The {@code spillway} logs exporter for SDK autoconfiguration: {@code OTEL_LOGS_EXPORTER=spillway}
 * wraps the exporter named by {@code otel.spillway.delegate} (default {@code otlp}, built by its
 * own provider from the standard {@code otel.exporter.otlp.*} settings) in a {@link
 * SpillingLogRecordExporter}.
 *
 * <p>The settings are those of {@link SpillwaySpanExporterProvider}, each overridable for logs
 * alone by {@code otel.spillway.logs.*}. The spill directory is {@code
 * otel.spillway.logs.directory}, by default the subdirectory {@code logs} of {@code
 * otel.spillway.directory}. A missing or invalid setting fails SDK startup with a {@code
 * ConfigurationException} naming the property.
 */
public final class SpillwayLogRecordExporterProvider implements ConfigurableLogRecordExporterProvider {
  /** For {@link java.util.ServiceLoader}. */
  public SpillwayLogRecordExporterProvider() {}

  @Override
  public String getName() {
    return "spillway";
  }

  @Override
  public LogRecordExporter createExporter(ConfigProperties config) {
    SpillwaySettings settings = new SpillwaySettings(config, Signal.LOGS);
    return settings.exporter(
        () -> settings.delegate(
            ConfigurableLogRecordExporterProvider.class,
            ConfigurableLogRecordExporterProvider::getName,
            ConfigurableLogRecordExporterProvider::createExporter),
        LogRecordExporter::shutdown,
        SpillingLogRecordExporter::start);
  }
}
