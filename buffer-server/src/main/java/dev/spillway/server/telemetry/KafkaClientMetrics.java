package dev.spillway.server.telemetry;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * The Kafka spill's producer and consumer metrics in the daemon's Prometheus registry, read from
 * the clients' own {@code metrics()} at scrape time (no reporter thread, nothing copied between
 * scrapes). A Kafka metric {@code record-send-rate} of group {@code producer-metrics} becomes
 * {@code spillway_kafka_producer_record_send_rate{client_id="producer-1"}}; the consumer's groups
 * ({@code consumer-metrics}, {@code consumer-fetch-manager-metrics}, {@code
 * consumer-coordinator-metrics}) become {@code spillway_kafka_consumer_*}. Names ending in
 * {@code -total} are Kafka's cumulative counts and are exported as counters; the rest as gauges.
 *
 * <p>Only client-level metrics (tagged by {@code client-id} alone) are exported: per-broker,
 * per-topic and per-partition series would multiply with the cluster, and Kafka names some of them
 * like the client-level ones. A metric with no value yet (Kafka's NaN for an average without
 * samples) is left out of that scrape. No metric carries a payload byte: these are counts, rates,
 * sizes and latencies.
 */
public final class KafkaClientMetrics implements MultiCollector {
  /** Kafka metric group to the prefix of its Prometheus names. */
  private static final Map<String, String> GROUPS = Map.of(
      "producer-metrics", "spillway_kafka_producer_",
      "consumer-metrics", "spillway_kafka_consumer_",
      "consumer-fetch-manager-metrics", "spillway_kafka_consumer_",
      "consumer-coordinator-metrics", "spillway_kafka_consumer_");
  private static final String CLIENT_ID = "client-id";

  private final List<Supplier<Map<MetricName, ? extends Metric>>> clients;

  /** @param clients each Kafka client's {@code metrics()}: the spill's producer, the drain's consumer, ... */
  public KafkaClientMetrics(List<Supplier<Map<MetricName, ? extends Metric>>> clients) {
    this.clients = List.copyOf(Objects.requireNonNull(clients, "clients"));
  }

  /** One exported family: counter or gauge, help, and its samples by client id. */
  private static final class Family {
    final boolean counter;
    final String help;
    final Map<String, Double> byClient = new TreeMap<>();

    Family(boolean counter, String help) {
      this.counter = counter;
      this.help = help;
    }
  }

  @Override
  public MetricSnapshots collect() {
    Map<String, Family> families = new TreeMap<>();
    for (Supplier<Map<MetricName, ? extends Metric>> client : clients) {
      Map<MetricName, ? extends Metric> metrics;
      try {
        metrics = client.get();
      } catch (RuntimeException e) { // a client closing while scraped: its series are skipped this once
        continue;
      }
      metrics.forEach((name, metric) -> add(families, name, metric));
    }
    List<MetricSnapshot> out = new ArrayList<>(families.size());
    families.forEach((name, f) -> out.add(snapshot(name, f)));
    return new MetricSnapshots(out);
  }

  private static void add(Map<String, Family> families, MetricName name, Metric metric) {
    String prefix = GROUPS.get(name.group());
    if (prefix == null || !name.tags().keySet().equals(Set.of(CLIENT_ID))) {
      return;
    }
    if (!(metric.metricValue() instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      return;
    }
    boolean counter = name.name().endsWith("-total");
    String base = prefix + (counter ? name.name().substring(0, name.name().length() - "-total".length()) : name.name())
        .replace('-', '_').replace('.', '_');
    if (PrometheusNaming.validateMetricName(base) != null) {
      return; // a Kafka name Prometheus reserves (e.g. ending in _info): not worth a special case
    }
    Family f = families.computeIfAbsent(base, b -> new Family(counter, help(name)));
    if (f.counter == counter) {
      f.byClient.putIfAbsent(name.tags().get(CLIENT_ID), n.doubleValue());
    }
  }

  private static String help(MetricName name) {
    String d = name.description() == null || name.description().isBlank() ? name.name() : name.description();
    return d + " (Kafka client metric " + name.group() + "/" + name.name() + ")";
  }

  private static MetricSnapshot snapshot(String name, Family f) {
    if (f.counter) {
      CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(f.help);
      f.byClient.forEach((client, v) -> b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
          .labels(Labels.of("client_id", client)).value(Math.max(0, v)).build()));
      return b.build();
    }
    GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(f.help);
    f.byClient.forEach((client, v) -> b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
        .labels(Labels.of("client_id", client)).value(v).build()));
    return b.build();
  }

  /** Names this collector may export are not known before the clients run: no fixed list. */
  @Override
  public List<String> getPrometheusNames() {
    return List.of();
  }
}
