package dev.spillway.core.export.internal;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.DoubleExemplarData;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongExemplarData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.data.SummaryData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.data.ValueAtQuantile;
import io.opentelemetry.sdk.resources.Resource;
import java.util.Collection;
import java.util.List;

/**
 * An immutable {@link MetricData} read back from an OTLP metric, for replaying a spilled batch to
 * any {@code MetricExporter}; built by {@link OtlpMetrics#fromRequest}. The nested records are its
 * data and points. They implement the SDK's public data interfaces themselves rather than use the
 * SDK's {@code internal.data} classes, which may change in any SDK release (the host's SDK version
 * is the one that runs). Components are named as the interfaces' getters so the records implement
 * them directly. No {@code toString} here names an attribute value: a log line must never carry
 * the payload.
 */
record OtlpMetricData(
    Resource getResource,
    InstrumentationScopeInfo getInstrumentationScopeInfo,
    String getName,
    String getDescription,
    String getUnit,
    MetricDataType getType,
    Data<?> getData)
    implements MetricData {

  @Override
  public String toString() {
    return "OtlpMetricData{name=" + getName + ", type=" + getType + ", points=" + getData.getPoints().size() + "}";
  }

  record Gauge<T extends PointData>(Collection<T> getPoints) implements GaugeData<T> {}

  record Sum<T extends PointData>(
      boolean isMonotonic, AggregationTemporality getAggregationTemporality, Collection<T> getPoints)
      implements SumData<T> {}

  record Histogram(AggregationTemporality getAggregationTemporality, Collection<HistogramPointData> getPoints)
      implements HistogramData {}

  record ExponentialHistogram(
      AggregationTemporality getAggregationTemporality, Collection<ExponentialHistogramPointData> getPoints)
      implements ExponentialHistogramData {}

  record Summary(Collection<SummaryPointData> getPoints) implements SummaryData {}

  record LongPoint(
      long getStartEpochNanos,
      long getEpochNanos,
      Attributes getAttributes,
      long getValue,
      List<LongExemplarData> getExemplars)
      implements LongPointData {
    @Override
    public String toString() {
      return "LongPoint{epochNanos=" + getEpochNanos + "}";
    }
  }

  record DoublePoint(
      long getStartEpochNanos,
      long getEpochNanos,
      Attributes getAttributes,
      double getValue,
      List<DoubleExemplarData> getExemplars)
      implements DoublePointData {
    @Override
    public String toString() {
      return "DoublePoint{epochNanos=" + getEpochNanos + "}";
    }
  }

  record HistogramPoint(
      long getStartEpochNanos,
      long getEpochNanos,
      Attributes getAttributes,
      double getSum,
      long getCount,
      boolean hasMin,
      double getMin,
      boolean hasMax,
      double getMax,
      List<Double> getBoundaries,
      List<Long> getCounts,
      List<DoubleExemplarData> getExemplars)
      implements HistogramPointData {
    @Override
    public String toString() {
      return "HistogramPoint{epochNanos=" + getEpochNanos + ", count=" + getCount + "}";
    }
  }

  record ExponentialHistogramPoint(
      long getStartEpochNanos,
      long getEpochNanos,
      Attributes getAttributes,
      int getScale,
      double getSum,
      long getCount,
      long getZeroCount,
      boolean hasMin,
      double getMin,
      boolean hasMax,
      double getMax,
      ExponentialHistogramBuckets getPositiveBuckets,
      ExponentialHistogramBuckets getNegativeBuckets,
      List<DoubleExemplarData> getExemplars)
      implements ExponentialHistogramPointData {
    @Override
    public String toString() {
      return "ExponentialHistogramPoint{epochNanos=" + getEpochNanos + ", count=" + getCount + "}";
    }
  }

  record Buckets(int getScale, int getOffset, List<Long> getBucketCounts, long getTotalCount)
      implements ExponentialHistogramBuckets {}

  record SummaryPoint(
      long getStartEpochNanos,
      long getEpochNanos,
      Attributes getAttributes,
      long getCount,
      double getSum,
      List<ValueAtQuantile> getValues)
      implements SummaryPointData {
    /** OTLP summaries have no exemplars. */
    @Override
    public List<? extends io.opentelemetry.sdk.metrics.data.ExemplarData> getExemplars() {
      return List.of();
    }

    @Override
    public String toString() {
      return "SummaryPoint{epochNanos=" + getEpochNanos + ", count=" + getCount + "}";
    }
  }

  record Quantile(double getQuantile, double getValue) implements ValueAtQuantile {}

  record LongExemplar(Attributes getFilteredAttributes, long getEpochNanos, SpanContext getSpanContext, long getValue)
      implements LongExemplarData {
    @Override
    public String toString() {
      return "LongExemplar{epochNanos=" + getEpochNanos + "}";
    }
  }

  record DoubleExemplar(
      Attributes getFilteredAttributes, long getEpochNanos, SpanContext getSpanContext, double getValue)
      implements DoubleExemplarData {
    @Override
    public String toString() {
      return "DoubleExemplar{epochNanos=" + getEpochNanos + "}";
    }
  }
}
