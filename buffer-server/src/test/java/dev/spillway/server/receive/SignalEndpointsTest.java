package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.spillway.core.PayloadType;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OTLP/HTTP conformance of {@code /v1/metrics} and {@code /v1/logs} as {@code /v1/traces} has it
 * (content type mirrored, 400 with a Status body, 415, 405, 413), both signals over gRPC, and the
 * refusals: a signal turned off in {@code service.pipelines} (HTTP 404, gRPC UNIMPLEMENTED, both
 * naming the signal and the key) and an unknown gRPC service (UNIMPLEMENTED), each counted.
 */
class SignalEndpointsTest {
  static final int LIMIT = 1 << 20;
  static final List<OtlpWire.Signal> SIGNALS = List.of(OtlpWire.Signal.METRICS, OtlpWire.Signal.LOGS);
  @TempDir Path dir;
  TestPki pki;
  InMemoryBuffer buffer;
  Daemon daemon;
  HttpClient http;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    buffer = new InMemoryBuffer(100);
    start("");
    http = TestClients.http(pki.ca, pki.clientCert, pki.clientKey);
  }

  private void start(String service) throws Exception {
    if (daemon != null) {
      daemon.close();
    }
    daemon = Daemon.start(TestConfigs.load(dir,
            TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", LIMIT) + service),
        Role.INGEST, buffer.opener());
  }

  @AfterEach
  void tearDown() {
    daemon.close();
  }

  private static Message request(OtlpWire.Signal s, int items) {
    return s == OtlpWire.Signal.METRICS ? TestClients.metricsRequest(items, "v") : TestClients.logsRequest(items, "v");
  }

  private HttpResponse<byte[]> send(OtlpWire.Signal s, String method, String type, String encoding, byte[] body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(
            URI.create("https://127.0.0.1:" + daemon.httpPort() + OtlpServices.httpPath(s)))
        .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    if (encoding != null) {
      b.header("Content-Encoding", encoding);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void http_protobufJsonAndGzip_acceptedWithTheSignalsPayloadType_contentTypeMirrored() throws Exception {
    for (OtlpWire.Signal s : SIGNALS) {
      HttpResponse<byte[]> proto = send(s, "POST", "application/x-protobuf", null, request(s, 3).toByteArray());
      assertThat(proto.statusCode()).as(s.label()).isEqualTo(200);
      assertThat(proto.headers().firstValue("Content-Type")).hasValue("application/x-protobuf");

      HttpResponse<byte[]> json = send(s, "POST", "application/json; charset=utf-8", null,
          OtlpJson.print(request(s, 2)).getBytes(StandardCharsets.UTF_8));
      assertThat(json.statusCode()).as(s.label()).isEqualTo(200);
      assertThat(json.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(new String(json.body(), StandardCharsets.UTF_8).trim()).startsWith("{");

      HttpResponse<byte[]> gz = send(s, "POST", "application/x-protobuf", "gzip", gzip(request(s, 4).toByteArray()));
      assertThat(gz.statusCode()).as(s.label()).isEqualTo(200);
      assertThat(daemon.metrics().signal(s).received.sum()).as(s.label()).isEqualTo(9);
      assertThat(daemon.metrics().requests("http", s, "ok")).isEqualTo(3);
    }
    List<byte[]> got = buffer.drainAll();
    assertThat(got).hasSize(6);
    assertThat(got.stream().map(buffer::typeOf)).containsExactly(PayloadType.OTLP_METRICS, PayloadType.OTLP_METRICS,
        PayloadType.OTLP_METRICS, PayloadType.OTLP_LOGS, PayloadType.OTLP_LOGS, PayloadType.OTLP_LOGS);
  }

  @Test
  void http_badRequests_400_415_405_413_withStatusBodies() throws Exception {
    for (OtlpWire.Signal s : SIGNALS) {
      byte[] good = request(s, 5).toByteArray();
      HttpResponse<byte[]> truncated = send(s, "POST", "application/x-protobuf", null, Arrays.copyOf(good, good.length - 7));
      assertThat(truncated.statusCode()).as(s.label()).isEqualTo(400);
      assertThat(Status.parseFrom(truncated.body()).getCode()).isEqualTo(Code.INVALID_ARGUMENT.getNumber());

      HttpResponse<byte[]> badJson = send(s, "POST", "application/json", null, "{\"resource".getBytes(StandardCharsets.UTF_8));
      assertThat(badJson.statusCode()).isEqualTo(400);
      assertThat(badJson.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(new String(badJson.body(), StandardCharsets.UTF_8)).contains("\"code\":3");

      HttpResponse<byte[]> media = send(s, "POST", "text/plain", null, good);
      assertThat(media.statusCode()).isEqualTo(415);
      assertThat(Status.parseFrom(media.body()).getMessage()).contains("Content-Type");

      HttpResponse<byte[]> get = send(s, "GET", "application/x-protobuf", null, new byte[0]);
      assertThat(get.statusCode()).isEqualTo(405);
      assertThat(get.headers().firstValue("Allow")).hasValue("POST");

      HttpResponse<byte[]> big = send(s, "POST", "application/x-protobuf", null, request(s, 40_000).toByteArray());
      assertThat(big.statusCode()).as(s.label()).isEqualTo(413);
      assertThat(Status.parseFrom(big.body()).getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.getNumber());
      assertThat(daemon.metrics().requests("http", s, "bad_request")).isEqualTo(2);
      assertThat(daemon.metrics().requests("http", s, "too_large")).isEqualTo(1);
    }
    assertThat(buffer.size()).isZero();
  }

  @Test
  void grpc_metricsAndLogsServices_accepted_andCounted() throws Exception {
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
    try {
      MetricsServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .export(TestClients.metricsRequest(7, "v"));
      LogsServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).withCompression("gzip")
          .export(TestClients.logsRequest(5, "v"));
    } finally {
      ch.shutdownNow();
    }
    assertThat(daemon.metrics().signal(OtlpWire.Signal.METRICS).received.sum()).isEqualTo(7);
    assertThat(daemon.metrics().signal(OtlpWire.Signal.LOGS).received.sum()).isEqualTo(5);
    assertThat(daemon.metrics().requests("grpc", OtlpWire.Signal.LOGS, "ok")).isEqualTo(1);
    assertThat(buffer.drainAll().stream().map(buffer::typeOf))
        .containsExactly(PayloadType.OTLP_METRICS, PayloadType.OTLP_LOGS);
  }

  @Test
  void signalTurnedOff_http404AndGrpcUnimplemented_nameTheSignalAndTheKey_counted() throws Exception {
    start("service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n");
    HttpResponse<byte[]> r = send(OtlpWire.Signal.LOGS, "POST", "application/x-protobuf", null,
        TestClients.logsRequest(2, "v").toByteArray());
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(Status.parseFrom(r.body()).getMessage()).contains("logs are turned off").contains("service.pipelines");
    assertThat(daemon.metrics().requests("http", OtlpWire.Signal.LOGS, "signal_off")).isEqualTo(1);

    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
    try {
      assertThatThrownBy(() -> MetricsServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
              .export(TestClients.metricsRequest(2, "v")))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNIMPLEMENTED);
            assertThat(e.getStatus().getDescription()).contains("metrics are turned off").contains("service.pipelines");
          });
      // Traces still served on the same listener.
      TestClients.exportRetrying(ch, TestClients.request(2, "v"));
    } finally {
      ch.shutdownNow();
    }
    assertThat(daemon.metrics().requests("grpc", OtlpWire.Signal.METRICS, "signal_off")).isEqualTo(1);
    assertThat(daemon.metrics().signal(OtlpWire.Signal.METRICS).received.sum()).isZero();
    assertThat(daemon.metrics().render()).contains(
        "spillway_receiver_requests_total{outcome=\"signal_off\",signal=\"metrics\",transport=\"grpc\"} 1.0");
  }

  @Test
  void grpc_unknownService_unimplemented_countedAsHttp404sAre() throws Exception {
    MethodDescriptor<byte[], byte[]> unknown = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export")
        .setRequestMarshaller(ByteMarshaller.INSTANCE).setResponseMarshaller(ByteMarshaller.INSTANCE).build();
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
    try {
      assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, unknown,
              io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1, 2, 3}))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNIMPLEMENTED));
    } finally {
      ch.shutdownNow();
    }
    assertThat(daemon.metrics().requests("grpc", "unimplemented")).isEqualTo(1);
  }

  private static byte[] gzip(byte[] in) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(out)) {
      g.write(in);
    }
    return out.toByteArray();
  }
}
