package dev.spillway.core.export.internal;

import com.google.protobuf.CodedOutputStream;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.Sum;
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
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.data.ValueAtQuantile;
import io.opentelemetry.sdk.resources.Resource;
import java.io.IOException;
import java.util.Collection;
import java.util.List;

/**
 * Writes {@link MetricData} as the bytes of an OTLP {@code ExportMetricsServiceRequest} without
 * building the protobuf objects: the bytes {@code OtlpMetrics.toRequest(metrics).toByteArray()}
 * gives (the tests hold it to that, byte for byte). See {@link OtlpTwoPassWriter} for the two
 * passes. Fields go in field-number order, which in several metric messages is not the .proto
 * file's order (attributes are 1 in an exponential histogram point, 7 or 9 elsewhere; {@code
 * as_int} comes after the exemplars). Presence follows the .proto: a histogram's {@code sum},
 * {@code min} and {@code max} are {@code optional} (written when set, even as zero), the number
 * point's value and an exemplar's value are {@code oneof} members (always written), other scalars
 * are skipped at zero. Repeated numbers are packed.
 */
final class OtlpMetricsWriter extends OtlpTwoPassWriter<MetricData> {
  private static final int METRIC_NAME = Metric.NAME_FIELD_NUMBER;
  private static final int METRIC_DESCRIPTION = Metric.DESCRIPTION_FIELD_NUMBER;
  private static final int METRIC_UNIT = Metric.UNIT_FIELD_NUMBER;
  private static final int METRIC_GAUGE = Metric.GAUGE_FIELD_NUMBER;
  private static final int METRIC_SUM = Metric.SUM_FIELD_NUMBER;
  private static final int METRIC_HISTOGRAM = Metric.HISTOGRAM_FIELD_NUMBER;
  private static final int METRIC_EXPONENTIAL_HISTOGRAM = Metric.EXPONENTIAL_HISTOGRAM_FIELD_NUMBER;
  private static final int METRIC_SUMMARY = Metric.SUMMARY_FIELD_NUMBER;
  // Gauge, Sum, Histogram, ExponentialHistogram, Summary: the points are 1, temporality 2
  private static final int DATA_POINTS = 1;
  private static final int DATA_TEMPORALITY = 2;
  private static final int SUM_IS_MONOTONIC = Sum.IS_MONOTONIC_FIELD_NUMBER;
  // NumberDataPoint
  private static final int NUMBER_START = NumberDataPoint.START_TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int NUMBER_TIME = NumberDataPoint.TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int NUMBER_AS_DOUBLE = NumberDataPoint.AS_DOUBLE_FIELD_NUMBER;
  private static final int NUMBER_EXEMPLARS = NumberDataPoint.EXEMPLARS_FIELD_NUMBER;
  private static final int NUMBER_AS_INT = NumberDataPoint.AS_INT_FIELD_NUMBER;
  private static final int NUMBER_ATTRIBUTES = NumberDataPoint.ATTRIBUTES_FIELD_NUMBER;
  // HistogramDataPoint
  private static final int HIST_START = HistogramDataPoint.START_TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int HIST_TIME = HistogramDataPoint.TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int HIST_COUNT = HistogramDataPoint.COUNT_FIELD_NUMBER;
  private static final int HIST_SUM = HistogramDataPoint.SUM_FIELD_NUMBER;
  private static final int HIST_BUCKET_COUNTS = HistogramDataPoint.BUCKET_COUNTS_FIELD_NUMBER;
  private static final int HIST_BOUNDS = HistogramDataPoint.EXPLICIT_BOUNDS_FIELD_NUMBER;
  private static final int HIST_EXEMPLARS = HistogramDataPoint.EXEMPLARS_FIELD_NUMBER;
  private static final int HIST_ATTRIBUTES = HistogramDataPoint.ATTRIBUTES_FIELD_NUMBER;
  private static final int HIST_MIN = HistogramDataPoint.MIN_FIELD_NUMBER;
  private static final int HIST_MAX = HistogramDataPoint.MAX_FIELD_NUMBER;
  // ExponentialHistogramDataPoint, Buckets
  private static final int EXP_ATTRIBUTES = ExponentialHistogramDataPoint.ATTRIBUTES_FIELD_NUMBER;
  private static final int EXP_START = ExponentialHistogramDataPoint.START_TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int EXP_TIME = ExponentialHistogramDataPoint.TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int EXP_COUNT = ExponentialHistogramDataPoint.COUNT_FIELD_NUMBER;
  private static final int EXP_SUM = ExponentialHistogramDataPoint.SUM_FIELD_NUMBER;
  private static final int EXP_SCALE = ExponentialHistogramDataPoint.SCALE_FIELD_NUMBER;
  private static final int EXP_ZERO_COUNT = ExponentialHistogramDataPoint.ZERO_COUNT_FIELD_NUMBER;
  private static final int EXP_POSITIVE = ExponentialHistogramDataPoint.POSITIVE_FIELD_NUMBER;
  private static final int EXP_NEGATIVE = ExponentialHistogramDataPoint.NEGATIVE_FIELD_NUMBER;
  private static final int EXP_EXEMPLARS = ExponentialHistogramDataPoint.EXEMPLARS_FIELD_NUMBER;
  private static final int EXP_MIN = ExponentialHistogramDataPoint.MIN_FIELD_NUMBER;
  private static final int EXP_MAX = ExponentialHistogramDataPoint.MAX_FIELD_NUMBER;
  private static final int BUCKETS_OFFSET = ExponentialHistogramDataPoint.Buckets.OFFSET_FIELD_NUMBER;
  private static final int BUCKETS_COUNTS = ExponentialHistogramDataPoint.Buckets.BUCKET_COUNTS_FIELD_NUMBER;
  // SummaryDataPoint, ValueAtQuantile
  private static final int SUMMARY_START = SummaryDataPoint.START_TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int SUMMARY_TIME = SummaryDataPoint.TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int SUMMARY_COUNT = SummaryDataPoint.COUNT_FIELD_NUMBER;
  private static final int SUMMARY_SUM = SummaryDataPoint.SUM_FIELD_NUMBER;
  private static final int SUMMARY_QUANTILES = SummaryDataPoint.QUANTILE_VALUES_FIELD_NUMBER;
  private static final int SUMMARY_ATTRIBUTES = SummaryDataPoint.ATTRIBUTES_FIELD_NUMBER;
  private static final int QUANTILE_QUANTILE = SummaryDataPoint.ValueAtQuantile.QUANTILE_FIELD_NUMBER;
  private static final int QUANTILE_VALUE = SummaryDataPoint.ValueAtQuantile.VALUE_FIELD_NUMBER;
  // Exemplar
  private static final int EXEMPLAR_TIME = Exemplar.TIME_UNIX_NANO_FIELD_NUMBER;
  private static final int EXEMPLAR_AS_DOUBLE = Exemplar.AS_DOUBLE_FIELD_NUMBER;
  private static final int EXEMPLAR_SPAN_ID = Exemplar.SPAN_ID_FIELD_NUMBER;
  private static final int EXEMPLAR_TRACE_ID = Exemplar.TRACE_ID_FIELD_NUMBER;
  private static final int EXEMPLAR_AS_INT = Exemplar.AS_INT_FIELD_NUMBER;
  private static final int EXEMPLAR_ATTRIBUTES = Exemplar.FILTERED_ATTRIBUTES_FIELD_NUMBER;

  private OtlpMetricsWriter() {}

  static byte[] write(Collection<? extends MetricData> metrics) {
    return new OtlpMetricsWriter().writeRequest(metrics);
  }

  @Override
  Resource resourceOf(MetricData metric) {
    return metric.getResource();
  }

  @Override
  InstrumentationScopeInfo scopeOf(MetricData metric) {
    return metric.getInstrumentationScopeInfo();
  }

  // ------------------------------------------------------------------ the size pass

  @Override
  int sizeItem(MetricData metric) {
    int slot = reserve();
    int size = string(METRIC_NAME, metric.getName())
        + string(METRIC_DESCRIPTION, metric.getDescription())
        + string(METRIC_UNIT, metric.getUnit());
    size += switch (metric.getType()) {
      case LONG_GAUGE, DOUBLE_GAUGE -> field(METRIC_GAUGE, sizeData(metric.getData(), null, false));
      case LONG_SUM, DOUBLE_SUM -> {
        SumData<?> sum = (SumData<?>) metric.getData();
        yield field(METRIC_SUM, sizeData(sum, sum.getAggregationTemporality(), sum.isMonotonic()));
      }
      case HISTOGRAM -> field(METRIC_HISTOGRAM, sizeData(
          metric.getData(), metric.getHistogramData().getAggregationTemporality(), false));
      case EXPONENTIAL_HISTOGRAM -> field(METRIC_EXPONENTIAL_HISTOGRAM, sizeData(
          metric.getData(), metric.getExponentialHistogramData().getAggregationTemporality(), false));
      case SUMMARY -> field(METRIC_SUMMARY, sizeData(metric.getData(), null, false));
    };
    setSize(slot, size);
    return size;
  }

  /** A Gauge, Sum, Histogram, ExponentialHistogram or Summary message; temporality null if none. */
  private int sizeData(Data<?> data, AggregationTemporality temporality, boolean monotonic) {
    int slot = reserve();
    int size = 0;
    for (PointData p : data.getPoints()) {
      size += field(DATA_POINTS, sizePoint(p));
    }
    if (temporality != null) {
      size += enumValue(DATA_TEMPORALITY, OtlpMetrics.temporalityNumber(temporality));
    }
    if (monotonic) {
      size += CodedOutputStream.computeBoolSize(SUM_IS_MONOTONIC, true);
    }
    setSize(slot, size);
    return size;
  }

  private int sizePoint(PointData p) {
    int slot = reserve();
    int size;
    if (p instanceof HistogramPointData h) {
      size = sizeHistogramPoint(h);
    } else if (p instanceof ExponentialHistogramPointData e) {
      size = sizeExponentialHistogramPoint(e);
    } else if (p instanceof SummaryPointData s) {
      size = sizeSummaryPoint(s);
    } else {
      size = sizeNumberPoint(p);
    }
    setSize(slot, size);
    return size;
  }

  private int sizeNumberPoint(PointData p) {
    int size = fixed64(NUMBER_START, p.getStartEpochNanos()) + fixed64(NUMBER_TIME, p.getEpochNanos());
    if (!(p instanceof LongPointData)) {
      size += CodedOutputStream.computeDoubleSize(NUMBER_AS_DOUBLE, ((DoublePointData) p).getValue());
    }
    size += sizeExemplars(NUMBER_EXEMPLARS, p.getExemplars());
    if (p instanceof LongPointData l) {
      size += CodedOutputStream.computeSFixed64Size(NUMBER_AS_INT, l.getValue());
    }
    return size + sizeAttributes(NUMBER_ATTRIBUTES, p.getAttributes());
  }

  private int sizeHistogramPoint(HistogramPointData p) {
    int size = fixed64(HIST_START, p.getStartEpochNanos())
        + fixed64(HIST_TIME, p.getEpochNanos())
        + fixed64(HIST_COUNT, p.getCount())
        + CodedOutputStream.computeDoubleSize(HIST_SUM, p.getSum())
        + packedFixed64(HIST_BUCKET_COUNTS, p.getCounts().size())
        + packedFixed64(HIST_BOUNDS, p.getBoundaries().size())
        + sizeExemplars(HIST_EXEMPLARS, p.getExemplars())
        + sizeAttributes(HIST_ATTRIBUTES, p.getAttributes());
    if (p.hasMin()) {
      size += CodedOutputStream.computeDoubleSize(HIST_MIN, p.getMin());
    }
    if (p.hasMax()) {
      size += CodedOutputStream.computeDoubleSize(HIST_MAX, p.getMax());
    }
    return size;
  }

  private int sizeExponentialHistogramPoint(ExponentialHistogramPointData p) {
    int size = sizeAttributes(EXP_ATTRIBUTES, p.getAttributes())
        + fixed64(EXP_START, p.getStartEpochNanos())
        + fixed64(EXP_TIME, p.getEpochNanos())
        + fixed64(EXP_COUNT, p.getCount())
        + CodedOutputStream.computeDoubleSize(EXP_SUM, p.getSum())
        + (p.getScale() == 0 ? 0 : CodedOutputStream.computeSInt32Size(EXP_SCALE, p.getScale()))
        + fixed64(EXP_ZERO_COUNT, p.getZeroCount())
        + field(EXP_POSITIVE, sizeBuckets(p.getPositiveBuckets()))
        + field(EXP_NEGATIVE, sizeBuckets(p.getNegativeBuckets()))
        + sizeExemplars(EXP_EXEMPLARS, p.getExemplars());
    if (p.hasMin()) {
      size += CodedOutputStream.computeDoubleSize(EXP_MIN, p.getMin());
    }
    if (p.hasMax()) {
      size += CodedOutputStream.computeDoubleSize(EXP_MAX, p.getMax());
    }
    return size;
  }

  private int sizeBuckets(ExponentialHistogramBuckets b) {
    int slot = reserve();
    int size = b.getOffset() == 0 ? 0 : CodedOutputStream.computeSInt32Size(BUCKETS_OFFSET, b.getOffset());
    List<Long> counts = b.getBucketCounts();
    if (!counts.isEmpty()) {
      int countsSlot = reserve(); // the packed varints' length, queued as a message's is
      int body = 0;
      for (int i = 0, n = counts.size(); i < n; i++) {
        body += CodedOutputStream.computeUInt64SizeNoTag(counts.get(i));
      }
      setSize(countsSlot, body);
      size += field(BUCKETS_COUNTS, body);
    }
    setSize(slot, size);
    return size;
  }

  private int sizeSummaryPoint(SummaryPointData p) {
    int size = fixed64(SUMMARY_START, p.getStartEpochNanos())
        + fixed64(SUMMARY_TIME, p.getEpochNanos())
        + fixed64(SUMMARY_COUNT, p.getCount())
        + doubleValue(SUMMARY_SUM, p.getSum());
    for (ValueAtQuantile q : p.getValues()) {
      size += field(SUMMARY_QUANTILES, sizeQuantile(q));
    }
    return size + sizeAttributes(SUMMARY_ATTRIBUTES, p.getAttributes());
  }

  private int sizeQuantile(ValueAtQuantile q) {
    int slot = reserve();
    int size = doubleValue(QUANTILE_QUANTILE, q.getQuantile()) + doubleValue(QUANTILE_VALUE, q.getValue());
    setSize(slot, size);
    return size;
  }

  private int sizeExemplars(int number, List<? extends ExemplarData> exemplars) {
    int size = 0;
    for (int i = 0, n = exemplars.size(); i < n; i++) {
      size += field(number, sizeExemplar(exemplars.get(i)));
    }
    return size;
  }

  private int sizeExemplar(ExemplarData e) {
    int slot = reserve();
    SpanContext sc = e.getSpanContext();
    int size = fixed64(EXEMPLAR_TIME, e.getEpochNanos());
    if (e instanceof LongExemplarData l) {
      size += CodedOutputStream.computeSFixed64Size(EXEMPLAR_AS_INT, l.getValue());
    } else {
      size += CodedOutputStream.computeDoubleSize(EXEMPLAR_AS_DOUBLE, ((DoubleExemplarData) e).getValue());
    }
    if (sc.isValid()) {
      size += bytes(EXEMPLAR_SPAN_ID, sc.getSpanIdBytes()) + bytes(EXEMPLAR_TRACE_ID, sc.getTraceIdBytes());
    }
    size += sizeAttributes(EXEMPLAR_ATTRIBUTES, e.getFilteredAttributes());
    setSize(slot, size);
    return size;
  }

  /** A packed repeated fixed64 or double field of {@code n} values: nothing when empty. */
  private static int packedFixed64(int number, int n) {
    return n == 0 ? 0 : field(number, 8 * n);
  }

  // ------------------------------------------------------------------ the write pass

  @Override
  void writeItem(CodedOutputStream out, MetricData metric) throws IOException {
    writeString(out, METRIC_NAME, metric.getName());
    writeString(out, METRIC_DESCRIPTION, metric.getDescription());
    writeString(out, METRIC_UNIT, metric.getUnit());
    switch (metric.getType()) {
      case LONG_GAUGE, DOUBLE_GAUGE -> {
        start(out, METRIC_GAUGE);
        writeData(out, metric.getData(), null, false);
      }
      case LONG_SUM, DOUBLE_SUM -> {
        SumData<?> sum = (SumData<?>) metric.getData();
        start(out, METRIC_SUM);
        writeData(out, sum, sum.getAggregationTemporality(), sum.isMonotonic());
      }
      case HISTOGRAM -> {
        start(out, METRIC_HISTOGRAM);
        writeData(out, metric.getData(), metric.getHistogramData().getAggregationTemporality(), false);
      }
      case EXPONENTIAL_HISTOGRAM -> {
        start(out, METRIC_EXPONENTIAL_HISTOGRAM);
        writeData(out, metric.getData(), metric.getExponentialHistogramData().getAggregationTemporality(), false);
      }
      case SUMMARY -> {
        start(out, METRIC_SUMMARY);
        writeData(out, metric.getData(), null, false);
      }
    }
  }

  private void writeData(CodedOutputStream out, Data<?> data, AggregationTemporality temporality, boolean monotonic)
      throws IOException {
    for (PointData p : data.getPoints()) {
      start(out, DATA_POINTS);
      if (p instanceof HistogramPointData h) {
        writeHistogramPoint(out, h);
      } else if (p instanceof ExponentialHistogramPointData e) {
        writeExponentialHistogramPoint(out, e);
      } else if (p instanceof SummaryPointData s) {
        writeSummaryPoint(out, s);
      } else {
        writeNumberPoint(out, p);
      }
    }
    if (temporality != null) {
      writeEnum(out, DATA_TEMPORALITY, OtlpMetrics.temporalityNumber(temporality));
    }
    if (monotonic) {
      out.writeBool(SUM_IS_MONOTONIC, true);
    }
  }

  private void writeNumberPoint(CodedOutputStream out, PointData p) throws IOException {
    writeFixed64(out, NUMBER_START, p.getStartEpochNanos());
    writeFixed64(out, NUMBER_TIME, p.getEpochNanos());
    if (!(p instanceof LongPointData)) {
      out.writeDouble(NUMBER_AS_DOUBLE, ((DoublePointData) p).getValue());
    }
    writeExemplars(out, NUMBER_EXEMPLARS, p.getExemplars());
    if (p instanceof LongPointData l) {
      out.writeSFixed64(NUMBER_AS_INT, l.getValue());
    }
    writeAttributes(out, NUMBER_ATTRIBUTES, p.getAttributes());
  }

  private void writeHistogramPoint(CodedOutputStream out, HistogramPointData p) throws IOException {
    writeFixed64(out, HIST_START, p.getStartEpochNanos());
    writeFixed64(out, HIST_TIME, p.getEpochNanos());
    writeFixed64(out, HIST_COUNT, p.getCount());
    out.writeDouble(HIST_SUM, p.getSum());
    List<Long> counts = p.getCounts();
    if (!counts.isEmpty()) {
      out.writeTag(HIST_BUCKET_COUNTS, LEN);
      out.writeUInt32NoTag(8 * counts.size());
      for (int i = 0, n = counts.size(); i < n; i++) {
        out.writeFixed64NoTag(counts.get(i));
      }
    }
    List<Double> bounds = p.getBoundaries();
    if (!bounds.isEmpty()) {
      out.writeTag(HIST_BOUNDS, LEN);
      out.writeUInt32NoTag(8 * bounds.size());
      for (int i = 0, n = bounds.size(); i < n; i++) {
        out.writeDoubleNoTag(bounds.get(i));
      }
    }
    writeExemplars(out, HIST_EXEMPLARS, p.getExemplars());
    writeAttributes(out, HIST_ATTRIBUTES, p.getAttributes());
    if (p.hasMin()) {
      out.writeDouble(HIST_MIN, p.getMin());
    }
    if (p.hasMax()) {
      out.writeDouble(HIST_MAX, p.getMax());
    }
  }

  private void writeExponentialHistogramPoint(CodedOutputStream out, ExponentialHistogramPointData p)
      throws IOException {
    writeAttributes(out, EXP_ATTRIBUTES, p.getAttributes());
    writeFixed64(out, EXP_START, p.getStartEpochNanos());
    writeFixed64(out, EXP_TIME, p.getEpochNanos());
    writeFixed64(out, EXP_COUNT, p.getCount());
    out.writeDouble(EXP_SUM, p.getSum());
    if (p.getScale() != 0) {
      out.writeSInt32(EXP_SCALE, p.getScale());
    }
    writeFixed64(out, EXP_ZERO_COUNT, p.getZeroCount());
    start(out, EXP_POSITIVE);
    writeBuckets(out, p.getPositiveBuckets());
    start(out, EXP_NEGATIVE);
    writeBuckets(out, p.getNegativeBuckets());
    writeExemplars(out, EXP_EXEMPLARS, p.getExemplars());
    if (p.hasMin()) {
      out.writeDouble(EXP_MIN, p.getMin());
    }
    if (p.hasMax()) {
      out.writeDouble(EXP_MAX, p.getMax());
    }
  }

  private void writeBuckets(CodedOutputStream out, ExponentialHistogramBuckets b) throws IOException {
    if (b.getOffset() != 0) {
      out.writeSInt32(BUCKETS_OFFSET, b.getOffset());
    }
    List<Long> counts = b.getBucketCounts();
    if (!counts.isEmpty()) {
      start(out, BUCKETS_COUNTS);
      for (int i = 0, n = counts.size(); i < n; i++) {
        out.writeUInt64NoTag(counts.get(i));
      }
    }
  }

  private void writeSummaryPoint(CodedOutputStream out, SummaryPointData p) throws IOException {
    writeFixed64(out, SUMMARY_START, p.getStartEpochNanos());
    writeFixed64(out, SUMMARY_TIME, p.getEpochNanos());
    writeFixed64(out, SUMMARY_COUNT, p.getCount());
    writeDouble(out, SUMMARY_SUM, p.getSum());
    for (ValueAtQuantile q : p.getValues()) {
      start(out, SUMMARY_QUANTILES);
      writeDouble(out, QUANTILE_QUANTILE, q.getQuantile());
      writeDouble(out, QUANTILE_VALUE, q.getValue());
    }
    writeAttributes(out, SUMMARY_ATTRIBUTES, p.getAttributes());
  }

  private void writeExemplars(CodedOutputStream out, int number, List<? extends ExemplarData> exemplars)
      throws IOException {
    for (int i = 0, n = exemplars.size(); i < n; i++) {
      ExemplarData e = exemplars.get(i);
      SpanContext sc = e.getSpanContext();
      start(out, number);
      writeFixed64(out, EXEMPLAR_TIME, e.getEpochNanos());
      if (!(e instanceof LongExemplarData)) {
        out.writeDouble(EXEMPLAR_AS_DOUBLE, ((DoubleExemplarData) e).getValue());
      }
      if (sc.isValid()) {
        writeBytes(out, EXEMPLAR_SPAN_ID, sc.getSpanIdBytes());
        writeBytes(out, EXEMPLAR_TRACE_ID, sc.getTraceIdBytes());
      }
      if (e instanceof LongExemplarData l) {
        out.writeSFixed64(EXEMPLAR_AS_INT, l.getValue());
      }
      writeAttributes(out, EXEMPLAR_ATTRIBUTES, e.getFilteredAttributes());
    }
  }
}
