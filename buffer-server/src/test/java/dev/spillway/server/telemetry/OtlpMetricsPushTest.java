package dev.spillway.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code telemetry.metrics.readers}: the real daemon (real spill, real receivers) pushes its own
 * metrics with the OpenTelemetry SDK's OTLP exporters, over mTLS, to a real OTLP metrics receiver
 * that requires a client certificate; the pushed values are the ones {@code /metrics} shows.
 * TLS files that do not load stop the start with the file and the reason.
 */
class OtlpMetricsPushTest {
  static final int BATCHES = 3;
  static final int SPANS_PER_BATCH = 7;

  @TempDir Path dir;
  TestPki pki;
  Path keys;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    keys = dir.resolve("keys");
    LocalKeys.init(keys);
  }

  @Test
  void grpcReader_withMtls_pushesTheSpanCountsTheDaemonReceived() throws Exception {
    try (OtlpMetricsReceiver receiver = OtlpMetricsReceiver.grpc(pki)) {
      pushAndCheck(receiver, "grpc", "https://127.0.0.1:" + receiver.port());
    }
  }

  @Test
  void httpReader_withMtls_pushesTheSpanCountsTheDaemonReceived() throws Exception {
    try (OtlpMetricsReceiver receiver = OtlpMetricsReceiver.http(pki)) {
      pushAndCheck(receiver, "http/protobuf", "https://127.0.0.1:" + receiver.port());
    }
  }

  private void pushAndCheck(OtlpMetricsReceiver receiver, String protocol, String endpoint) throws Exception {
    ServerConfig config = config(reader(protocol, endpoint, pki.ca, pki.clientCert, pki.clientKey));
    try (Daemon d = Daemon.start(config, Role.INGEST, BufferOpener.spillBuffer())) {
      ManagedChannel ch = TestClients.grpc(d.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
      try {
        for (int b = 0; b < BATCHES; b++) {
          TestClients.exportRetrying(ch, TestClients.request(SPANS_PER_BATCH, "no-secret", b));
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      assertThat(d.metrics().spansReceived.sum()).isEqualTo(BATCHES * SPANS_PER_BATCH);

      // The interval is a minute: only this flush pushes, so the values are exactly these.
      assertThat(d.metricsPush().orElseThrow().flush(20)).as("push acknowledged").isTrue();
      assertThat(receiver.requests()).isNotEmpty();
      assertThat(receiver.latestSum("spillway_spans_received")).contains((double) (BATCHES * SPANS_PER_BATCH));
      assertThat(receiver.latestSum("spillway_receiver_requests")).isPresent();
      assertThat(receiver.latestSum("spillway_buffer_records_torn")).contains(0.0); // the buffer's counters too
      assertThat(receiver.latestResource())
          .containsEntry("service.name", "spillway")
          .containsEntry("spillway.role", "ingest")
          .containsKey("service.instance.id");
      assertThat(receiver.requests().get(0).clientSubject()).contains("CN=spillway-dev-client");
      // the same number the Prometheus text shows
      assertThat(d.metrics().render()).contains("spillway_spans_received_total " + (double) (BATCHES * SPANS_PER_BATCH));
    }
  }

  @Test
  void noReaders_noPushIsCreated() throws Exception {
    try (Daemon d = Daemon.start(config(""), Role.INGEST, BufferOpener.spillBuffer())) {
      assertThat(d.metricsPush()).isEmpty();
    }
  }

  @Test
  void clientKeyOfAnotherCertificate_refusesToStart_namingTheFiles() throws Exception {
    Path[] foreign = pki.foreignClient();
    ServerConfig config = config(reader("grpc", "https://127.0.0.1:9", pki.ca, pki.clientCert, foreign[1]));
    assertThatThrownBy(() -> Daemon.start(config, Role.INGEST, BufferOpener.spillBuffer()))
        .hasMessageContaining("telemetry.metrics.readers[0]")
        .hasMessageContaining(foreign[1] + " is not the private key of " + pki.clientCert);
    assertThat(dir.resolve("spill")).as("refused before the spill is opened").doesNotExist();
  }

  @Test
  void caFileThatIsNotPem_refusesToStart_namingTheFile() throws Exception {
    Path junk = dir.resolve("junk-ca.pem");
    Files.writeString(junk, "not a certificate\n");
    ServerConfig config = config(reader("grpc", "https://127.0.0.1:9", junk, pki.clientCert, pki.clientKey));
    assertThatThrownBy(() -> Daemon.start(config, Role.INGEST, BufferOpener.spillBuffer()))
        .hasMessageContaining(junk.toString());
  }

  @Test
  void endpointWithAnotherCa_pushIsRefused_nothingArrives() throws Exception {
    // The daemon trusts only its own CA; the receiver presents a certificate of a CA it does not know.
    TestPki other = new TestPki(dir.resolve("other-pki"));
    try (OtlpMetricsReceiver receiver = OtlpMetricsReceiver.grpc(other)) {
      ServerConfig config = config(reader("grpc", "https://127.0.0.1:" + receiver.port(), pki.ca, pki.clientCert,
          pki.clientKey));
      try (Daemon d = Daemon.start(config, Role.INGEST, BufferOpener.spillBuffer())) {
        assertThat(d.metricsPush().orElseThrow().flush(20)).isFalse();
        assertThat(receiver.requests()).isEmpty();
      }
    }
  }

  private ServerConfig config(String readers) throws Exception {
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), TestConfigs.localKeys(keys.resolve("writer.json"), null),
        "", 1 << 20) + readers;
    return TestConfigs.load(dir, yaml);
  }

  /** A readers list as the collector writes it, appended under telemetry.metrics. */
  static String reader(String protocol, String endpoint, Path ca, Path cert, Path key) {
    return "    readers:\n"
        + "      - periodic:\n"
        + "          interval: 60000\n"
        + "          exporter:\n"
        + "            otlp:\n"
        + "              protocol: " + protocol + "\n"
        + "              endpoint: " + endpoint + "\n"
        + "              certificate: " + ca + "\n"
        + "              client_certificate: " + cert + "\n"
        + "              client_key: " + key + "\n"
        + "              timeout: 5000\n";
  }
}
