package dev.spillway.server.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.testing.TestClients;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Cutting requests of every signal: items are spans, log records and metric data points (each
 * with its resource, scope and metric); put back together they are the original request, and
 * pieces stay within the item limit. {@link SplittingExporter} uses this for logs and metrics as
 * for traces.
 */
class OtlpRequestsTest {
  static ExportMetricsServiceRequest metrics() {
    Metric gauge = Metric.newBuilder().setName("g").setUnit("1").setGauge(Gauge.newBuilder()
        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(1))
        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(2))
        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(3))).build();
    Metric histogram = Metric.newBuilder().setName("h").setHistogram(Histogram.newBuilder()
        .setAggregationTemporalityValue(2)
        .addDataPoints(HistogramDataPoint.newBuilder().setCount(4).addBucketCounts(4).addExplicitBounds(1.0))
        .addDataPoints(HistogramDataPoint.newBuilder().setCount(5))).build();
    Metric empty = Metric.newBuilder().setName("no-points").setDescription("kept").build();
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(ResourceMetrics.newBuilder().setSchemaUrl("s1").setResource(Resource.newBuilder()
                .addAttributes(TestClients.metricsRequest(1, "r").getResourceMetrics(0).getScopeMetrics(0)
                    .getMetrics(0).getSum().getDataPoints(0).getAttributes(0)))
            .addScopeMetrics(ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder().setName("a"))
                .addMetrics(gauge).addMetrics(empty))
            .addScopeMetrics(ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder().setName("b"))
                .addMetrics(histogram)))
        .addResourceMetrics(ResourceMetrics.newBuilder().setSchemaUrl("s2")
            .addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(gauge)))
        .build();
  }

  @Test
  void metrics_itemsAreDataPoints_reassembledEqualsTheOriginal() throws Exception {
    ExportMetricsServiceRequest m = metrics();
    List<OtlpRequests.Item> items = OtlpRequests.items(m);
    assertThat(OtlpRequests.weight(items)).isEqualTo(OtlpRequests.count(OtlpWire.Signal.METRICS, m.toByteArray()))
        .isEqualTo(8);
    assertThat(OtlpRequests.request(OtlpWire.Signal.METRICS, items)).isEqualTo(m);
  }

  @Test
  void logsAndTraces_reassembledEqualTheOriginal() throws Exception {
    var logs = TestClients.logsRequest(7, "x");
    assertThat(OtlpRequests.request(OtlpWire.Signal.LOGS, OtlpRequests.items(logs))).isEqualTo(logs);
    var traces = TestClients.request(5, "x");
    assertThat(OtlpRequests.request(OtlpWire.Signal.TRACES, OtlpRequests.items(traces))).isEqualTo(traces);
  }

  @Test
  void metrics_cutByItems_piecesWithinTheLimit_togetherEveryPointOnce() throws Exception {
    ExportMetricsServiceRequest m = metrics();
    List<List<OtlpRequests.Item>> pieces = OtlpRequests.cut(OtlpRequests.items(m), 2, 0);
    List<OtlpRequests.Item> again = new ArrayList<>();
    for (List<OtlpRequests.Item> p : pieces) {
      assertThat(OtlpRequests.weight(p)).isLessThanOrEqualTo(2);
      byte[] bytes = OtlpRequests.request(OtlpWire.Signal.METRICS, p).toByteArray();
      assertThat(OtlpRequests.count(OtlpWire.Signal.METRICS, bytes)).isEqualTo(OtlpRequests.weight(p));
      again.addAll(p);
    }
    assertThat(pieces).hasSizeGreaterThanOrEqualTo(4);
    assertThat(OtlpRequests.request(OtlpWire.Signal.METRICS, again)).isEqualTo(m);
  }

  @Test
  void splittingExporter_logsRefusedAsTooLarge_halvedUntilAccepted_everyRecordSentOnce() {
    List<byte[]> sent = new ArrayList<>();
    OtlpExporter transport = new OtlpExporter() {
      @Override
      public ExportResult export(OtlpWire.Signal signal, byte[] request) {
        assertThat(signal).isEqualTo(OtlpWire.Signal.LOGS);
        if (OtlpRequests.count(signal, request) > 3) {
          return ExportResult.tooLarge("http 413");
        }
        sent.add(request);
        return ExportResult.success(0);
      }

      @Override
      public void close() {}
    };
    ServerMetrics metrics = new ServerMetrics();
    try (SplittingExporter e = new SplittingExporter(transport, 0, 0, metrics)) {
      ExportResult r = e.export(OtlpWire.Signal.LOGS, TestClients.logsRequest(10, "x").toByteArray());
      assertThat(r.kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(r.rejectedItems()).isZero();
    }
    assertThat(sent.stream().mapToLong(b -> OtlpRequests.count(OtlpWire.Signal.LOGS, b)).sum()).isEqualTo(10);
  }

  @Test
  void splittingExporter_singleDataPointTooLarge_droppedAndCountedUnderMetrics() {
    OtlpExporter transport = new OtlpExporter() {
      @Override
      public ExportResult export(OtlpWire.Signal signal, byte[] request) {
        return ExportResult.tooLarge("grpc RESOURCE_EXHAUSTED: message larger than max");
      }

      @Override
      public void close() {}
    };
    ServerMetrics metrics = new ServerMetrics();
    try (SplittingExporter e = new SplittingExporter(transport, 0, 0, metrics)) {
      ExportResult r = e.export(OtlpWire.Signal.METRICS, TestClients.metricsRequest(3, "x").toByteArray());
      assertThat(r.kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(r.rejectedItems()).isEqualTo(3);
    }
    assertThat(metrics.signal(OtlpWire.Signal.METRICS).droppedTooLarge.sum()).isEqualTo(3);
    assertThat(metrics.signal(OtlpWire.Signal.TRACES).droppedTooLarge.sum()).isZero();
  }
}
