package dev.spillway.server.telemetry;

import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.metrics.exporter.opentelemetry.otelmodel.MetricDataFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Hands the daemon's Prometheus registry to the OpenTelemetry SDK's metric readers: each
 * collection scrapes the registry, and the Prometheus client's own {@link MetricDataFactory}
 * converts every snapshot to OpenTelemetry {@code MetricData} (counters become cumulative
 * monotonic sums named without {@code _total}, classic histograms explicit-bucket histograms).
 * One source of numbers for {@code /metrics} and OTLP, so the two cannot disagree.
 */
final class RegistryMetricProducer implements MetricProducer {
  private final PrometheusRegistry registry;
  private final InstrumentationScopeInfo scope;

  RegistryMetricProducer(PrometheusRegistry registry, InstrumentationScopeInfo scope) {
    this.registry = registry;
    this.scope = scope;
  }

  @Override
  public Collection<MetricData> produce(Resource resource) {
    MetricDataFactory factory = new MetricDataFactory(resource, scope, System.currentTimeMillis());
    List<MetricData> out = new ArrayList<>();
    for (MetricSnapshot s : registry.scrape()) {
      MetricData d = null;
      if (s instanceof CounterSnapshot c) {
        d = factory.create(c);
      } else if (s instanceof GaugeSnapshot g) {
        d = factory.create(g);
      } else if (s instanceof HistogramSnapshot h && !h.isGaugeHistogram()) {
        d = factory.create(h);
      } else if (s instanceof SummarySnapshot sum) {
        d = factory.create(sum);
      } else if (s instanceof InfoSnapshot i) {
        d = factory.create(i);
      } else if (s instanceof StateSetSnapshot st) {
        d = factory.create(st);
      } else if (s instanceof UnknownSnapshot u) {
        d = factory.create(u);
      }
      if (d != null) {
        out.add(d);
      }
    }
    return out;
  }
}
