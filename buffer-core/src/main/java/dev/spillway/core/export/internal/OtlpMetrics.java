package dev.spillway.core.export.internal;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogram;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.metrics.v1.Summary;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.DoubleExemplarData;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.ExemplarData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongExemplarData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.data.ValueAtQuantile;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link MetricData} to and from an OTLP {@link ExportMetricsServiceRequest}, written against the
 * public {@code io.opentelemetry.proto} classes (the SDK's own marshalers are internal API).
 *
 * <p><b>Not API.</b> This package may change in any release.
 *
 * <p>Stateless: every method may be called from any thread. {@code toBytes} reads its input
 * before it returns and keeps nothing, so a caller may reuse the SDK's objects afterwards (the
 * metric SDK's reusable-data memory mode does).
 *
 * <p>Every metric type the SDK makes (long and double gauges and sums, histograms, exponential
 * histograms, summaries) with its aggregation temporality and monotonicity as written, so a
 * replayed batch reaches the wrapped exporter with the temporality its own selector chose.
 * What OTLP cannot carry, and what a decoded metric therefore has instead:
 *
 * <ul>
 *   <li>an exemplar's trace flags, trace state and is-remote bit (OTLP has only the ids): a decoded
 *       exemplar's context is local, with default flags and state;
 *   <li>whether a gauge or sum without points was an integer or a double one: decoded as
 *       double (the SDK does not export metrics without points);
 *   <li>the Java type of an empty array attribute, and of a {@code VALUE} attribute holding a
 *       plain scalar (see {@link OtlpAttributes}).
 * </ul>
 *
 * Each of these encodes to the same OTLP bytes again. Metrics from other producers may hold what
 * the SDK cannot express (a number gauge or sum mixing integer and double points, integer
 * exemplars on a histogram, an unspecified temporality, point flags, {@code zero_threshold},
 * {@code metadata}); those are read as the nearest SDK form and are not written back identically.
 */
public final class OtlpMetrics {
  private OtlpMetrics() {}

  /**
   * One request holding {@code metrics}, grouped by resource, then by instrumentation scope, each
   * group in order of first appearance and the metrics of a group in their given order.
   */
  public static ExportMetricsServiceRequest toRequest(Collection<? extends MetricData> metrics) {
    Map<Resource, Map<InstrumentationScopeInfo, List<Metric>>> grouped = new LinkedHashMap<>();
    for (MetricData m : metrics) {
      grouped
          .computeIfAbsent(m.getResource(), r -> new LinkedHashMap<>())
          .computeIfAbsent(m.getInstrumentationScopeInfo(), i -> new ArrayList<>())
          .add(toProto(m));
    }
    ExportMetricsServiceRequest.Builder request = ExportMetricsServiceRequest.newBuilder();
    grouped.forEach(
        (resource, byScope) -> {
          ResourceMetrics.Builder rm =
              ResourceMetrics.newBuilder().setResource(OtlpResourceScope.toProto(resource));
          if (resource.getSchemaUrl() != null) {
            rm.setSchemaUrl(resource.getSchemaUrl());
          }
          byScope.forEach(
              (scope, protoMetrics) -> {
                ScopeMetrics.Builder sm =
                    ScopeMetrics.newBuilder()
                        .setScope(OtlpResourceScope.toProto(scope))
                        .addAllMetrics(protoMetrics);
                if (scope.getSchemaUrl() != null) {
                  sm.setSchemaUrl(scope.getSchemaUrl());
                }
                rm.addScopeMetrics(sm);
              });
          request.addResourceMetrics(rm);
        });
    return request.build();
  }

  /**
   * The bytes of {@link #toRequest}{@code (metrics)}, written directly without building the
   * protobuf objects (see {@code OtlpMetricsWriter}).
   */
  public static byte[] toBytes(Collection<? extends MetricData> metrics) {
    return OtlpMetricsWriter.write(metrics);
  }

  /** Every metric of {@code request}, in request order. */
  public static List<MetricData> fromRequest(ExportMetricsServiceRequest request) {
    List<MetricData> out = new ArrayList<>();
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      Resource resource = OtlpResourceScope.fromProto(rm.getResource(), rm.getSchemaUrl());
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        InstrumentationScopeInfo scope = OtlpResourceScope.fromProto(sm.getScope(), sm.getSchemaUrl());
        for (Metric m : sm.getMetricsList()) {
          out.add(fromProto(m, scope, resource));
        }
      }
    }
    return out;
  }

  /** The items an exporter reports for {@code metrics}: their data points. */
  public static int count(Collection<? extends MetricData> metrics) {
    int n = 0;
    for (MetricData m : metrics) {
      n += m.getData().getPoints().size();
    }
    return n;
  }

  /** The data points in {@code request}. */
  public static int count(ExportMetricsServiceRequest request) {
    int n = 0;
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          n += switch (m.getDataCase()) {
            case GAUGE -> m.getGauge().getDataPointsCount();
            case SUM -> m.getSum().getDataPointsCount();
            case HISTOGRAM -> m.getHistogram().getDataPointsCount();
            case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsCount();
            case SUMMARY -> m.getSummary().getDataPointsCount();
            case DATA_NOT_SET -> 0;
          };
        }
      }
    }
    return n;
  }

  // ------------------------------------------------------------------ encode

  static Metric toProto(MetricData metric) {
    Metric.Builder b = Metric.newBuilder();
    if (metric.getName() != null) {
      b.setName(metric.getName());
    }
    if (metric.getDescription() != null) {
      b.setDescription(metric.getDescription());
    }
    if (metric.getUnit() != null) {
      b.setUnit(metric.getUnit());
    }
    switch (metric.getType()) {
      case LONG_GAUGE, DOUBLE_GAUGE -> b.setGauge(Gauge.newBuilder().addAllDataPoints(numberPoints(metric.getData())));
      case LONG_SUM, DOUBLE_SUM -> {
        var sum = metric.getType() == MetricDataType.LONG_SUM ? metric.getLongSumData() : metric.getDoubleSumData();
        b.setSum(
            Sum.newBuilder()
                .addAllDataPoints(numberPoints(sum))
                .setAggregationTemporalityValue(temporalityNumber(sum.getAggregationTemporality()))
                .setIsMonotonic(sum.isMonotonic()));
      }
      case HISTOGRAM -> {
        Histogram.Builder h =
            Histogram.newBuilder()
                .setAggregationTemporalityValue(
                    temporalityNumber(metric.getHistogramData().getAggregationTemporality()));
        for (HistogramPointData p : metric.getHistogramData().getPoints()) {
          h.addDataPoints(toProto(p));
        }
        b.setHistogram(h);
      }
      case EXPONENTIAL_HISTOGRAM -> {
        ExponentialHistogram.Builder h =
            ExponentialHistogram.newBuilder()
                .setAggregationTemporalityValue(
                    temporalityNumber(metric.getExponentialHistogramData().getAggregationTemporality()));
        for (ExponentialHistogramPointData p : metric.getExponentialHistogramData().getPoints()) {
          h.addDataPoints(toProto(p));
        }
        b.setExponentialHistogram(h);
      }
      case SUMMARY -> {
        Summary.Builder s = Summary.newBuilder();
        for (SummaryPointData p : metric.getSummaryData().getPoints()) {
          s.addDataPoints(toProto(p));
        }
        b.setSummary(s);
      }
    }
    return b.build();
  }

  /** {@code AggregationTemporality} in OTLP: DELTA 1, CUMULATIVE 2. */
  static int temporalityNumber(AggregationTemporality t) {
    return switch (t) {
      case DELTA -> io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA_VALUE;
      case CUMULATIVE ->
          io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE_VALUE;
    };
  }

  private static List<NumberDataPoint> numberPoints(Data<?> data) {
    List<NumberDataPoint> out = new ArrayList<>(data.getPoints().size());
    for (PointData p : data.getPoints()) {
      NumberDataPoint.Builder b =
          NumberDataPoint.newBuilder()
              .setStartTimeUnixNano(p.getStartEpochNanos())
              .setTimeUnixNano(p.getEpochNanos())
              .addAllAttributes(OtlpAttributes.toProto(p.getAttributes()));
      if (p instanceof LongPointData l) {
        b.setAsInt(l.getValue());
      } else {
        b.setAsDouble(((DoublePointData) p).getValue());
      }
      for (ExemplarData e : p.getExemplars()) {
        b.addExemplars(toProto(e));
      }
      out.add(b.build());
    }
    return out;
  }

  private static HistogramDataPoint toProto(HistogramPointData p) {
    HistogramDataPoint.Builder b =
        HistogramDataPoint.newBuilder()
            .setStartTimeUnixNano(p.getStartEpochNanos())
            .setTimeUnixNano(p.getEpochNanos())
            .setCount(p.getCount())
            .setSum(p.getSum())
            .addAllBucketCounts(p.getCounts())
            .addAllExplicitBounds(p.getBoundaries())
            .addAllAttributes(OtlpAttributes.toProto(p.getAttributes()));
    if (p.hasMin()) {
      b.setMin(p.getMin());
    }
    if (p.hasMax()) {
      b.setMax(p.getMax());
    }
    for (ExemplarData e : p.getExemplars()) {
      b.addExemplars(toProto(e));
    }
    return b.build();
  }

  private static ExponentialHistogramDataPoint toProto(ExponentialHistogramPointData p) {
    ExponentialHistogramDataPoint.Builder b =
        ExponentialHistogramDataPoint.newBuilder()
            .addAllAttributes(OtlpAttributes.toProto(p.getAttributes()))
            .setStartTimeUnixNano(p.getStartEpochNanos())
            .setTimeUnixNano(p.getEpochNanos())
            .setCount(p.getCount())
            .setSum(p.getSum())
            .setScale(p.getScale())
            .setZeroCount(p.getZeroCount())
            .setPositive(toProto(p.getPositiveBuckets()))
            .setNegative(toProto(p.getNegativeBuckets()));
    if (p.hasMin()) {
      b.setMin(p.getMin());
    }
    if (p.hasMax()) {
      b.setMax(p.getMax());
    }
    for (ExemplarData e : p.getExemplars()) {
      b.addExemplars(toProto(e));
    }
    return b.build();
  }

  private static ExponentialHistogramDataPoint.Buckets toProto(ExponentialHistogramBuckets buckets) {
    return ExponentialHistogramDataPoint.Buckets.newBuilder()
        .setOffset(buckets.getOffset())
        .addAllBucketCounts(buckets.getBucketCounts())
        .build();
  }

  private static SummaryDataPoint toProto(SummaryPointData p) {
    SummaryDataPoint.Builder b =
        SummaryDataPoint.newBuilder()
            .setStartTimeUnixNano(p.getStartEpochNanos())
            .setTimeUnixNano(p.getEpochNanos())
            .setCount(p.getCount())
            .setSum(p.getSum())
            .addAllAttributes(OtlpAttributes.toProto(p.getAttributes()));
    for (ValueAtQuantile q : p.getValues()) {
      b.addQuantileValues(
          SummaryDataPoint.ValueAtQuantile.newBuilder().setQuantile(q.getQuantile()).setValue(q.getValue()));
    }
    return b.build();
  }

  private static Exemplar toProto(ExemplarData e) {
    Exemplar.Builder b =
        Exemplar.newBuilder()
            .setTimeUnixNano(e.getEpochNanos())
            .addAllFilteredAttributes(OtlpAttributes.toProto(e.getFilteredAttributes()));
    if (e instanceof LongExemplarData l) {
      b.setAsInt(l.getValue());
    } else {
      b.setAsDouble(((DoubleExemplarData) e).getValue());
    }
    SpanContext sc = e.getSpanContext();
    if (sc.isValid()) {
      b.setSpanId(ByteString.copyFrom(sc.getSpanIdBytes()));
      b.setTraceId(ByteString.copyFrom(sc.getTraceIdBytes()));
    }
    return b.build();
  }

  // ------------------------------------------------------------------ decode

  private static MetricData fromProto(Metric m, InstrumentationScopeInfo scope, Resource resource) {
    MetricDataType type;
    Data<?> data;
    switch (m.getDataCase()) {
      case GAUGE -> {
        List<NumberDataPoint> points = m.getGauge().getDataPointsList();
        boolean longs = isLong(points);
        type = longs ? MetricDataType.LONG_GAUGE : MetricDataType.DOUBLE_GAUGE;
        data = longs
            ? new OtlpMetricData.Gauge<>(longPoints(points))
            : new OtlpMetricData.Gauge<>(doublePoints(points));
      }
      case SUM -> {
        Sum sum = m.getSum();
        boolean longs = isLong(sum.getDataPointsList());
        type = longs ? MetricDataType.LONG_SUM : MetricDataType.DOUBLE_SUM;
        AggregationTemporality temporality = temporality(sum.getAggregationTemporalityValue());
        data = longs
            ? new OtlpMetricData.Sum<>(sum.getIsMonotonic(), temporality, longPoints(sum.getDataPointsList()))
            : new OtlpMetricData.Sum<>(sum.getIsMonotonic(), temporality, doublePoints(sum.getDataPointsList()));
      }
      case HISTOGRAM -> {
        List<HistogramPointData> points = new ArrayList<>(m.getHistogram().getDataPointsCount());
        for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
          points.add(fromProto(p));
        }
        type = MetricDataType.HISTOGRAM;
        data =
            new OtlpMetricData.Histogram(
                temporality(m.getHistogram().getAggregationTemporalityValue()), List.copyOf(points));
      }
      case EXPONENTIAL_HISTOGRAM -> {
        ExponentialHistogram h = m.getExponentialHistogram();
        List<ExponentialHistogramPointData> points = new ArrayList<>(h.getDataPointsCount());
        for (ExponentialHistogramDataPoint p : h.getDataPointsList()) {
          points.add(fromProto(p));
        }
        type = MetricDataType.EXPONENTIAL_HISTOGRAM;
        data =
            new OtlpMetricData.ExponentialHistogram(
                temporality(h.getAggregationTemporalityValue()), List.copyOf(points));
      }
      case SUMMARY -> {
        List<SummaryPointData> points = new ArrayList<>(m.getSummary().getDataPointsCount());
        for (SummaryDataPoint p : m.getSummary().getDataPointsList()) {
          points.add(fromProto(p));
        }
        type = MetricDataType.SUMMARY;
        data = new OtlpMetricData.Summary(List.copyOf(points));
      }
      // A metric without data: the SDK has no such type; an empty double gauge says as much.
      default -> {
        type = MetricDataType.DOUBLE_GAUGE;
        data = new OtlpMetricData.Gauge<DoublePointData>(List.of());
      }
    }
    return new OtlpMetricData(
        resource, scope, m.getName(), m.getDescription(), m.getUnit(), type, data);
  }

  /** A number metric is an integer one when its first point is (the SDK never mixes them). */
  private static boolean isLong(List<NumberDataPoint> points) {
    return !points.isEmpty() && points.get(0).getValueCase() == NumberDataPoint.ValueCase.AS_INT;
  }

  private static List<LongPointData> longPoints(List<NumberDataPoint> points) {
    List<LongPointData> out = new ArrayList<>(points.size());
    for (NumberDataPoint p : points) {
      List<LongExemplarData> exemplars = new ArrayList<>(p.getExemplarsCount());
      for (Exemplar e : p.getExemplarsList()) {
        exemplars.add(
            new OtlpMetricData.LongExemplar(
                OtlpAttributes.fromProto(e.getFilteredAttributesList()),
                e.getTimeUnixNano(),
                spanContext(e),
                e.getValueCase() == Exemplar.ValueCase.AS_DOUBLE ? (long) e.getAsDouble() : e.getAsInt()));
      }
      out.add(
          new OtlpMetricData.LongPoint(
              p.getStartTimeUnixNano(),
              p.getTimeUnixNano(),
              OtlpAttributes.fromProto(p.getAttributesList()),
              p.getValueCase() == NumberDataPoint.ValueCase.AS_DOUBLE ? (long) p.getAsDouble() : p.getAsInt(),
              List.copyOf(exemplars)));
    }
    return List.copyOf(out);
  }

  private static List<DoublePointData> doublePoints(List<NumberDataPoint> points) {
    List<DoublePointData> out = new ArrayList<>(points.size());
    for (NumberDataPoint p : points) {
      out.add(
          new OtlpMetricData.DoublePoint(
              p.getStartTimeUnixNano(),
              p.getTimeUnixNano(),
              OtlpAttributes.fromProto(p.getAttributesList()),
              p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? (double) p.getAsInt() : p.getAsDouble(),
              doubleExemplars(p.getExemplarsList())));
    }
    return List.copyOf(out);
  }

  private static List<DoubleExemplarData> doubleExemplars(List<Exemplar> exemplars) {
    List<DoubleExemplarData> out = new ArrayList<>(exemplars.size());
    for (Exemplar e : exemplars) {
      out.add(
          new OtlpMetricData.DoubleExemplar(
              OtlpAttributes.fromProto(e.getFilteredAttributesList()),
              e.getTimeUnixNano(),
              spanContext(e),
              e.getValueCase() == Exemplar.ValueCase.AS_INT ? (double) e.getAsInt() : e.getAsDouble()));
    }
    return List.copyOf(out);
  }

  private static HistogramPointData fromProto(HistogramDataPoint p) {
    return new OtlpMetricData.HistogramPoint(
        p.getStartTimeUnixNano(),
        p.getTimeUnixNano(),
        OtlpAttributes.fromProto(p.getAttributesList()),
        p.getSum(),
        p.getCount(),
        p.hasMin(),
        p.getMin(),
        p.hasMax(),
        p.getMax(),
        List.copyOf(p.getExplicitBoundsList()),
        List.copyOf(p.getBucketCountsList()),
        doubleExemplars(p.getExemplarsList()));
  }

  private static ExponentialHistogramPointData fromProto(ExponentialHistogramDataPoint p) {
    return new OtlpMetricData.ExponentialHistogramPoint(
        p.getStartTimeUnixNano(),
        p.getTimeUnixNano(),
        OtlpAttributes.fromProto(p.getAttributesList()),
        p.getScale(),
        p.getSum(),
        p.getCount(),
        p.getZeroCount(),
        p.hasMin(),
        p.getMin(),
        p.hasMax(),
        p.getMax(),
        fromProto(p.getPositive(), p.getScale()),
        fromProto(p.getNegative(), p.getScale()),
        doubleExemplars(p.getExemplarsList()));
  }

  private static ExponentialHistogramBuckets fromProto(ExponentialHistogramDataPoint.Buckets b, int scale) {
    long total = 0;
    for (long c : b.getBucketCountsList()) {
      total += c;
    }
    return new OtlpMetricData.Buckets(scale, b.getOffset(), List.copyOf(b.getBucketCountsList()), total);
  }

  private static SummaryPointData fromProto(SummaryDataPoint p) {
    List<ValueAtQuantile> quantiles = new ArrayList<>(p.getQuantileValuesCount());
    for (SummaryDataPoint.ValueAtQuantile q : p.getQuantileValuesList()) {
      quantiles.add(new OtlpMetricData.Quantile(q.getQuantile(), q.getValue()));
    }
    return new OtlpMetricData.SummaryPoint(
        p.getStartTimeUnixNano(),
        p.getTimeUnixNano(),
        OtlpAttributes.fromProto(p.getAttributesList()),
        p.getCount(),
        p.getSum(),
        List.copyOf(quantiles));
  }

  /** An unspecified temporality (other producers; the SDK always has one) reads as cumulative. */
  private static AggregationTemporality temporality(int number) {
    return number == io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA_VALUE
        ? AggregationTemporality.DELTA
        : AggregationTemporality.CUMULATIVE;
  }

  private static SpanContext spanContext(Exemplar e) {
    ByteString traceId = e.getTraceId();
    ByteString spanId = e.getSpanId();
    if (traceId.size() != TraceId.getLength() / 2 || spanId.size() != SpanId.getLength() / 2) {
      return SpanContext.getInvalid();
    }
    return SpanContext.create(
        TraceId.fromBytes(traceId.toByteArray()),
        SpanId.fromBytes(spanId.toByteArray()),
        TraceFlags.getDefault(),
        TraceState.getDefault());
  }
}
