package dev.spillway.core.export.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.DoubleExemplarData;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.ExemplarData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongExemplarData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OtlpMetricsTest {
  private static final int METRICS = 2_000;

  @Test
  void toRequest_generatedMetrics_isWhatTheSdkPutsOnTheWire() {
    MetricGenerator gen = new MetricGenerator(1, false);
    Random batching = new Random(2);
    for (int done = 0; done < METRICS; ) {
      List<MetricData> batch = gen.metrics(1 + batching.nextInt(100));
      done += batch.size();
      SdkSignalEncoding.assertSameDataPoints(OtlpMetrics.toRequest(batch), SdkSignalEncoding.metrics(batch));
    }
  }

  @Test
  void toBytes_generatedMetrics_areTheProtobufObjectsBytesExactly() {
    // every metric type and temporality, exemplars, edge values, attributes of every shape,
    // three resources and four scopes (MetricGenerator)
    for (boolean javaTypesPreserved : new boolean[] {false, true}) {
      MetricGenerator gen = new MetricGenerator(11, javaTypesPreserved);
      Random batching = new Random(12);
      for (int done = 0; done < METRICS; ) {
        List<MetricData> batch = gen.metrics(1 + batching.nextInt(100));
        done += batch.size();
        assertThat(OtlpMetrics.toBytes(batch)).isEqualTo(OtlpMetrics.toRequest(batch).toByteArray());
      }
    }
  }

  @Test
  void toBytes_decodedMetrics_writeTheSameBytesAgain() throws Exception {
    MetricGenerator gen = new MetricGenerator(13, false);
    for (int i = 0; i < 30; i++) {
      byte[] written = OtlpMetrics.toBytes(gen.metrics(60));
      List<MetricData> decoded = OtlpMetrics.fromRequest(ExportMetricsServiceRequest.parseFrom(written));
      assertThat(OtlpMetrics.toBytes(decoded)).isEqualTo(written);
      assertThat(OtlpMetrics.toRequest(decoded).toByteArray()).isEqualTo(written);
    }
  }

  @Test
  void toBytes_noMetrics_isAnEmptyRequest() {
    assertThat(OtlpMetrics.toBytes(List.of())).isEmpty();
  }

  @Test
  void fromRequest_generatedMetrics_equalTheOriginalsFieldByField() throws Exception {
    MetricGenerator gen = new MetricGenerator(3, true);
    Random batching = new Random(4);
    for (int done = 0; done < METRICS; ) {
      List<MetricData> batch = gen.metrics(1 + batching.nextInt(100));
      done += batch.size();
      List<MetricData> decoded =
          OtlpMetrics.fromRequest(ExportMetricsServiceRequest.parseFrom(OtlpMetrics.toBytes(batch)));
      List<MetricData> expected = inRequestOrder(batch);
      assertThat(decoded).hasSameSizeAs(expected);
      for (int i = 0; i < expected.size(); i++) {
        assertThat(describe(decoded.get(i))).isEqualTo(describe(expected.get(i)));
      }
    }
  }

  @Test
  void fromRequest_whatOtlpCannotCarry_isReplayedToTheSameWireBytes() throws Exception {
    MetricGenerator gen = new MetricGenerator(5, false);
    for (int i = 0; i < 20; i++) {
      List<MetricData> batch = gen.metrics(80);
      List<MetricData> decoded =
          OtlpMetrics.fromRequest(ExportMetricsServiceRequest.parseFrom(OtlpMetrics.toBytes(batch)));
      SdkSignalEncoding.assertSameDataPoints(SdkSignalEncoding.metrics(decoded), SdkSignalEncoding.metrics(batch));
    }
  }

  @Test
  void toBytes_metricsFromTheRealSdk_roundTripWithTheirTemporality() throws Exception {
    for (AggregationTemporality temporality : AggregationTemporality.values()) {
      List<MetricData> metrics = recordWithTheSdk(temporality);
      assertThat(metrics).extracting(MetricData::getType).contains(
          MetricDataType.LONG_SUM, MetricDataType.DOUBLE_SUM, MetricDataType.LONG_GAUGE,
          MetricDataType.DOUBLE_GAUGE, MetricDataType.HISTOGRAM, MetricDataType.EXPONENTIAL_HISTOGRAM);

      byte[] written = OtlpMetrics.toBytes(metrics);
      assertThat(written).isEqualTo(OtlpMetrics.toRequest(metrics).toByteArray());
      ExportMetricsServiceRequest request = ExportMetricsServiceRequest.parseFrom(written);
      SdkSignalEncoding.assertSameDataPoints(request, SdkSignalEncoding.metrics(metrics));
      List<MetricData> decoded = OtlpMetrics.fromRequest(request);
      assertThat(OtlpMetrics.toBytes(decoded)).isEqualTo(written);
      List<MetricData> expected = inRequestOrder(metrics);
      for (int i = 0; i < expected.size(); i++) {
        assertThat(describe(decoded.get(i))).isEqualTo(describe(expected.get(i)));
      }
      // the temporality the reader chose survives, for every metric that has one
      for (MetricData m : decoded) {
        switch (m.getType()) {
          case LONG_SUM -> assertThat(m.getLongSumData().getAggregationTemporality()).isEqualTo(temporality);
          case DOUBLE_SUM -> assertThat(m.getDoubleSumData().getAggregationTemporality()).isEqualTo(temporality);
          case HISTOGRAM -> assertThat(m.getHistogramData().getAggregationTemporality()).isEqualTo(temporality);
          case EXPONENTIAL_HISTOGRAM ->
              assertThat(m.getExponentialHistogramData().getAggregationTemporality()).isEqualTo(temporality);
          default -> {}
        }
      }
      assertThat(decoded.stream().flatMap(m -> m.getData().getPoints().stream())
              .flatMap(p -> p.getExemplars().stream())
              .filter(e -> e.getSpanContext().isValid()))
          .as("exemplars with the span they were recorded in")
          .isNotEmpty();
    }
  }

  private static List<MetricData> recordWithTheSdk(AggregationTemporality temporality) {
    InMemoryMetricReader reader =
        temporality == AggregationTemporality.DELTA ? InMemoryMetricReader.createDelta() : InMemoryMetricReader.create();
    // a span processor and an explicit sampler: without a processor the span came out invalid here
    SdkTracerProvider tracing =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create()))
            .setSampler(Sampler.alwaysOn())
            .build();
    try (SdkMeterProvider provider =
        SdkMeterProvider.builder()
            .setResource(Resource.getDefault().toBuilder().put("service.name", "metrics-test").build())
            .registerMetricReader(reader)
            .setExemplarFilter(ExemplarFilter.alwaysOn())
            .registerView(
                InstrumentSelector.builder().setName("latency.exp").build(),
                View.builder().setAggregation(Aggregation.base2ExponentialBucketHistogram()).build())
            .build()) {
      Meter meter = provider.meterBuilder("io.example.app").setInstrumentationVersion("2.0").build();
      LongCounter requests = meter.counterBuilder("requests").setUnit("{request}").setDescription("served").build();
      DoubleHistogram latency = meter.histogramBuilder("latency").setUnit("ms").build();
      DoubleHistogram latencyExp = meter.histogramBuilder("latency.exp").build();
      var queue = meter.upDownCounterBuilder("queue.depth").build();
      var bytes = meter.counterBuilder("bytes").ofDoubles().build();
      var temperature = meter.gaugeBuilder("temperature").build();
      var threads = meter.gaugeBuilder("threads").ofLongs().build();
      meter.gaugeBuilder("heap").buildWithCallback(m -> m.record(123.5, Attributes.of(AttributeKey.stringKey("pool"), "eden")));
      Span span = tracing.get("t").spanBuilder("request").startSpan();
      try (Scope ignored = span.makeCurrent()) {
        for (int i = 0; i < 200; i++) {
          Attributes a = Attributes.of(
              AttributeKey.stringKey("http.route"), "/users/" + (i % 3),
              AttributeKey.stringKey("user.id"), "u-" + (i % 2));
          requests.add(1 + i % 4, a);
          latency.record(i * 1.7, a);
          latencyExp.record(i % 2 == 0 ? i * 0.3 : 1e-3 * i, a);
          queue.add(i % 2 == 0 ? 3 : -2, a);
          bytes.add(i * 10.5);
          temperature.set(20 + i * 0.1);
          threads.set(i);
        }
      } finally {
        span.end();
      }
      return new ArrayList<>(reader.collectAllMetrics());
    } finally {
      tracing.close();
    }
  }

  @Test
  void fromRequest_metricFromAnotherProducer_readsWhatItCanAndDefaultsTheRest() {
    Metric mixed =
        Metric.newBuilder()
            .setName("mixed")
            .setSum(
                Sum.newBuilder() // unspecified temporality, an int and a double point
                    .addDataPoints(NumberDataPoint.newBuilder().setAsInt(7))
                    .addDataPoints(NumberDataPoint.newBuilder().setAsDouble(2.5)))
            .build();
    Metric empty = Metric.newBuilder().setName("no-data").build();
    ExportMetricsServiceRequest request =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(
                ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(mixed).addMetrics(empty)))
            .build();
    List<MetricData> decoded = OtlpMetrics.fromRequest(request);
    assertThat(decoded.get(0).getType()).isEqualTo(MetricDataType.LONG_SUM);
    assertThat(decoded.get(0).getLongSumData().getAggregationTemporality()).isEqualTo(AggregationTemporality.CUMULATIVE);
    assertThat(decoded.get(0).getLongSumData().getPoints()).extracting(LongPointData::getValue).containsExactly(7L, 2L);
    assertThat(decoded.get(1).getType()).isEqualTo(MetricDataType.DOUBLE_GAUGE);
    assertThat(decoded.get(1).isEmpty()).isTrue();
    assertThat(OtlpMetrics.count(request)).isEqualTo(2);
    assertThat(OtlpMetrics.count(decoded)).isEqualTo(2);
  }

  @Test
  void count_metricsAndRequest_countDataPoints() throws Exception {
    List<MetricData> metrics = new MetricGenerator(9, true).metrics(200);
    int points = metrics.stream().mapToInt(m -> m.getData().getPoints().size()).sum();
    assertThat(points).isGreaterThan(200);
    assertThat(OtlpMetrics.count(metrics)).isEqualTo(points);
    assertThat(OtlpMetrics.count(ExportMetricsServiceRequest.parseFrom(OtlpMetrics.toBytes(metrics)))).isEqualTo(points);
    assertThat(OtlpMetrics.count(ExportMetricsServiceRequest.getDefaultInstance())).isZero();
  }

  @Test
  void toString_decodedMetrics_nameNoAttributeValue() throws Exception {
    List<MetricData> decoded =
        OtlpMetrics.fromRequest(
            ExportMetricsServiceRequest.parseFrom(OtlpMetrics.toBytes(recordWithTheSdk(AggregationTemporality.CUMULATIVE))));
    for (MetricData m : decoded) {
      assertThat(m.toString()).doesNotContain("/users/").doesNotContain("u-1");
      for (PointData p : m.getData().getPoints()) {
        assertThat(p.toString()).doesNotContain("/users/").doesNotContain("u-1");
        p.getExemplars().forEach(e -> assertThat(e.toString()).doesNotContain("/users/"));
      }
    }
  }

  /** The order {@code fromRequest} gives: grouped by resource, then scope, first appearance first. */
  static List<MetricData> inRequestOrder(Collection<MetricData> metrics) {
    Map<Resource, Map<InstrumentationScopeInfo, List<MetricData>>> grouped = new LinkedHashMap<>();
    for (MetricData m : metrics) {
      grouped
          .computeIfAbsent(m.getResource(), r -> new LinkedHashMap<>())
          .computeIfAbsent(m.getInstrumentationScopeInfo(), s -> new ArrayList<>())
          .add(m);
    }
    List<MetricData> out = new ArrayList<>();
    grouped.values().forEach(byScope -> byScope.values().forEach(out::addAll));
    return out;
  }

  /**
   * Everything a {@link MetricData} says through its public getters, as plain lists, maps and
   * boxed values: equal for two metrics with the same content whatever classes implement them.
   * Exemplar contexts compare by ids (OTLP carries no exemplar flags or trace state).
   */
  static List<Object> describe(MetricData m) {
    List<Object> out = new ArrayList<>(List.of(
        m.getResource(), m.getInstrumentationScopeInfo(), m.getName(), m.getDescription(), m.getUnit(), m.getType()));
    Data<?> data = m.getData();
    if (data instanceof SumData<?> s) {
      out.add(s.isMonotonic());
      out.add(s.getAggregationTemporality());
    } else if (data instanceof HistogramData h) {
      out.add(h.getAggregationTemporality());
    } else if (data instanceof ExponentialHistogramData h) {
      out.add(h.getAggregationTemporality());
    }
    for (PointData p : data.getPoints()) {
      out.add(describe(p));
    }
    return out;
  }

  private static List<Object> describe(PointData p) {
    List<Object> out = new ArrayList<>(List.of(p.getStartEpochNanos(), p.getEpochNanos(), p.getAttributes().asMap()));
    if (p instanceof LongPointData l) {
      out.add(l.getValue());
    } else if (p instanceof DoublePointData d) {
      out.add(d.getValue());
    } else if (p instanceof HistogramPointData h) {
      out.addAll(List.of(h.getSum(), h.getCount(), h.hasMin(), h.getMin(), h.hasMax(), h.getMax(),
          h.getBoundaries(), h.getCounts()));
    } else if (p instanceof ExponentialHistogramPointData e) {
      out.addAll(List.of(e.getScale(), e.getSum(), e.getCount(), e.getZeroCount(), e.hasMin(), e.getMin(),
          e.hasMax(), e.getMax(), describe(e.getPositiveBuckets()), describe(e.getNegativeBuckets())));
    } else if (p instanceof SummaryPointData s) {
      out.addAll(List.of(s.getCount(), s.getSum()));
      s.getValues().forEach(q -> out.add(List.of(q.getQuantile(), q.getValue())));
    }
    for (ExemplarData e : p.getExemplars()) {
      out.add(List.of(
          e.getFilteredAttributes().asMap(), e.getEpochNanos(),
          e.getSpanContext().getTraceId(), e.getSpanContext().getSpanId(),
          e instanceof LongExemplarData l ? (Object) l.getValue() : (Object) ((DoubleExemplarData) e).getValue()));
    }
    return out;
  }

  private static List<Object> describe(ExponentialHistogramBuckets b) {
    return List.of(b.getScale(), b.getOffset(), List.copyOf(b.getBucketCounts()), b.getTotalCount());
  }
}
