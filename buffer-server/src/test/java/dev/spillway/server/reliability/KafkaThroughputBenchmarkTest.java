package dev.spillway.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.kafka.KafkaSpillSettings;
import dev.spillway.kafka.testing.KafkaCluster;
import dev.spillway.kafka.testing.SpillTopics;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16's speed question, in one run on one machine: spans/s acknowledged by an ingest daemon
 * whose spill is the local Chronicle queue, against one whose spill is a local Kafka broker (the
 * harness's {@link KafkaCluster}, one KRaft node, TLS), and 2 Kafka ingest processes against 1 with
 * the same client load; and the bytes per span the broker keeps (the partition log segments of the
 * topic, summed, divided by the spans acknowledged into it).
 *
 * <p>Each run: {@value #CONNECTIONS} gRPC connections with mTLS, one blocking request of
 * {@value #SPANS_PER_REQUEST} spans (about 1 KB of OTLP each, 20 attributes) in flight on each,
 * flat out; {@code durable} (an answer means the batch is in the Chronicle file, or acknowledged
 * by every in-sync replica); LZ4; a warm-up, then a measured window. Refusals (UNAVAILABLE) are
 * counted and retried after 10 ms.
 *
 * <p>Behind a flag (minutes, and it loads both cores): {@code mvn -o -pl buffer-server -am test
 * -Dtest=KafkaThroughputBenchmarkTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dspillway.kafka.bench=true}. Prints {@code kafka bench:} lines; figures go to
 * benchmarks/RESULTS.md and docs/SCALE-OUT.md as ratios within the run. {@code
 * -Dspillway.kafka.bench.rounds=2} repeats the three runs (fresh spill directory and topics), to
 * see how far the ratios move between rounds on a shared machine.
 */
@EnabledIfSystemProperty(named = "spillway.kafka.bench", matches = "true",
    disabledReason = "a throughput benchmark (minutes, loads every core): run with -Dspillway.kafka.bench=true")
class KafkaThroughputBenchmarkTest {
  static final int CONNECTIONS = 4;
  static final int SPANS_PER_REQUEST = 100;
  static final Duration WARM_UP = Duration.ofSeconds(Long.getLong("spillway.kafka.bench.warmup.seconds", 10));
  static final Duration MEASURE = Duration.ofSeconds(Long.getLong("spillway.kafka.bench.seconds", 20));

  @TempDir Path dir;

  /**
   * What one run's clients saw in the measured window, and in all; and the CPU the ingest
   * daemons and the broker spent per span acknowledged in the window (µs). On a shared machine
   * spans/s move with the other engineers' builds; CPU per span moves much less.
   */
  record Run(String name, double spansPerSecond, long refusedRequests, long spansInAll, double ingestCpuMicrosPerSpan,
      double brokerCpuMicrosPerSpan) {}

  @Test
  void chronicleAgainstKafka_oneIngestAgainstTwo_spansPerSecondAndBytesPerSpan() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    ExportTraceServiceRequest request = request(SPANS_PER_REQUEST, new Random(42));
    double otlpBytesPerSpan = (double) request.getSerializedSize() / SPANS_PER_REQUEST;
    KafkaCluster cluster = KafkaCluster.shared();

    int rounds = Integer.getInteger("spillway.kafka.bench.rounds", 1);
    List<Run> all = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      List<Run> runs = new ArrayList<>();
      // 1. The local spill, one ingest process.
      Path spill = dir.resolve("spill-" + round);
      String chronicle = "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:" + "%PORT%\n"
          + TestConfigs.tls(pki, "        ")
          + "buffer:\n  durability: durable\n  spill:\n    directory: " + spill + "\n    max_disk_mib: 4096\n"
          + TestConfigs.localKeys(keys.resolve("writer.json"), null)
          + "telemetry:\n  metrics:\n    endpoint: 127.0.0.1:" + Rig.freePort() + "\n";
      runs.add(run("chronicle, 1 ingest", pki, List.of(chronicle), request, cluster));
      long chronicleBytes = du(spill);

      // 2. Kafka, one ingest process, its own topic (so its bytes on the broker are its own).
      KafkaSpillSettings one = SpillTopics.fresh(cluster, "bench-1", 4).build();
      runs.add(run("kafka, 1 ingest", pki, List.of(KafkaScaleOutTest.ingestYaml(pki, keys, one, -1)), request,
          cluster));
      long oneBytes = topicBytes(cluster, one.topic());

      // 3. Kafka, two ingest processes sharing the same client load.
      KafkaSpillSettings two = SpillTopics.fresh(cluster, "bench-2", 4).build();
      runs.add(run("kafka, 2 ingest", pki, List.of(KafkaScaleOutTest.ingestYaml(pki, keys, two, -1),
          KafkaScaleOutTest.ingestYaml(pki, keys, two, -1)), request, cluster));
      long twoBytes = topicBytes(cluster, two.topic());

      for (Run r : runs) {
        System.out.printf("kafka bench: round %d: %s: %.0f spans/s acknowledged (%d requests refused in the window;"
                + " %d spans in all); CPU per span: ingest %.1f µs, broker %.1f µs%n", round, r.name(), r.spansPerSecond(),
            r.refusedRequests(), r.spansInAll(), r.ingestCpuMicrosPerSpan(), r.brokerCpuMicrosPerSpan());
      }
      Run c = runs.get(0);
      Run k1 = runs.get(1);
      Run k2 = runs.get(2);
      System.out.printf("kafka bench: round %d: spans/s kafka 1 ingest / chronicle 1 ingest = %.2f;"
              + " kafka 2 ingest / kafka 1 ingest = %.2f; CPU per span (ingest + broker) kafka 1 ingest / chronicle ="
              + " %.2f, ingest alone %.2f; kafka 2 ingest / kafka 1 ingest = %.2f%n", round,
          k1.spansPerSecond() / c.spansPerSecond(), k2.spansPerSecond() / k1.spansPerSecond(),
          (k1.ingestCpuMicrosPerSpan() + k1.brokerCpuMicrosPerSpan()) / c.ingestCpuMicrosPerSpan(),
          k1.ingestCpuMicrosPerSpan() / c.ingestCpuMicrosPerSpan(),
          (k2.ingestCpuMicrosPerSpan() + k2.brokerCpuMicrosPerSpan())
              / (k1.ingestCpuMicrosPerSpan() + k1.brokerCpuMicrosPerSpan()));
      System.out.printf("kafka bench: round %d: OTLP %.0f B/span; on the broker %.0f B/span (1 ingest: %d bytes of log"
              + " segments, %d spans) and %.0f B/span (2 ingest); Chronicle spill directory %.0f B/span on disk"
              + " (%d bytes allocated, %d spans)%n", round,
          otlpBytesPerSpan, (double) oneBytes / k1.spansInAll(), oneBytes, k1.spansInAll(),
          (double) twoBytes / k2.spansInAll(), (double) chronicleBytes / c.spansInAll(), chronicleBytes, c.spansInAll());
      all.addAll(runs);
    }
    assertThat(all).allSatisfy(r -> assertThat(r.spansPerSecond()).as(r.name()).isPositive());
  }

  /** Starts the ingest daemons of {@code yamls} (each with a fresh port), drives them, stops them. */
  private Run run(String name, TestPki pki, List<String> yamls, ExportTraceServiceRequest request, KafkaCluster cluster)
      throws Exception {
    List<DaemonProcess> daemons = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    try {
      for (int i = 0; i < yamls.size(); i++) {
        int port = Rig.freePort();
        String yaml = yamls.get(i).replace("%PORT%", Integer.toString(port))
            .replace("endpoint: 127.0.0.1:-1\n", "endpoint: 127.0.0.1:" + port + "\n");
        Path f = dir.resolve(name.replaceAll("\\W+", "-") + "-" + i + ".yaml");
        Files.writeString(f, yaml);
        daemons.add(DaemonProcess.start(f, "ingest", List.of("-Xmx512m"), Duration.ofSeconds(120)));
        ports.add(port);
      }
      AtomicLong spansOk = new AtomicLong();
      AtomicLong refused = new AtomicLong();
      long start = System.nanoTime();
      long measureFrom = start + WARM_UP.toNanos();
      long end = measureFrom + MEASURE.toNanos();
      long[] atMeasureStart = new long[2];
      List<Thread> clients = new ArrayList<>();
      List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
      for (int c = 0; c < CONNECTIONS; c++) {
        int port = ports.get(c % ports.size());
        Thread t = new Thread(() -> {
          try {
            drive(pki, port, request, end, spansOk, refused);
          } catch (Throwable e) {
            errors.add(e);
          }
        }, "bench-client-" + c);
        t.start();
        clients.add(t);
      }
      TimeUnit.NANOSECONDS.sleep(Math.max(0, measureFrom - System.nanoTime()));
      atMeasureStart[0] = spansOk.get();
      atMeasureStart[1] = refused.get();
      long measured = System.nanoTime();
      long ingestTicks = 0;
      for (DaemonProcess d : daemons) {
        ingestTicks -= cpuTicks(d.pid());
      }
      long brokerTicks = -cpuTicks(cluster.pid(1));
      for (Thread t : clients) {
        t.join(TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()) + 60_000);
      }
      long window = System.nanoTime() - measured;
      for (DaemonProcess d : daemons) {
        ingestTicks += cpuTicks(d.pid());
      }
      brokerTicks += cpuTicks(cluster.pid(1));
      assertThat(errors).as(name + ": client errors").isEmpty();
      long spans = spansOk.get() - atMeasureStart[0];
      double perSecond = spans / (window / 1e9);
      double microsPerTick = 1e6 / TICKS_PER_SECOND;
      return new Run(name, perSecond, refused.get() - atMeasureStart[1], spansOk.get(),
          ingestTicks * microsPerTick / spans, brokerTicks * microsPerTick / spans);
    } finally {
      for (DaemonProcess d : daemons) {
        d.terminate(Duration.ofSeconds(60)); // orderly: what is in flight is acknowledged first
      }
    }
  }

  /** One blocking request at a time on one connection until {@code endNanos}. */
  private static void drive(TestPki pki, int port, ExportTraceServiceRequest request, long endNanos,
      AtomicLong spansOk, AtomicLong refused) throws Exception {
    ManagedChannel ch = TestClients.grpc(port, pki.ca, pki.clientCert, pki.clientKey);
    try {
      var stub = TraceServiceGrpc.newBlockingStub(ch);
      for (long i = 0; i < 10_000_000 && System.nanoTime() < endNanos; i++) {
        try {
          stub.withDeadlineAfter(30, TimeUnit.SECONDS).export(request);
          spansOk.addAndGet(SPANS_PER_REQUEST);
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
            throw e;
          }
          refused.incrementAndGet();
          Thread.sleep(10); // the client's back-off
        }
      }
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Linux's USER_HZ: /proc/PID/stat counts CPU time in these ticks. */
  static final long TICKS_PER_SECOND = 100;

  /** User plus system CPU time of process {@code pid} so far, in ticks (fields 14 and 15 of /proc/PID/stat). */
  static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // after "pid (comm) ": field 3 is f[0]
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** Bytes of the topic's partition log segments ({@code TOPIC-N/*.log}) on every node of the cluster. */
  static long topicBytes(KafkaCluster cluster, String topic) throws IOException {
    Pattern partitionDir = Pattern.compile(Pattern.quote(topic) + "-\\d+");
    long sum = 0;
    for (int node = 1; node <= cluster.size(); node++) {
      try (Stream<Path> dirs = Files.list(cluster.logDir(node))) {
        for (Path d : dirs.filter(p -> partitionDir.matcher(p.getFileName().toString()).matches()).toList()) {
          try (Stream<Path> files = Files.list(d)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
              sum += Files.size(f);
            }
          }
        }
      }
    }
    return sum;
  }

  /** Disk blocks a directory tree holds (Chronicle's cycle files are sparse: their length says little). */
  static long du(Path dir) throws Exception {
    Process p = new ProcessBuilder("du", "-s", "-B1", dir.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return Long.parseLong(out.split("\\s+")[0]);
  }

  /**
   * {@code n} spans of about 1 KB of OTLP each: 20 attributes of the kinds telemetry carries (ids,
   * URLs, SQL, user agents), from a seeded random source so compression sees varied, not repeated, text.
   */
  static ExportTraceServiceRequest request(int n, Random rnd) {
    String[] words = {"select", "from", "orders", "where", "customer_id", "limit", "join", "items", "GET", "POST",
        "/api/v2/orders", "/checkout", "Mozilla/5.0", "(X11; Linux x86_64)", "eu-west-1", "payments", "cart"};
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < n; i++) {
      byte[] trace = new byte[16];
      byte[] span = new byte[8];
      rnd.nextBytes(trace);
      rnd.nextBytes(span);
      Span.Builder s = Span.newBuilder().setTraceId(ByteString.copyFrom(trace)).setSpanId(ByteString.copyFrom(span))
          .setName(words[rnd.nextInt(words.length)] + " " + words[rnd.nextInt(words.length)])
          .setKind(Span.SpanKind.SPAN_KIND_SERVER)
          .setStartTimeUnixNano(1_700_000_000_000_000_000L + rnd.nextInt(1_000_000_000))
          .setEndTimeUnixNano(1_700_000_001_000_000_000L + rnd.nextInt(1_000_000_000));
      for (int a = 0; a < 20; a++) {
        StringBuilder v = new StringBuilder();
        while (v.length() < 30) {
          v.append(rnd.nextInt(3) == 0 ? Long.toHexString(rnd.nextLong()) : words[rnd.nextInt(words.length)]).append(' ');
        }
        s.addAttributes(KeyValue.newBuilder().setKey("attr." + a)
            .setValue(AnyValue.newBuilder().setStringValue(v.toString())));
      }
      ss.addSpans(s);
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ss)).build();
  }
}
