package dev.spillway.core.export;

import dev.spillway.core.export.SpillwaySettings.Signal;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * The {@code spillway} span exporter for SDK autoconfiguration: {@code OTEL_TRACES_EXPORTER=spillway}
 * wraps the exporter named by {@code otel.spillway.delegate} (default {@code otlp}, built by its own provider
 * from the standard {@code otel.exporter.otlp.*} settings) in a {@link SpillingSpanExporter}.
 *
 * <p>Settings (system properties, or environment variables in upper case with {@code _}):
 *
 * <table>
 *   <caption>otel.spillway.* properties</caption>
 *   <tr><th>property</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code otel.spillway.directory}</td><td>required</td><td>spill directory (created 0700)</td></tr>
 *   <tr><td>{@code otel.spillway.memory.limit.mib}</td><td>64</td><td>memory tier, MiB; 0 spills every failed batch</td></tr>
 *   <tr><td>{@code otel.spillway.disk.max.mib}</td><td>1024</td><td>disk budget, MiB</td></tr>
 *   <tr><td>{@code otel.spillway.durability}</td><td>memory-first</td><td>memory-first or durable</td></tr>
 *   <tr><td>{@code otel.spillway.fsync}</td><td>1s</td><td>none, every-batch, or an interval</td></tr>
 *   <tr><td>{@code otel.spillway.overflow}</td><td>refuse</td><td>refuse or drop-oldest when the budget is spent</td></tr>
 *   <tr><td>{@code otel.spillway.queue.name}</td><td>spillway</td><td>bound into every record</td></tr>
 *   <tr><td>{@code otel.spillway.keys.provider}</td><td>local</td><td>local, aws-kms or aws-kms-rsa</td></tr>
 *   <tr><td>{@code otel.spillway.keys.dir}</td><td></td><td>local: directory holding writer.json and reader.json</td></tr>
 *   <tr><td>{@code otel.spillway.keys.writer} / {@code otel.spillway.keys.reader}</td><td></td><td>local: the two keyset files, instead of a directory</td></tr>
 *   <tr><td>{@code otel.spillway.kms.key.arn}</td><td></td><td>aws-kms*: the key ARN</td></tr>
 *   <tr><td>{@code otel.spillway.kms.region} / {@code otel.spillway.kms.endpoint}</td><td>SDK chain / region's</td><td>aws-kms*: region, endpoint override</td></tr>
 *   <tr><td>{@code otel.spillway.delegate}</td><td>otlp</td><td>the span exporter to wrap</td></tr>
 *   <tr><td>{@code otel.spillway.delegate.protocol}</td><td>otel.exporter.otlp[.traces].protocol</td><td>grpc or http/protobuf, for the otlp delegate</td></tr>
 *   <tr><td>{@code otel.spillway.export.timeout}</td><td>10s</td><td>time the delegate gets before a batch spills</td></tr>
 *   <tr><td>{@code otel.spillway.encryption.warmup}</td><td>0 (off)</td><td>AES-GCM brought to compiled speed before the buffer opens, for at most this long</td></tr>
 * </table>
 *
 * <p>Every setting may be overridden for traces alone by {@code otel.spillway.traces.*} (for
 * example {@code otel.spillway.traces.directory}), as {@link SpillwayLogRecordExporterProvider}
 * and {@link SpillwayMetricExporterProvider} read {@code otel.spillway.logs.*} and {@code
 * otel.spillway.metrics.*}; the three exporters need three directories (the other two default to
 * subdirectories of {@code otel.spillway.directory}).
 *
 * <p>A missing or invalid setting fails SDK startup with a {@link ConfigurationException} naming
 * the property.
 */
public final class SpillwaySpanExporterProvider implements ConfigurableSpanExporterProvider {
  /** For {@link java.util.ServiceLoader}. */
  public SpillwaySpanExporterProvider() {}

  @Override
  public String getName() {
    return "spillway";
  }

  @Override
  public SpanExporter createExporter(ConfigProperties config) {
    SpillwaySettings settings = new SpillwaySettings(config, Signal.TRACES);
    return settings.exporter(
        () -> settings.delegate(
            ConfigurableSpanExporterProvider.class,
            ConfigurableSpanExporterProvider::getName,
            ConfigurableSpanExporterProvider::createExporter),
        SpanExporter::shutdown,
        SpillingSpanExporter::start);
  }
}
