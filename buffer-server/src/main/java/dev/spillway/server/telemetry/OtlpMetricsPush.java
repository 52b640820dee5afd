package dev.spillway.server.telemetry;

import dev.spillway.server.config.MetricReaderSettings;
import dev.spillway.server.config.ServerConfig;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes the daemon's own metrics (the same registry {@code /metrics} renders) over OTLP to the
 * endpoints of {@code telemetry.metrics.readers}, as the collector's periodic readers do. Built
 * with the OpenTelemetry SDK in code only: no {@code OTEL_*} variable or system property can add
 * an endpoint or change one, and without readers nothing here is created, so no outbound
 * connection is made. Every TLS file is loaded before the first push; one that does not load
 * stops the start with the file and the reason.
 */
public final class OtlpMetricsPush implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OtlpMetricsPush.class);
  /** How long a stop waits for the last push of each reader. */
  private static final long SHUTDOWN_SECONDS = 5;

  private final SdkMeterProvider provider;

  private OtlpMetricsPush(SdkMeterProvider provider) {
    this.provider = provider;
  }

  /**
   * @param role the daemon's role, as {@code spillway.role} on the resource: ingest and drain of
   *     one deployment are two processes whose series must not merge
   */
  public static OtlpMetricsPush start(List<MetricReaderSettings> readers, PrometheusRegistry registry, String role)
      throws IOException {
    if (readers.isEmpty()) {
      throw new IllegalArgumentException("no readers");
    }
    String version = OtlpMetricsPush.class.getPackage().getImplementationVersion();
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
        AttributeKey.stringKey("service.name"), "spillway",
        AttributeKey.stringKey("service.version"), version == null ? "dev" : version,
        AttributeKey.stringKey("service.instance.id"), UUID.randomUUID().toString(),
        AttributeKey.stringKey("spillway.role"), role)));
    InstrumentationScopeInfo scope = InstrumentationScopeInfo.builder("dev.spillway.server")
        .setVersion(version == null ? "dev" : version).build();
    SdkMeterProviderBuilder b = SdkMeterProvider.builder()
        .setResource(resource)
        .registerMetricProducer(new RegistryMetricProducer(registry, scope));
    int i = 0;
    for (MetricReaderSettings r : readers) {
      String what = "telemetry.metrics.readers[" + i++ + "]";
      b.registerMetricReader(PeriodicMetricReader.builder(exporter(what, r))
          .setInterval(r.interval())
          .build());
      LOG.info("pushing the daemon's metrics over OTLP {} to {} every {} ms", protocolName(r), r.endpoint(),
          r.interval().toMillis());
    }
    return new OtlpMetricsPush(b.build());
  }

  private static MetricExporter exporter(String what, MetricReaderSettings r) throws IOException {
    ClientTls tls = r.endpoint().getScheme().equals("https")
        ? ClientTls.load(what, r.certificate(), r.clientCertificate(), r.clientKey())
        : null;
    String compression = r.gzip() ? "gzip" : "none";
    // The SDK's periodic reader has no timeout of its own: periodic.timeout bounds the request too.
    java.time.Duration timeout = r.exportTimeout().compareTo(r.timeout()) < 0 ? r.exportTimeout() : r.timeout();
    if (r.protocol() == ServerConfig.Protocol.GRPC) {
      var e = OtlpGrpcMetricExporter.builder()
          .setEndpoint(r.endpoint().toString())
          .setTimeout(timeout)
          .setCompression(compression)
          .setRetryPolicy(null); // counters are cumulative: the next push carries what a failed one had
      if (tls != null) {
        e.setSslContext(tls.context(), tls.trustManager());
      }
      for (Map.Entry<String, String> h : r.headers().entrySet()) {
        e.addHeader(h.getKey(), h.getValue());
      }
      return e.build();
    }
    var e = OtlpHttpMetricExporter.builder()
        .setEndpoint(r.endpoint().toString())
        .setTimeout(timeout)
        .setCompression(compression)
        .setRetryPolicy(null);
    if (tls != null) {
      e.setSslContext(tls.context(), tls.trustManager());
    }
    for (Map.Entry<String, String> h : r.headers().entrySet()) {
      e.addHeader(h.getKey(), h.getValue());
    }
    return e.build();
  }

  private static String protocolName(MetricReaderSettings r) {
    return r.protocol() == ServerConfig.Protocol.GRPC ? "grpc" : "http/protobuf";
  }

  /** Pushes now (tests, and a stop that wants its last figures out); waits up to {@code seconds}. */
  public boolean flush(long seconds) {
    return provider.forceFlush().join(seconds, TimeUnit.SECONDS).isSuccess();
  }

  /** Sends a last push with the final counts (bounded), then closes the connections. */
  @Override
  public void close() {
    CompletableResultCode done = provider.shutdown().join(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
    if (!done.isSuccess()) {
      LOG.warn("the last push of the daemon's metrics failed or did not complete within {} s", SHUTDOWN_SECONDS);
    }
  }
}
