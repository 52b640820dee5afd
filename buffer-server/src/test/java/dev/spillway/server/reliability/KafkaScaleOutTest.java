package dev.spillway.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.kafka.KafkaSpillSettings;
import dev.spillway.kafka.testing.KafkaCluster;
import dev.spillway.kafka.testing.SpillTopics;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16's scale-out run: two ingest daemons and two drain daemons on one real Kafka broker,
 * the real OpenTelemetry SDK as client, the downstream down for the first part of the run, one
 * drain SIGKILLed mid-run. Every span the SDK saw acknowledged must reach the downstream;
 * duplicates are counted, never lost spans; the canary never reaches the broker's files.
 */
class KafkaScaleOutTest {
  static final String CANARY = "kafka-scaleout-canary-93d1";
  @TempDir Path dir;

  @Test
  void twoIngestTwoDrain_downstreamDownThenUp_oneDrainKilled_everyAcknowledgedSpanArrives() throws Exception {
    KafkaCluster cluster = KafkaCluster.shared();
    KafkaSpillSettings kafka = SpillTopics.fresh(cluster, "scale-out", 4).build();
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    int downstreamPort = Rig.freePort();

    List<DaemonProcess> ingest = new ArrayList<>();
    List<DaemonProcess> drains = new ArrayList<>();
    List<Integer> ingestPorts = new ArrayList<>();
    try (RecordingDownstream downstream = new RecordingDownstream(pki, downstreamPort)) {
      for (int i = 0; i < 2; i++) {
        int port = Rig.freePort();
        ingestPorts.add(port);
        ingest.add(DaemonProcess.start(write("ingest-" + i, ingestYaml(pki, keys, kafka, port)), "ingest",
            List.of("-Xmx256m"), Duration.ofSeconds(120)));
        drains.add(DaemonProcess.start(write("drain-" + i, drainYaml(pki, keys, kafka, downstreamPort)), "drain",
            List.of("-Xmx256m"), Duration.ofSeconds(120)));
      }

      Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
      List<SdkTracerProvider> sdks = new ArrayList<>();
      for (int port : ingestPorts) {
        sdks.add(sdk(pki, port, acknowledged));
      }
      for (int round = 0; round < 12; round++) {
        for (SdkTracerProvider sdk : sdks) {
          Tracer t = sdk.get("scale-out");
          for (int i = 0; i < 100; i++) {
            t.spanBuilder("span-" + round + "-" + i).setAttribute(AttributeKey.stringKey("user.email"), CANARY)
                .startSpan().end();
          }
          sdk.forceFlush().join(10, TimeUnit.SECONDS);
        }
        if (round == 4) {
          downstream.start(); // the downstream comes back
        }
        if (round == 7) {
          drains.get(0).kill(); // one drain dies mid-run; the other takes its partitions
        }
      }
      for (SdkTracerProvider sdk : sdks) {
        sdk.shutdown().join(30, TimeUnit.SECONDS);
      }

      assertThat(acknowledged).as("spans the SDK saw acknowledged").hasSizeGreaterThan(1_000);
      boolean all = downstream.awaitAll(acknowledged, 180_000);
      assertThat(all).as("every acknowledged span delivered; missing %d, duplicates %d; surviving drain:\n%s",
          downstream.missing(acknowledged), downstream.duplicates(), drains.get(1).output()).isTrue();
      System.out.printf("kafka scale-out: %d acknowledged, 0 lost, %d duplicates%n", acknowledged.size(),
          downstream.duplicates());
    } finally {
      for (DaemonProcess d : ingest) {
        d.kill();
      }
      for (DaemonProcess d : drains) {
        if (d.isAlive()) {
          d.kill();
        }
      }
    }
    assertThat(cluster.filesHolding(CANARY.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .as("canary on the broker's disk").isEmpty();
  }

  private Path write(String name, String yaml) throws Exception {
    Path f = dir.resolve(name + ".yaml");
    Files.writeString(f, yaml);
    return f;
  }

  static String kafkaBlock(KafkaSpillSettings k) {
    return "    backend: kafka\n"
        + "    deployment_id: scale-out-test\n"
        + "    kafka:\n"
        + "      bootstrap_servers: [" + String.join(", ", k.bootstrapServers()) + "]\n"
        + "      topic: " + k.topic() + "\n"
        + "      consumer_group: " + k.consumerGroup() + "\n"
        + "      tls: {ca_file: " + k.tls().caFile() + ", cert_file: " + k.tls().certFile() + ", key_file: "
        + k.tls().keyFile() + "}\n";
  }

  static String ingestYaml(TestPki pki, Path keys, KafkaSpillSettings k, int grpcPort) {
    return "receivers:\n"
        + "  otlp:\n"
        + "    protocols:\n"
        + "      grpc:\n"
        + "        endpoint: 127.0.0.1:" + grpcPort + "\n"
        + TestConfigs.tls(pki, "        ")
        + "buffer:\n"
        + "  durability: durable\n"
        + "  spill:\n"
        + kafkaBlock(k)
        + "    keys:\n"
        + "      provider: local\n"
        + "      writer_keyset: " + keys.resolve("writer.json") + "\n"
        + "telemetry:\n"
        + "  metrics:\n"
        + "    endpoint: 127.0.0.1:" + Rig.freePort() + "\n";
  }

  static String drainYaml(TestPki pki, Path keys, KafkaSpillSettings k, int downstreamPort) {
    return "buffer:\n"
        + "  spill:\n"
        + kafkaBlock(k)
        + "    keys:\n"
        + "      provider: local\n"
        + "      reader_keyset: " + keys.resolve("reader.json") + "\n"
        + "exporters:\n"
        + "  otlp_grpc:\n"
        + "    endpoint: https://127.0.0.1:" + downstreamPort + "\n"
        + "    timeout: 5s\n"
        + "    tls:\n"
        + "      ca_file: " + pki.ca + "\n"
        + "      cert_file: " + pki.clientCert + "\n"
        + "      key_file: " + pki.clientKey + "\n"
        + "    retry_on_failure: {initial_interval: 50ms, max_interval: 500ms, max_elapsed_time: 1s}\n"
        + "telemetry:\n"
        + "  metrics:\n"
        + "    endpoint: 127.0.0.1:" + Rig.freePort() + "\n";
  }

  /** One finished SDK export: when it started, how long it took, whether it succeeded, its spans. */
  interface ExportListener {
    void exported(long startNanos, long nanos, boolean ok, int spans);
  }

  /** The real SDK over OTLP/gRPC with mTLS; records the span ids of every export that succeeded. */
  static SdkTracerProvider sdk(TestPki pki, int port, Set<Long> acknowledged) throws Exception {
    return sdk(pki, port, acknowledged, (startNanos, nanos, ok, spans) -> {});
  }

  /** As {@link #sdk(TestPki, int, Set)}, telling {@code listener} of every export as it finishes. */
  static SdkTracerProvider sdk(TestPki pki, int port, Set<Long> acknowledged, ExportListener listener)
      throws Exception {
    SpanExporter otlp = OtlpGrpcSpanExporter.builder()
        .setEndpoint("https://127.0.0.1:" + port)
        .setTrustedCertificates(Files.readAllBytes(pki.ca))
        .setClientTls(Files.readAllBytes(pki.clientKey), Files.readAllBytes(pki.clientCert))
        .setTimeout(Duration.ofSeconds(10))
        .build();
    SpanExporter recording = new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        long started = System.nanoTime();
        CompletableResultCode r = otlp.export(spans);
        r.whenComplete(() -> {
          listener.exported(started, System.nanoTime() - started, r.isSuccess(), spans.size());
          if (r.isSuccess()) {
            for (SpanData s : spans) {
              acknowledged.add(Long.parseUnsignedLong(s.getSpanId(), 16));
            }
          }
        });
        return r;
      }

      @Override
      public CompletableResultCode flush() {
        return otlp.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return otlp.shutdown();
      }
    };
    return SdkTracerProvider.builder()
        .addSpanProcessor(BatchSpanProcessor.builder(recording).setMaxQueueSize(4096).build())
        .build();
  }
}
