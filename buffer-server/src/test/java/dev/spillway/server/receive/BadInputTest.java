package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OTLP spec's error behaviour, over real mTLS: each bad request gets a clear status and a
 * google.rpc.Status body, and what was accepted before it stays accepted.
 */
class BadInputTest {
  static final int LIMIT = 1 << 20;
  @TempDir Path dir;
  TestPki pki;
  InMemoryBuffer buffer;
  Daemon daemon;
  HttpClient http;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    buffer = new InMemoryBuffer(100);
    daemon = Daemon.start(
        TestConfigs.load(dir, TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", LIMIT)),
        Role.INGEST, buffer.opener());
    http = TestClients.http(pki.ca, pki.clientCert, pki.clientKey);
    // One good request first: nothing below may lose it.
    assertThat(send("POST", "application/x-protobuf", null, TestClients.request(1, "v").toByteArray()).statusCode())
        .isEqualTo(200);
  }

  @AfterEach
  void tearDown() {
    assertThat(buffer.size()).as("the request accepted before stays accepted").isGreaterThanOrEqualTo(1);
    daemon.close();
  }

  private HttpResponse<byte[]> send(String method, String type, String encoding, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + daemon.httpPort() + "/v1/traces"))
        .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    if (encoding != null) {
      b.header("Content-Encoding", encoding);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Status status(HttpResponse<byte[]> r) throws Exception {
    return Status.parseFrom(r.body());
  }

  @Test
  void http_slowClientTricklingABody_cutOffAtTheRequestDeadline_othersServed() throws Exception {
    daemon.close();
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", LIMIT)
        .replace("        max_request_body_size: ", "        read_timeout: 1500ms\n        max_request_body_size: ");
    daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.INGEST, buffer.opener());
    javax.net.ssl.SSLSocket slow = (javax.net.ssl.SSLSocket) TestClients.sslContext(pki.ca, pki.clientCert, pki.clientKey)
        .getSocketFactory().createSocket("127.0.0.1", daemon.httpPort());
    try (slow) {
      slow.setSoTimeout(10_000);
      var out = slow.getOutputStream();
      out.write(("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
          + "Content-Length: 100000\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      long start = System.nanoTime();
      var in = slow.getInputStream();
      try {
        for (int i = 0; i < 40 && in.available() == 0; i++) { // a byte every 100 ms: never idle, never done
          out.write(0);
          out.flush();
          Thread.sleep(100); // the client's own pace: the point of the test
        }
      } catch (java.net.SocketException cutOff) {
        // the server answered and closed while we were still trickling
      }
      String answer = new String(in.readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
      assertThat(answer).startsWith("HTTP/1.1 408");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
    }
    // A well-behaved client is served meanwhile and after.
    assertThat(send("POST", "application/x-protobuf", null, TestClients.request(1, "v").toByteArray()).statusCode())
        .isEqualTo(200);
  }

  @Test
  void http_truncatedProtobuf_400WithStatus() throws Exception {
    byte[] good = TestClients.request(5, "v").toByteArray();
    HttpResponse<byte[]> r = send("POST", "application/x-protobuf", null, Arrays.copyOf(good, good.length - 7));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(status(r).getCode()).isEqualTo(Code.INVALID_ARGUMENT.getNumber());
    assertThat(buffer.size()).isEqualTo(1);
  }

  @Test
  void http_invalidJson_400WithJsonStatus() throws Exception {
    HttpResponse<byte[]> r = send("POST", "application/json", null, "{\"resourceSpans\": [".getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("\"code\":3");
  }

  @Test
  void http_jsonWithHexIds_acceptedAndIdsDecodedFromHex() throws Exception {
    String json = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
        + "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        + "\"name\":\"GET /x\",\"kind\":2,\"startTimeUnixNano\":\"1544712660000000000\","
        + "\"endTimeUnixNano\":\"1544712661000000000\",\"someFutureField\":1}]}]}]}";
    HttpResponse<byte[]> r = send("POST", "application/json; charset=utf-8", null, json.getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
    byte[] last = buffer.drainAll().get(1);
    var span = ExportTraceServiceRequest.parseFrom(last).getResourceSpans(0).getScopeSpans(0).getSpans(0);
    assertThat(HexFormat.of().formatHex(span.getTraceId().toByteArray())).isEqualTo("5b8efff798038103d269b633813fc60c");
    assertThat(HexFormat.of().formatHex(span.getSpanId().toByteArray())).isEqualTo("eee19b7ec3c1b174");
    assertThat(span.getKindValue()).isEqualTo(2);
    buffer.offer(dev.spillway.core.PayloadType.OTLP_TRACES, last); // keep tearDown's invariant
  }

  @Test
  void http_jsonWithBadHexId_400() throws Exception {
    String json = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\",\"spanId\":\"eee19b7ec3c1b174\"}]}]}]}";
    assertThat(send("POST", "application/json", null, json.getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(400);
  }

  @Test
  void http_gzipBomb_413WithBoundedMemory() throws Exception {
    // 64 MiB of zeros compresses to ~64 KiB; the receiver must stop inflating at 1 MiB.
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(bos)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        g.write(zeros);
      }
    }
    assertThat(bos.size()).isLessThan(LIMIT);
    HttpResponse<byte[]> r = send("POST", "application/x-protobuf", "gzip", bos.toByteArray());
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(status(r).getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.getNumber());
  }

  @Test
  void http_gzipBody_accepted() throws Exception {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(bos)) {
      g.write(TestClients.request(3, "v").toByteArray());
    }
    assertThat(send("POST", "application/x-protobuf", "gzip", bos.toByteArray()).statusCode()).isEqualTo(200);
    assertThat(buffer.size()).isEqualTo(2);
  }

  @Test
  void http_oversizedBody_413() throws Exception {
    HttpResponse<byte[]> r = send("POST", "application/x-protobuf", null, new byte[LIMIT + 1]);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(status(r).getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.getNumber());
  }

  @Test
  void http_wrongContentType_415() throws Exception {
    HttpResponse<byte[]> r = send("POST", "text/plain", null, "hello".getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(status(r).getCode()).isEqualTo(Code.INVALID_ARGUMENT.getNumber());
  }

  @Test
  void http_wrongMethod_405WithAllow() throws Exception {
    HttpResponse<byte[]> r = send("PUT", "application/x-protobuf", null, new byte[0]);
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("allow")).hasValue("POST");
  }

  @Test
  void http_bufferFull_503WithRetryAfter() throws Exception {
    buffer.refuseAll.set(true);
    HttpResponse<byte[]> r = send("POST", "application/x-protobuf", null, TestClients.request(2, "v").toByteArray());
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("retry-after")).hasValue("2");
    Status s = status(r);
    assertThat(s.getCode()).isEqualTo(Code.UNAVAILABLE.getNumber());
    assertThat(s.getDetails(0).is(RetryInfo.class)).isTrue();
    assertThat(daemon.metrics().spansRefused.sum()).isEqualTo(2);
  }

  @Test
  void grpc_badInputAndBackPressure_mapToOtlpCodes() throws Exception {
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
    try {
      var method = TraceServiceGrpc.getExportMethod().toBuilder(ByteMarshaller.INSTANCE,
          TraceServiceGrpc.getExportMethod().getResponseMarshaller()).build();
      byte[] good = TestClients.request(5, "v").toByteArray();
      assertThatThrownBy(() -> io.grpc.stub.ClientCalls.blockingUnaryCall(ch, method,
              io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), Arrays.copyOf(good, good.length - 7)))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT));
      assertThatThrownBy(() -> io.grpc.stub.ClientCalls.blockingUnaryCall(ch, method,
              io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS).withCompression("gzip"),
              new byte[LIMIT + 10]))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED));
      assertThatThrownBy(() -> io.grpc.stub.ClientCalls.blockingUnaryCall(ch, method,
              io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[LIMIT + 10]))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED));
      buffer.refuseAll.set(true);
      assertThatThrownBy(() -> TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
              .export(TestClients.request(1, "v")))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
            Status st = StatusProto.fromThrowable(e);
            assertThat(st.getDetailsList()).anyMatch((Any a) -> a.is(RetryInfo.class));
          });
    } finally {
      ch.shutdownNow();
    }
    assertThat(buffer.size()).isEqualTo(1);
  }
}
