package dev.spillway.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.kafka.KafkaSpillSettings;
import dev.spillway.kafka.testing.KafkaCluster;
import dev.spillway.kafka.testing.SpillTopics;
import dev.spillway.server.testing.TestPki;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16 on a 3-broker cluster: topic with replication factor 3 and {@code min.insync.replicas}
 * 2, two ingest daemons and two drain daemons, the real OpenTelemetry SDK as client; the broker
 * that leads partition 0 is SIGKILLed mid-run and stays down. Every span the SDK saw acknowledged
 * must reach the downstream; duplicates are counted. The test also measures what the clients saw
 * while the cluster noticed the loss and shrank the in-sync replica sets: export latency and
 * refused exports, before the kill, in the first seconds after it, and once the ISRs had shrunk.
 *
 * <p>Behind a flag (four JVMs of Kafka and daemons, about 3 minutes on 2 cores):
 * {@code mvn -o -pl buffer-server -am test -Dtest=KafkaBrokerLossTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dspillway.kafka.cluster3=true}. Figures go to docs/RELIABILITY.md.
 */
@EnabledIfSystemProperty(named = "spillway.kafka.cluster3", matches = "true",
    disabledReason = "starts a 3-broker Kafka cluster and 4 daemons (minutes on 2 cores): run with -Dspillway.kafka.cluster3=true")
class KafkaBrokerLossTest {
  static final String CANARY = "kafka-broker-loss-canary-5e0b";
  /** Load before the kill, and after it. */
  static final Duration BEFORE = Duration.ofSeconds(Long.getLong("spillway.kafka.cluster3.before.seconds", 20));
  static final Duration AFTER = Duration.ofSeconds(Long.getLong("spillway.kafka.cluster3.after.seconds", 45));
  static final int SPANS_PER_FLUSH = 50;

  @TempDir Path dir;

  /** One SDK export: when it started (ns, System.nanoTime), how long it took, whether it was acknowledged. */
  record Export(long startNanos, long nanos, boolean ok, int spans) {}

  @Test
  void threeBrokers_leaderKilledMidRun_everyAcknowledgedSpanArrives() throws Exception {
    long setup = System.nanoTime();
    try (KafkaCluster cluster = KafkaCluster.start(dir.resolve("kafka"), 3)) {
      KafkaSpillSettings kafka = SpillTopics.fresh(cluster, "broker-loss", 6).build();
      TestPki pki = new TestPki(dir.resolve("pki"));
      Path keys = dir.resolve("keys");
      LocalKeys.init(keys);
      int downstreamPort = Rig.freePort();
      List<DaemonProcess> daemons = new ArrayList<>();
      List<Integer> ingestPorts = new ArrayList<>();
      List<Integer> ingestMetricsPorts = new ArrayList<>();
      try (RecordingDownstream downstream = new RecordingDownstream(pki, downstreamPort)) {
        downstream.start();
        for (int i = 0; i < 2; i++) {
          int port = Rig.freePort();
          ingestPorts.add(port);
          String yaml = KafkaScaleOutTest.ingestYaml(pki, keys, kafka, port);
          Matcher metricsAt = Pattern.compile("metrics:\\n\\s+endpoint: 127\\.0\\.0\\.1:(\\d+)").matcher(yaml);
          assertThat(metricsAt.find()).as("metrics endpoint in\n%s", yaml).isTrue();
          ingestMetricsPorts.add(Integer.parseInt(metricsAt.group(1)));
          daemons.add(DaemonProcess.start(write("ingest-" + i, yaml), "ingest", List.of("-Xmx192m"),
              Duration.ofSeconds(120)));
          daemons.add(DaemonProcess.start(write("drain-" + i,
              KafkaScaleOutTest.drainYaml(pki, keys, kafka, downstreamPort)), "drain", List.of("-Xmx192m"),
              Duration.ofSeconds(120)));
        }
        System.out.printf("kafka 3 brokers: cluster, topic and 4 daemons up in %d s%n",
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - setup));

        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        List<Export> exports = new CopyOnWriteArrayList<>();
        List<SdkTracerProvider> sdks = new ArrayList<>();
        for (int port : ingestPorts) {
          sdks.add(KafkaScaleOutTest.sdk(pki, port, acknowledged,
              (startNanos, nanos, ok, spans) -> exports.add(new Export(startNanos, nanos, ok, spans))));
        }
        long start = System.nanoTime();
        long killAt = start + BEFORE.toNanos();
        long end = killAt + AFTER.toNanos();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < sdks.size(); c++) {
          SdkTracerProvider sdk = sdks.get(c);
          int client = c;
          Thread t = new Thread(() -> load(sdk, client, end), "sdk-load-" + c);
          t.start();
          clients.add(t);
        }

        TimeUnit.NANOSECONDS.sleep(Math.max(0, killAt - System.nanoTime()));
        int victim = SpillTopics.partitions(kafka).get(0).leader();
        List<SpillTopics.PartitionState> beforeKill = SpillTopics.partitions(kafka);
        long killed = System.nanoTime();
        cluster.kill(victim);
        // Watch the cluster notice: when every partition has a live leader, when every ISR lost the victim.
        long leadersBack = -1;
        long isrShrunk = -1;
        List<SpillTopics.PartitionState> state = List.of();
        while (System.nanoTime() < end && isrShrunk < 0) {
          try {
            state = SpillTopics.partitions(kafka);
            long now = System.nanoTime();
            if (leadersBack < 0 && state.stream().allMatch(p -> p.leader() > 0 && p.leader() != victim)) {
              leadersBack = now - killed;
            }
            if (state.stream().noneMatch(p -> p.isr().contains(victim))) {
              isrShrunk = now - killed;
            }
          } catch (Exception e) {
            // the admin call may time out while metadata moves; try again
          }
          Thread.sleep(250);
        }
        for (Thread t : clients) {
          t.join(TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()) + 60_000);
          assertThat(t.isAlive()).as("load thread %s ended", t.getName()).isFalse();
        }
        for (SdkTracerProvider sdk : sdks) {
          sdk.shutdown().join(30, TimeUnit.SECONDS);
        }

        long isrShrunkAt = isrShrunk < 0 ? Long.MAX_VALUE : killed + isrShrunk;
        Phase before = Phase.of("done before the kill", exports, e -> e.startNanos() + e.nanos() < killed);
        Phase stall = Phase.of("in flight between the kill and the ISR shrink", exports,
            e -> e.startNanos() + e.nanos() >= killed && e.startNanos() < isrShrunkAt);
        Phase after = Phase.of("started after the ISR shrink", exports, e -> e.startNanos() >= isrShrunkAt);
        System.out.printf("kafka 3 brokers: killed node %d (leader of partition 0); partitions before %s;"
                + " every partition led by a live broker after %s; ISRs without it after %s; after %s%n",
            victim, beforeKill, seconds(leadersBack), seconds(isrShrunk), state);
        for (Phase p : List.of(before, stall, after)) {
          System.out.println("kafka 3 brokers: " + p);
        }
        // What the ingest daemons counted: refused offers (an offer waits offer_timeout, 5 s, for the
        // cluster), and their producers' own view of the loss (exported beside Spillway's metrics).
        for (int port : ingestMetricsPorts) {
          String prom = DaemonProcess.get(port, "/metrics");
          System.out.printf("kafka 3 brokers: ingest daemon :%d: spans received %.0f, refused %.0f; batches refused %.0f;"
                  + " producer records sent %.0f, retried %.0f, failed %.0f, request latency max %.0f ms%n", port,
              DaemonProcess.metric(prom, "spillway_spans_received_total"),
              DaemonProcess.metric(prom, "spillway_spans_refused_total"),
              DaemonProcess.metric(prom, "spillway_buffer_batches_refused_total"),
              DaemonProcess.metric(prom, "spillway_kafka_producer_record_send_total"),
              DaemonProcess.metric(prom, "spillway_kafka_producer_record_retry_total"),
              DaemonProcess.metric(prom, "spillway_kafka_producer_record_error_total"),
              DaemonProcess.metric(prom, "spillway_kafka_producer_request_latency_max"));
        }

        assertThat(isrShrunk).as("every ISR dropped the killed broker within the run").isPositive();
        assertThat(after.ok()).as("exports acknowledged with 2 of 3 brokers (min.insync.replicas 2)").isPositive();
        assertThat(acknowledged).as("spans the SDK saw acknowledged").hasSizeGreaterThan(1_000);
        boolean all = downstream.awaitAll(acknowledged, 180_000);
        assertThat(all).as("every acknowledged span delivered; missing %d, duplicates %d; a drain:\n%s",
            downstream.missing(acknowledged), downstream.duplicates(), daemons.get(1).output()).isTrue();
        for (DaemonProcess d : daemons) {
          assertThat(d.isAlive()).as("daemon %d survived the broker loss:\n%s", d.pid(), d.output()).isTrue();
        }
        System.out.printf("kafka 3 brokers: %d spans acknowledged, 0 lost, %d duplicates, %d spans delivered;"
                + " %d s in all%n", acknowledged.size(), downstream.duplicates(), downstream.deliveries.size(),
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - setup));
      } finally {
        for (DaemonProcess d : daemons) {
          d.close();
        }
      }
      assertThat(cluster.filesHolding(CANARY.getBytes(StandardCharsets.UTF_8))).as("canary on a broker's disk").isEmpty();
    }
  }

  /** Spans in flushes of {@value #SPANS_PER_FLUSH}, each flush waited for, until {@code endNanos}. */
  private static void load(SdkTracerProvider sdk, int client, long endNanos) {
    Tracer t = sdk.get("broker-loss");
    for (int round = 0; round < 100_000 && System.nanoTime() < endNanos; round++) {
      for (int i = 0; i < SPANS_PER_FLUSH; i++) {
        t.spanBuilder("span-" + client + "-" + round + "-" + i)
            .setAttribute(AttributeKey.stringKey("user.email"), CANARY).startSpan().end();
      }
      sdk.forceFlush().join(30, TimeUnit.SECONDS);
      try {
        Thread.sleep(50); // a steady client, not a flood: the 2 cores also run 3 brokers and 4 daemons
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** What the clients saw in one window of the run. */
  record Phase(String name, int exports, int ok, int refused, long p50Millis, long p99Millis, long maxMillis,
      long spansOk) {
    static Phase of(String name, List<Export> all, java.util.function.Predicate<Export> window) {
      List<Export> in = all.stream().filter(window).toList();
      long[] ms = in.stream().mapToLong(e -> TimeUnit.NANOSECONDS.toMillis(e.nanos())).sorted().toArray();
      int ok = (int) in.stream().filter(Export::ok).count();
      long spans = in.stream().filter(Export::ok).mapToLong(Export::spans).sum();
      return new Phase(name, in.size(), ok, in.size() - ok, pct(ms, 0.5), pct(ms, 0.99),
          ms.length == 0 ? 0 : ms[ms.length - 1], spans);
    }

    private static long pct(long[] sorted, double q) {
      return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }

    @Override
    public String toString() {
      return String.format("%s: %d exports, %d acknowledged (%d spans), %d refused or failed; latency p50 %d ms,"
          + " p99 %d ms, max %d ms", name, exports, ok, spansOk, refused, p50Millis, p99Millis, maxMillis);
    }
  }

  private static String seconds(long nanos) {
    return nanos < 0 ? "(not within the run)" : String.format("%.1f s", nanos / 1e9);
  }

  private Path write(String name, String yaml) throws Exception {
    Path f = dir.resolve(name + ".yaml");
    Files.writeString(f, yaml);
    return f;
  }
}
