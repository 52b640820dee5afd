package dev.spillway.server.testing;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.Map;

/**
 * The real OpenTelemetry Java SDK, configured as a user would with the standard {@code OTEL_*}
 * variables (as autoconfigure reads them: {@code OTEL_X_Y} is {@code otel.x.y}): OTLP with mTLS to
 * a daemon on loopback, traces only, a short batch delay. Tests add or override variables.
 */
public final class AutoconfiguredSdk {
  private AutoconfiguredSdk() {}

  /**
   * @param protocol {@code grpc} or {@code http/protobuf}
   * @param overrides variables set after (and over) the defaults
   */
  public static OpenTelemetrySdk toDaemon(int port, String protocol, TestPki pki, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("otel.exporter.otlp.endpoint", "https://127.0.0.1:" + port);
    env.put("otel.exporter.otlp.protocol", protocol);
    env.put("otel.exporter.otlp.certificate", pki.ca.toString());
    env.put("otel.exporter.otlp.client.certificate", pki.clientCert.toString());
    env.put("otel.exporter.otlp.client.key", pki.clientKey.toString());
    env.put("otel.service.name", "spillway-e2e");
    env.put("otel.traces.exporter", "otlp");
    env.put("otel.metrics.exporter", "none");
    env.put("otel.logs.exporter", "none");
    env.put("otel.bsp.schedule.delay", "50");
    env.put("otel.bsp.max.queue.size", "10000");
    env.putAll(overrides);
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> env)
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
  }
}
