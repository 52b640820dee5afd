package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import dev.spillway.core.PayloadType;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
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
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link OtlpWire#count}, the counting walk: it must count exactly what {@link OtlpWire#scan}
 * counts on the requests the receivers accept, refuse a broken structure on the path it walks,
 * and (by design) not look inside items or skipped fields.
 */
class OtlpWireCountTest {
  private static final OtlpWire.Limits LIMITS = OtlpWire.Limits.DEFAULT;

  /** An unknown field of each wire type, and known field numbers 1 and 2 with a wire type they do not have. */
  private static final UnknownFieldSet UNKNOWN = UnknownFieldSet.newBuilder()
      .addField(999, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("x")).build())
      .addField(998, UnknownFieldSet.Field.newBuilder().addVarint(300).addFixed32(7).addFixed64(8).build())
      .addField(997, UnknownFieldSet.Field.newBuilder().addGroup(UnknownFieldSet.newBuilder()
          .addField(1, UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build()).build())
      .addField(1, UnknownFieldSet.Field.newBuilder().addVarint(5).build())
      .addField(2, UnknownFieldSet.Field.newBuilder().addFixed64(6).build())
      .build();

  @Test
  void count_fixturesOfAllSignals_equalsScan() throws Exception {
    for (int spans : new int[] {0, 1, 7, 300}) {
      assertSameCount(OtlpWire.Signal.TRACES, OtlpRequests.traces(spans), spans);
    }
    assertSameCount(OtlpWire.Signal.METRICS, OtlpRequests.metrics(), 6);
    assertSameCount(OtlpWire.Signal.LOGS, OtlpRequests.logs(), 3);
  }

  @Test
  void count_severalResourcesAndScopes_emptyOnesAndUnknownFields_equalsScan() throws Exception {
    ScopeSpans threeSpans = OtlpRequests.traces(3).getResourceSpans(0).getScopeSpans(0);
    ExportTraceServiceRequest traces = ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder()) // empty resource
        .addResourceSpans(ResourceSpans.newBuilder().setResource(OtlpRequests.resource())
            .addScopeSpans(ScopeSpans.newBuilder().setScope(OtlpRequests.scope())) // empty scope
            .addScopeSpans(threeSpans)
            .addScopeSpans(threeSpans.toBuilder().setUnknownFields(UNKNOWN)
                .addSpans(Span.newBuilder().setName("unknown fields inside").setUnknownFields(UNKNOWN))))
        .addResourceSpans(ResourceSpans.newBuilder().setUnknownFields(UNKNOWN).addScopeSpans(threeSpans))
        .setUnknownFields(UNKNOWN)
        .build();
    assertSameCount(OtlpWire.Signal.TRACES, traces, 3 + 4 + 3);

    ScopeLogs twoLogs = ScopeLogs.newBuilder().setScope(OtlpRequests.scope())
        .addLogRecords(OtlpRequests.logs().getResourceLogs(0).getScopeLogs(0).getLogRecords(0))
        .addLogRecords(LogRecord.newBuilder().setUnknownFields(UNKNOWN)).build();
    ExportLogsServiceRequest logs = ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder()).addScopeLogs(twoLogs))
        .addResourceLogs(ResourceLogs.newBuilder())
        .addResourceLogs(ResourceLogs.newBuilder().setResource(OtlpRequests.resource()).setUnknownFields(UNKNOWN)
            .addScopeLogs(twoLogs.toBuilder().setUnknownFields(UNKNOWN)).addScopeLogs(twoLogs))
        .build();
    assertSameCount(OtlpWire.Signal.LOGS, logs, 2 + 2 + 2);
  }

  @Test
  void count_everyMetricDataType_equalsScan() throws Exception {
    NumberDataPoint number = OtlpRequests.metrics().getResourceMetrics(0).getScopeMetrics(0).getMetrics(0)
        .getGauge().getDataPoints(0);
    NumberDataPoint odd = number.toBuilder().setUnknownFields(UNKNOWN).build();
    ScopeMetrics everyType = ScopeMetrics.newBuilder().setScope(OtlpRequests.scope())
        .addMetrics(Metric.newBuilder().setName("gauge").setGauge(Gauge.newBuilder()
            .addDataPoints(number).addDataPoints(odd).addDataPoints(NumberDataPoint.getDefaultInstance())))
        .addMetrics(Metric.newBuilder().setName("sum").setUnknownFields(UNKNOWN)
            .setSum(Sum.newBuilder().setUnknownFields(UNKNOWN).addDataPoints(number).addDataPoints(number)))
        .addMetrics(Metric.newBuilder().setName("histogram").setHistogram(Histogram.newBuilder()
            .addDataPoints(HistogramDataPoint.newBuilder().setCount(3).addBucketCounts(1).addExplicitBounds(1.0)
                .addExemplars(number.getExemplars(0)))
            .addDataPoints(HistogramDataPoint.getDefaultInstance())))
        .addMetrics(Metric.newBuilder().setName("exponential").setExponentialHistogram(ExponentialHistogram
            .newBuilder().addDataPoints(ExponentialHistogramDataPoint.newBuilder().setScale(1)
                .setNegative(ExponentialHistogramDataPoint.Buckets.newBuilder().addBucketCounts(4)))))
        .addMetrics(Metric.newBuilder().setName("summary").setSummary(Summary.newBuilder()
            .addDataPoints(SummaryDataPoint.newBuilder().setCount(2)).addDataPoints(SummaryDataPoint.newBuilder()
                .addQuantileValues(SummaryDataPoint.ValueAtQuantile.newBuilder().setQuantile(0.9)))))
        // A metric with no data (no oneof set) and ones with an empty gauge and sum: no items.
        .addMetrics(Metric.newBuilder().setName("no data").addMetadata(OtlpRequests.kv("m", OtlpRequests.str("v"))))
        .addMetrics(Metric.newBuilder().setName("empty gauge").setGauge(Gauge.getDefaultInstance()))
        .addMetrics(Metric.newBuilder().setName("empty sum").setSum(Sum.getDefaultInstance()))
        .build();
    ExportMetricsServiceRequest metrics = ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(ResourceMetrics.newBuilder().setResource(OtlpRequests.resource())
            .addScopeMetrics(everyType).addScopeMetrics(ScopeMetrics.newBuilder()).addScopeMetrics(everyType))
        .addResourceMetrics(ResourceMetrics.newBuilder().setUnknownFields(UNKNOWN))
        .addResourceMetrics(OtlpRequests.metrics().getResourceMetrics(0))
        .build();
    assertSameCount(OtlpWire.Signal.METRICS, metrics, 2 * (3 + 2 + 2 + 1 + 2) + 6);
  }

  @Test
  void count_descendsOnlyIntoTypesThatHoldItems() {
    assertThat(OtlpWire.countedPath(OtlpWire.Signal.TRACES)).containsExactlyInAnyOrder(
        "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
        "opentelemetry.proto.trace.v1.ResourceSpans", "opentelemetry.proto.trace.v1.ScopeSpans",
        "opentelemetry.proto.trace.v1.Span");
    assertThat(OtlpWire.countedPath(OtlpWire.Signal.LOGS)).containsExactlyInAnyOrder(
        "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
        "opentelemetry.proto.logs.v1.ResourceLogs", "opentelemetry.proto.logs.v1.ScopeLogs",
        "opentelemetry.proto.logs.v1.LogRecord");
    String m = "opentelemetry.proto.metrics.v1.";
    assertThat(OtlpWire.countedPath(OtlpWire.Signal.METRICS)).containsExactlyInAnyOrder(
        "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
        m + "ResourceMetrics", m + "ScopeMetrics", m + "Metric",
        m + "Gauge", m + "Sum", m + "Histogram", m + "ExponentialHistogram", m + "Summary",
        m + "NumberDataPoint", m + "HistogramDataPoint", m + "ExponentialHistogramDataPoint",
        m + "SummaryDataPoint");
  }

  /**
   * Intended: count does not validate what it does not need. A span name that is not UTF-8, a
   * span body that is not even a valid message, attributes nested past every limit and a resource
   * whose body is garbage are all refused by scan and counted by count, because count only runs
   * on bytes scan accepted (see its javadoc). A count that read inside items would refuse these.
   */
  @Test
  void count_brokenInsideItemsOrSkippedFields_countedWhereScanRefuses() throws Exception {
    Span named = Span.newBuilder().setName("ab").build();
    byte[] badUtf8 = traces(named, named).toByteArray();
    int at = OtlpWireTest.indexOf(badUtf8, "ab".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    badUtf8[at] = (byte) 0xC0; // an over-long encoding's lead byte
    badUtf8[at + 1] = (byte) 0x80;
    assertRefusedByScan(badUtf8, OtlpWire.Refused.Reason.INVALID_UTF8);
    assertThat(OtlpWire.count(PayloadType.OTLP_TRACES, badUtf8)).isEqualTo(2);

    // ScopeSpans.spans (field 2) holding bytes that are a truncated tag, a field 0 and wire type 7.
    byte[] garbageSpans = {0x12, 0x01, (byte) 0x80, 0x12, 0x01, 0x00, 0x12, 0x01, 0x0f};
    byte[] garbage = OtlpWireTest.wrap(OtlpWireTest.wrap(garbageSpans, 2), 1);
    assertRefusedByScan(garbage, OtlpWire.Refused.Reason.MALFORMED);
    assertThat(OtlpWire.count(PayloadType.OTLP_TRACES, garbage)).isEqualTo(3);

    Span deep = Span.newBuilder().addAttributes(OtlpRequests.kv("deep", OtlpRequests.nested(40))).build();
    byte[] tooDeep = traces(deep).toByteArray();
    assertRefusedByScan(tooDeep, OtlpWire.Refused.Reason.TOO_DEEP);
    assertThat(OtlpWire.count(PayloadType.OTLP_TRACES, tooDeep)).isEqualTo(1);

    // ResourceSpans.resource (field 1) holding a truncated varint, beside one valid ScopeSpans.
    byte[] scope = OtlpRequests.traces(2).getResourceSpans(0).getScopeSpans(0).toByteArray();
    byte[] resourceSpans = concat(OtlpWireTest.wrap(new byte[] {0x08, (byte) 0x80}, 1), OtlpWireTest.wrap(scope, 2));
    byte[] badResource = OtlpWireTest.wrap(resourceSpans, 1);
    assertRefusedByScan(badResource, OtlpWire.Refused.Reason.MALFORMED);
    assertThat(OtlpWire.count(PayloadType.OTLP_TRACES, badResource)).isEqualTo(2);
  }

  @Test
  void count_everyTruncation_refusedAsMalformed() throws Exception {
    // Each request has one top-level field, so any strict prefix cuts through the walked path.
    for (Message request : List.of(OtlpRequests.traces(3), OtlpRequests.metrics(), OtlpRequests.logs())) {
      OtlpWire.Signal signal = signalOf(request);
      byte[] whole = request.toByteArray();
      for (int n = 1; n < whole.length; n++) {
        byte[] cut = Arrays.copyOf(whole, n);
        assertMalformed(signal, cut);
      }
    }
  }

  @Test
  void count_badTagsAndLengthsOnTheWalkedPath_refusedAsMalformed() throws Exception {
    byte[] scope = OtlpRequests.traces(2).getResourceSpans(0).getScopeSpans(0).toByteArray();
    byte[][] broken = {
        {0x00}, // field 0
        {0x0f}, // wire type 7
        {0x0e}, // wire type 6
        {0x0c}, // end group without start
        {0x0b, 0x14}, // group 1 closed as group 2
        {0x0b, 0x08, 0x01}, // group never closed
        {0x0a, 0x05, 0x12, 0x00}, // a length past the end
        {0x0a, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08}, // a length past int
        {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
            (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}, // 11-byte varint tag
        java.util.HexFormat.of().parseHex("60ffffffffffffffffff02"), // a skipped varint past 64 bits
        // inside ResourceSpans and ScopeSpans, after valid content: a field 0, wire type 7
        OtlpWireTest.wrap(concat(OtlpWireTest.wrap(scope, 2), new byte[] {0x00}), 1),
        OtlpWireTest.wrap(OtlpWireTest.wrap(concat(scope, new byte[] {0x17}), 2), 1),
        // a span's length past the end of its ScopeSpans (but within the request)
        concat(OtlpWireTest.wrap(OtlpWireTest.wrap(new byte[] {0x12, 0x04}, 2), 1), new byte[] {0x1a, 0, 0, 0}),
    };
    for (byte[] bad : broken) {
      assertMalformed(OtlpWire.Signal.TRACES, bad);
    }
  }

  private static void assertSameCount(OtlpWire.Signal signal, Message request, long expected) throws Exception {
    byte[] bytes = request.toByteArray();
    assertThat(OtlpWire.scan(signal, bytes, LIMITS).items()).as("scan").isEqualTo(expected);
    assertThat(OtlpWireFuzzTest.walk(request)[0]).as("objects").isEqualTo(expected);
    assertThat(OtlpWire.count(signal.payloadType(), bytes)).as("count").isEqualTo(expected);
  }

  private static void assertRefusedByScan(byte[] request, OtlpWire.Refused.Reason reason) {
    assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, request, LIMITS))
        .isInstanceOfSatisfying(OtlpWire.Refused.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  private static void assertMalformed(OtlpWire.Signal signal, byte[] bad) {
    assertThatThrownBy(() -> OtlpWire.count(signal.payloadType(), bad))
        .as("%s %s", signal, java.util.HexFormat.of().formatHex(bad))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.MALFORMED));
    // The receivers' scan refuses these too: count is not laxer on the path it walks.
    assertThatThrownBy(() -> OtlpWire.scan(signal, bad, LIMITS)).isInstanceOf(OtlpWire.Refused.class);
  }

  private static OtlpWire.Signal signalOf(Message request) {
    for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
      if (s.descriptor().equals(request.getDescriptorForType())) {
        return s;
      }
    }
    throw new AssertionError(request.getDescriptorForType().getFullName());
  }

  private static ExportTraceServiceRequest traces(Span... spans) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .addScopeSpans(ScopeSpans.newBuilder().addAllSpans(List.of(spans)))).build();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
