package dev.spillway.core.export;

import static dev.spillway.core.export.Spans.CANARY;
import static dev.spillway.core.export.Spans.filesWithCanary;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.internal.seal.TestKeys;
import io.grpc.Status;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongUpDownCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporterBuilder;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SpillingMetricExporter with the real metric SDK ({@code PeriodicMetricReader}) around the real
 * OTLP/gRPC metric exporter, against a real in-test OTLP receiver on 127.0.0.1 that is down from
 * the start: every accepted data point arrives after recovery or after close() and a restart, a
 * canary in attributes never reaches the spill directory in plaintext, and the values of each
 * collection arrive as collected, in both memory modes and both temporalities.
 */
class SpillingMetricExporterTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  /** The memory tier; the tests export many times as much. */
  static final long MEMORY_LIMIT = 64 << 10;
  /** Series per instrument. */
  static final int SERIES = 8;

  @TempDir Path tmp;
  TestKeys keys;
  Path dir;
  OtlpReceiver receiver;
  final List<SdkMeterProvider> providers = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    dir = tmp.resolve("spill");
    receiver = OtlpReceiver.start();
  }

  @AfterEach
  void tearDown() {
    for (SdkMeterProvider p : providers) {
      p.shutdown().join(60, TimeUnit.SECONDS);
    }
    receiver.close();
  }

  SpillBufferBuilder bufferConfig() {
    return SpillBuffer.builder()
        .directory(dir)
        .writerKeys(keys.issuer())
        .readerKeys(keys.unwrapper())
        .memoryLimitBytes(MEMORY_LIMIT)
        .fsync(FsyncPolicy.none());
  }

  SpillingMetricExporter exporter(OtlpGrpcMetricExporter delegate) throws Exception {
    return SpillingMetricExporter.builder(delegate, bufferConfig())
        .setReplayBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .build();
  }

  /** The delegate as docs/EMBEDDING.md shows it, default retry policy included. */
  OtlpGrpcMetricExporter otlp() {
    return OtlpGrpcMetricExporter.builder().setEndpoint(receiver.endpoint()).build();
  }

  /** A meter provider whose reader exports only when forced (its interval is an hour). */
  SdkMeterProvider provider(Accepted.Metrics exporter) {
    SdkMeterProvider p =
        SdkMeterProvider.builder()
            .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "metric-gateway")))
            .registerMetricReader(PeriodicMetricReader.builder(exporter).setInterval(Duration.ofHours(1)).build())
            .build();
    providers.add(p);
    return p;
  }

  /** HTTP-server instruments; every series carries the canary in an attribute. */
  static final class Instruments {
    final LongCounter requests;
    final DoubleHistogram latency;
    final LongUpDownCounter active;

    Instruments(Meter meter) {
      requests = meter.counterBuilder("http.server.requests").setUnit("{request}").build();
      latency = meter.histogramBuilder("http.server.duration").setUnit("ms").build();
      active = meter.upDownCounterBuilder("http.server.active_requests").build();
    }

    /** One round of measurements, {@code round} deciding the values. */
    void record(int round) {
      for (int s = 0; s < SERIES; s++) {
        Attributes a = Attributes.of(
            AttributeKey.stringKey("http.route"), "/users/" + s,
            AttributeKey.stringKey("enduser.note"), CANARY);
        requests.add(round + s + 1, a);
        latency.record(round * 1.5 + s, a);
        active.add(round % 2 == 0 ? 1 : -1, a);
      }
    }
  }

  /** Records and collects {@code rounds} times; each collection is one export. */
  static void collect(SdkMeterProvider provider, Instruments instruments, int from, int to) {
    for (int round = from; round < to; round++) {
      instruments.record(round);
      assertThat(provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).as("collection %s", round).isTrue();
    }
  }

  @Test
  void export_outageFromTheStart_periodicReader_nothingRefusedEveryAcceptedPointDelivered() throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    SpillingMetricExporter exporter = exporter(otlp());
    Accepted.Metrics accepted = new Accepted.Metrics(exporter);
    SdkMeterProvider provider = provider(accepted);
    Instruments instruments = new Instruments(provider.get("dev.spillway.metrics"));
    int rounds = 150;

    collect(provider, instruments, 0, rounds);

    // (The SDK may add metrics of its own: count what the exporter was given.)
    int points = accepted.count();
    assertThat(points).isGreaterThanOrEqualTo(rounds * 3 * SERIES);
    assertThat(accepted.bytes()).as("OTLP bytes accepted").isGreaterThan(4 * MEMORY_LIMIT);
    assertThat(exporter.acceptedAndRefused()).containsExactly(points, 0);
    BufferMetrics m = exporter.bufferMetrics();
    assertThat(m.refused()).isZero();
    assertThat(m.spilled()).as("batches sealed to disk past the memory tier").isPositive();
    assertThat(receiver.metricRequests()).isEmpty();
    assertThat(filesWithCanary(dir)).isEmpty();

    receiver.recover();
    assertThat(receiver.awaitDataPoints(points, WAIT)).isTrue();
    assertThat(Accepted.dataPoints(receiver.metricRequests())).isEqualTo(accepted.points());
  }

  @Test
  void close_sdkDefaultTimeoutDuringAnOutage_nextStartDeliversEveryAcceptedPoint() throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    SpillingMetricExporter first = exporter(otlp());
    Accepted.Metrics accepted = new Accepted.Metrics(first);
    SdkMeterProvider provider = provider(accepted);
    Instruments instruments = new Instruments(provider.get("dev.spillway.metrics"));
    collect(provider, instruments, 0, 50);
    instruments.record(50); // collected by the reader's shutdown

    long t0 = System.nanoTime();
    provider.close(); // shutdown().join(10 s), as an application's exit does
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(15_000);
    int points = accepted.count();
    assertThat(points).isGreaterThanOrEqualTo(51 * 3 * SERIES);
    assertThat(first.acceptedAndRefused()).containsExactly(points, 0);
    assertThat(first.shutdown().join(60, TimeUnit.SECONDS).isDone()).isTrue();
    assertThat(receiver.metricRequests()).isEmpty();
    assertThat(filesWithCanary(dir)).isEmpty();

    receiver.recover();
    SpillingMetricExporter second = exporter(otlp());
    try {
      assertThat(receiver.awaitDataPoints(points, WAIT)).isTrue();
      assertThat(Accepted.dataPoints(receiver.metricRequests())).isEqualTo(accepted.points());
    } finally {
      second.shutdown().join(60, TimeUnit.SECONDS);
    }
  }

  /**
   * Three collections while the downstream is down, then recovery. In reusable-data mode the SDK
   * overwrites its points after each export: an exporter that kept the SDK's objects for replay
   * would send the last collection's values three times.
   */
  @ParameterizedTest(name = "{0}, {1}")
  @CsvSource({
    "REUSABLE_DATA, CUMULATIVE", "REUSABLE_DATA, DELTA", "IMMUTABLE_DATA, CUMULATIVE", "IMMUTABLE_DATA, DELTA"
  })
  void export_memoryModeAndTemporality_eachCollectionArrivesWithItsValuesAndTemporality(
      MemoryMode mode, AggregationTemporality temporality) throws Exception {
    receiver.failWith(Status.UNAVAILABLE.withDescription("collector down"));
    OtlpGrpcMetricExporterBuilder otlp =
        OtlpGrpcMetricExporter.builder()
            .setEndpoint(receiver.endpoint())
            .setTimeout(Duration.ofSeconds(5))
            .setRetryPolicy(null)
            .setMemoryMode(mode);
    if (temporality == AggregationTemporality.DELTA) {
      otlp.setAggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred());
    }
    SpillingMetricExporter exporter = exporter(otlp.build());
    assertThat(exporter.getMemoryMode()).isEqualTo(mode);
    assertThat(exporter.getAggregationTemporality(InstrumentType.COUNTER)).isEqualTo(temporality);
    assertThat(exporter.getAggregationTemporality(InstrumentType.HISTOGRAM)).isEqualTo(temporality);
    Accepted.Metrics accepted = new Accepted.Metrics(exporter);
    SdkMeterProvider provider = provider(accepted);
    Meter meter = provider.get("dev.spillway.metrics");
    LongCounter requests = meter.counterBuilder("requests").build();
    DoubleHistogram latency = meter.histogramBuilder("latency").build();
    Attributes a = Attributes.of(AttributeKey.stringKey("enduser.note"), CANARY);
    for (long v : new long[] {1, 10, 100}) {
      requests.add(v, a);
      latency.record(v, a);
      assertThat(provider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
    if (mode == MemoryMode.REUSABLE_DATA) {
      assertThat(exporter.originalsHeld()).as("SDK objects held for replay").isZero();
    }
    assertThat(filesWithCanary(dir)).isEmpty();

    receiver.recover();
    assertThat(receiver.awaitDataPoints(accepted.count(), WAIT)).isTrue();
    List<ExportMetricsServiceRequest> received = receiver.metricRequests();
    boolean cumulative = temporality == AggregationTemporality.CUMULATIVE;
    var otlpTemporality = cumulative
        ? io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
        : io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
    LinkedHashSet<String> sums = new LinkedHashSet<>();
    LinkedHashSet<String> histograms = new LinkedHashSet<>();
    List<Metric> metrics = new ArrayList<>();
    received.forEach(r -> r.getResourceMetricsList().forEach(
        rm -> rm.getScopeMetricsList().forEach(sm -> metrics.addAll(sm.getMetricsList()))));
    for (Metric metric : metrics) {
      {
        if (metric.getName().equals("requests")) {
          assertThat(metric.getSum().getDataPointsCount()).isEqualTo(1);
          assertThat(metric.getSum().getAggregationTemporality()).isEqualTo(otlpTemporality);
          assertThat(metric.getSum().getIsMonotonic()).isTrue();
          sums.add(String.valueOf(metric.getSum().getDataPoints(0).getAsInt()));
        } else if (metric.getName().equals("latency")) {
          assertThat(metric.getHistogram().getDataPointsCount()).isEqualTo(1);
          assertThat(metric.getHistogram().getAggregationTemporality()).isEqualTo(otlpTemporality);
          var p = metric.getHistogram().getDataPoints(0);
          histograms.add(p.getCount() + "/" + (long) p.getSum());
        }
      }
    }
    assertThat(sums).containsExactly(cumulative ? new String[] {"1", "11", "111"} : new String[] {"1", "10", "100"});
    assertThat(histograms)
        .containsExactly(cumulative ? new String[] {"1/1", "2/11", "3/111"} : new String[] {"1/1", "1/10", "1/100"});
    assertThat(Accepted.dataPoints(received)).isEqualTo(accepted.points());
  }
}
