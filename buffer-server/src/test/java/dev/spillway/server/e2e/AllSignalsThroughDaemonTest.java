package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.testing.Diagnostics;
import dev.spillway.server.testing.HttpDownstream;
import dev.spillway.server.testing.SignalRecorder;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.AutoconfiguredSdk;
import dev.spillway.server.testing.TestPki;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Traces, metrics and logs from the real OpenTelemetry Java SDK (autoconfigured from the standard
 * OTEL_EXPORTER_OTLP_* settings, gzip) through the daemon to a real downstream, over gRPC end to
 * end and over HTTP/protobuf end to end. The downstream is down while the SDK exports, so every
 * batch is sealed to disk; then it comes up and every item the SDK had acknowledged must arrive,
 * counted per signal. A canary in span attributes, log bodies, log attributes and metric
 * attributes must never be found in the spill directory or in anything the daemon logged.
 */
class AllSignalsThroughDaemonTest {
  static final String CANARY = "CANARY-91c2e-signals-user-token-do-not-store";
  static final int SPANS = 200;
  static final int LOGS = 200;
  static final int SERIES = 20;
  /** Counter and histogram, one point per series and flush, two flushes. */
  static final int DATA_POINTS = 2 * SERIES * 2;

  @TempDir Path dir;

  @Test
  void grpc_downstreamDownThenUp_everyAcknowledgedItemOfEverySignalArrives() throws Exception {
    run("grpc");
  }

  @Test
  void httpProtobufGzip_downstreamDownThenUp_everyAcknowledgedItemOfEverySignalArrives() throws Exception {
    run("http/protobuf");
  }

  private void run(String protocol) throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    Path spill = dir.resolve("spill");
    int downstreamPort = freePort();
    String yaml = TestConfigs.daemon(pki, spill, keys, TestConfigs.exporter(pki, protocol, downstreamPort), 4 << 20)
        .replace("limit_mib: 8", "limit_mib: 0"); // every batch sealed to disk on arrival
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(logged);
    try (Daemon daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer())) {
      int port = protocol.equals("grpc") ? daemon.grpcPort() : daemon.httpPort();
      Set<String> spanIds = emit(sdk(port, protocol, pki));
      ServerMetrics m = daemon.metrics();
      // The SDK adds points of its own instruments besides ours: metrics are at least ours.
      long points = m.signal(OtlpWire.Signal.METRICS).received.sum();
      assertThat(points).isGreaterThanOrEqualTo(DATA_POINTS);
      assertCounts(m, c -> c.received, SPANS, points, LOGS);
      assertCounts(m, c -> c.spilled, SPANS, points, LOGS);
      assertCounts(m, c -> c.exported, 0, 0, 0);
      assertThat(SdkThroughDaemonTest.filesContaining(spill, CANARY)).isEmpty();

      SignalRecorder got;
      Set<String> gotSpans;
      AutoCloseable downstream;
      if (protocol.equals("grpc")) {
        Downstream d = new Downstream(pki, downstreamPort);
        downstream = d;
        got = d.signals;
        gotSpans = d.spanIds;
        assertThat(d.awaitSpans(SPANS, Duration.ofSeconds(60))).as(() -> "spans" + Diagnostics.of(daemon)).isTrue();
      } else {
        HttpDownstream d = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca, downstreamPort);
        downstream = d;
        got = d.signals;
        gotSpans = d.spanIds;
        assertThat(d.awaitSpans(SPANS, Duration.ofSeconds(60))).as(() -> "spans" + Diagnostics.of(daemon)).isTrue();
      }
      try (downstream) {
        assertThat(got.await((int) points, LOGS, Duration.ofSeconds(60)))
            .as(() -> got.dataPoints.size() + " data points, " + got.logRecords.size() + " log records"
                + Diagnostics.of(daemon)).isTrue();
        assertThat(gotSpans).containsExactlyInAnyOrderElementsOf(spanIds);
        assertThat(got.logRecords).containsExactlyInAnyOrderElementsOf(
            IntStream.range(0, LOGS).mapToObj(Integer::toString).collect(Collectors.toSet()));
        assertThat(got.dataPoints).hasSize((int) points);
        assertThat(got.dataPoints.stream().filter(k -> k.startsWith("e2e."))).hasSize(DATA_POINTS);
        // The downstream records before its answer reaches the daemon: bounded wait for the counts.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (m.signal(OtlpWire.Signal.LOGS).exported.sum() + m.signal(OtlpWire.Signal.METRICS).exported.sum()
                + m.signal(OtlpWire.Signal.TRACES).exported.sum() < SPANS + points + LOGS
            && System.nanoTime() < deadline) {
          Thread.sleep(10); // no signal for a counter; 10 s at most
        }
        assertCounts(m, c -> c.exported, SPANS, points, LOGS);
        String prom = m.render();
        assertThat(prom).contains("spillway_items_exported_total{signal=\"logs\"} " + LOGS + ".0")
            .contains("spillway_items_exported_total{signal=\"metrics\"} " + points + ".0")
            .contains("spillway_items_spilled_total{signal=\"traces\"} " + SPANS + ".0");
      }
    } finally {
      root.detachAppender(logged);
    }
    assertThat(SdkThroughDaemonTest.filesContaining(spill, CANARY)).isEmpty();
    assertThat(logged.list).isNotEmpty();
    for (ILoggingEvent e : logged.list) {
      assertThat(e.getFormattedMessage()).doesNotContain(CANARY);
      if (e.getThrowableProxy() != null) {
        assertThat(e.getThrowableProxy().getMessage() == null ? "" : e.getThrowableProxy().getMessage()).doesNotContain(CANARY);
      }
    }
  }

  private static void assertCounts(ServerMetrics m, java.util.function.Function<ServerMetrics.SignalCounts,
      java.util.concurrent.atomic.LongAdder> which, long spans, long points, long logs) {
    assertThat(which.apply(m.signal(OtlpWire.Signal.TRACES)).sum()).as("traces").isEqualTo(spans);
    assertThat(which.apply(m.signal(OtlpWire.Signal.METRICS)).sum()).as("metrics").isEqualTo(points);
    assertThat(which.apply(m.signal(OtlpWire.Signal.LOGS)).sum()).as("logs").isEqualTo(logs);
  }

  /** Emits every signal, with the canary in span, log and metric attributes and log bodies; flushes. */
  private static Set<String> emit(OpenTelemetrySdk sdk) {
    Set<String> spanIds = new HashSet<>();
    try {
      Tracer tracer = sdk.getTracer("e2e");
      for (int i = 0; i < SPANS; i++) {
        Span s = tracer.spanBuilder("op-" + i).startSpan();
        s.setAttribute(AttributeKey.stringKey("user.token"), CANARY);
        s.end();
        spanIds.add(s.getSpanContext().getSpanId());
      }
      io.opentelemetry.api.logs.Logger logger = sdk.getLogsBridge().get("e2e");
      for (int i = 0; i < LOGS; i++) {
        logger.logRecordBuilder().setBody("login for " + CANARY + " #" + i)
            .setAttribute(AttributeKey.stringKey("user.token"), CANARY)
            .setAttribute(AttributeKey.longKey("seq"), (long) i)
            .emit();
      }
      Meter meter = sdk.getMeter("e2e");
      LongCounter counter = meter.counterBuilder("e2e.requests").build();
      DoubleHistogram latency = meter.histogramBuilder("e2e.latency").build();
      for (int round = 0; round < 2; round++) {
        for (int s = 0; s < SERIES; s++) {
          Attributes a = Attributes.of(AttributeKey.stringKey("series"), "s" + s,
              AttributeKey.stringKey("user.token"), CANARY);
          counter.add(s + 1, a);
          latency.record(s * 0.5, a);
        }
        assertThat(sdk.getSdkMeterProvider().forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      assertThat(sdk.getSdkTracerProvider().forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(sdk.getSdkLoggerProvider().forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    } finally {
      sdk.shutdown().join(10, TimeUnit.SECONDS);
    }
    return spanIds;
  }

  private static OpenTelemetrySdk sdk(int port, String protocol, TestPki pki) {
    Map<String, String> env = new HashMap<>();
    env.put("otel.exporter.otlp.compression", "gzip");
    env.put("otel.service.name", "spillway-signals-e2e");
    env.put("otel.metrics.exporter", "otlp");
    env.put("otel.logs.exporter", "otlp");
    env.put("otel.metric.export.interval", "600000"); // only the explicit flushes export
    // Delta: a series without new measurements is not sent again (at shutdown, say), so the
    // points are exactly those of the two flushes.
    env.put("otel.exporter.otlp.metrics.temporality.preference", "delta");
    env.put("otel.blrp.schedule.delay", "50");
    env.put("otel.blrp.max.queue.size", "10000");
    return AutoconfiguredSdk.toDaemon(port, protocol, pki, env);
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
