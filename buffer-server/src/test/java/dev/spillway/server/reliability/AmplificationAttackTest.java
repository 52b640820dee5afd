package dev.spillway.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.CodedOutputStream;
import dev.spillway.server.receive.ByteMarshaller;
import dev.spillway.server.testing.TestClients;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13's amplification attack against the real daemon in a child JVM with the JVM options
 * ops ships (ops/systemd/spillway.service: heap, {@code -XX:+ExitOnOutOfMemoryError}), memory-first
 * (the mode that lost acknowledged spans): ten requests at once of a ~4 KB gzip body that inflates
 * to two million empty spans or log records, or a million empty metric data points (gRPC and HTTP),
 * and of 4 MiB of JSON {@code {}} objects (spans, data points), plus deep
 * nesting and invalid UTF-8, between well-behaved clients. Each attack gets a clear refusal; every
 * span acknowledged before, during and after is delivered; the daemon keeps serving.
 */
class AmplificationAttackTest {
  private static final Path SHIPPED_UNIT = Path.of("..", "ops", "systemd", "spillway.service").toAbsolutePath().normalize();
  @TempDir Path dir;

  /** The JAVA_OPTS of the shipped systemd unit. */
  static List<String> shippedJvmOptions() throws IOException {
    Matcher m = Pattern.compile("JAVA_OPTS=([^\"]+)\"").matcher(Files.readString(SHIPPED_UNIT));
    assertThat(m.find()).as("JAVA_OPTS in %s", SHIPPED_UNIT).isTrue();
    List<String> opts = new ArrayList<>(List.of(m.group(1).trim().split("\\s+")));
    assertThat(opts).anyMatch(o -> o.startsWith("-Xmx")).contains("-XX:+ExitOnOutOfMemoryError");
    return opts;
  }

  /** Two million empty spans in one ScopeSpans (just under 4 MiB), gzipped to a few KB. */
  static byte[] emptySpansGzip() throws IOException {
    int n = 2_000_000;
    byte[] spans = new byte[2 * n];
    for (int i = 0; i < n; i++) {
      spans[2 * i] = 0x12; // ScopeSpans.spans, length-delimited, length 0
    }
    return gzip(field(1, field(2, spans)));
  }

  static byte[] field(int number, byte[] value) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 8);
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    c.writeByteArray(number, value);
    c.flush();
    return out.toByteArray();
  }

  static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(b);
    }
    return out.toByteArray();
  }

  /** One million empty gauge data points in one metric (just under 4 MiB), gzipped to a few KB. */
  static byte[] emptyDataPointsGzip() throws IOException {
    int n = 1_000_000;
    byte[] points = new byte[2 * n];
    for (int i = 0; i < n; i++) {
      points[2 * i] = 0x0a; // Gauge.data_points, length-delimited, length 0
    }
    // ResourceMetrics(1) > ScopeMetrics(2) > Metric(2) > gauge(5) > data_points
    return gzip(field(1, field(2, field(2, field(5, points)))));
  }

  static byte[] emptyObjectsJson() {
    return emptyObjectsJson("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{}", "]}]}]}");
  }

  /** 4 MiB of {@code {}} items between {@code head} (ending in the first) and {@code tail}. */
  static byte[] emptyObjectsJson(String head, String tail) {
    StringBuilder b = new StringBuilder(4 << 20).append(head);
    while (b.length() < (4 << 20) - 64) {
      b.append(",{}");
    }
    return b.append(tail).toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void amplificationRequests_shippedHeap_refusedNoAcknowledgedSpanLostDaemonServing() throws Exception {
    Rig rig = new Rig(dir);
    rig.durability = "memory-first";
    byte[] bomb = emptySpansGzip();
    byte[] json = emptyObjectsJson();
    byte[] metricsBomb = emptyDataPointsGzip();
    byte[] metricsJson = emptyObjectsJson(
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"gauge\":{\"dataPoints\":[{}", "]}}]}]}]}");
    String deep = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":"
        + "{\"arrayValue\":{\"values\":[".repeat(100) + "]}}".repeat(100) + "}]}]}]}]}";
    byte[] badUtf8 = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"\u00ff\u00fe\"}]}]}]}"
        .getBytes(StandardCharsets.ISO_8859_1); // Latin-1 bytes: not UTF-8
    assertThat(bomb.length).isLessThan(8 << 10);
    try (RecordingDownstream downstream = new RecordingDownstream(rig.pki, rig.downstreamPort);
        DaemonProcess daemon = DaemonProcess.start(rig.writeConfig(), shippedJvmOptions(), Duration.ofSeconds(90));
        SpanClient good = new SpanClient(rig.grpcPort, rig.pki, 1, 20, 64)) {
      downstream.start();
      for (int i = 0; i < 20; i++) {
        assertThat(good.sendOne()).as("good request before the attack: %s", good.failureSamples).isTrue();
      }
      HttpClient http = TestClients.http(rig.pki.ca, rig.pki.clientCert, rig.pki.clientKey);
      ManagedChannel grpc = TestClients.grpc(rig.grpcPort, rig.pki.ca, rig.pki.clientCert, rig.pki.clientKey);
      ExecutorService pool = Executors.newFixedThreadPool(10);
      List<Callable<String>> attacks = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        attacks.add(() -> "http-gzip " + post(http, rig, "application/x-protobuf", true, bomb));
        attacks.add(() -> "http-json " + post(http, rig, "application/json", false, json));
        attacks.add(() -> "grpc-gzip " + grpcRaw(grpc, bomb));
      }
      // The same bombs at the other signals: the bytes of two million empty spans are two million
      // empty log records too; a metric gets a million empty data points.
      attacks.add(() -> "http-gzip-logs " + post(http, rig, "/v1/logs", "application/x-protobuf", true, bomb));
      attacks.add(() -> "http-json-metrics " + post(http, rig, "/v1/metrics", "application/json", false, metricsJson));
      attacks.add(() -> "grpc-gzip-metrics " + grpcRaw(grpc, MetricsServiceGrpc.getExportMethod(), metricsBomb));
      attacks.add(() -> "http-json-gzip " + post(http, rig, "application/json", true, gzip(json)));
      Set<String> answers = new HashSet<>();
      List<Future<String>> running = new ArrayList<>();
      for (Callable<String> a : attacks) {
        running.add(pool.submit(a));
      }
      for (int i = 0; i < 20; i++) { // well-behaved traffic while the attack is on
        good.sendOne();
      }
      for (Future<String> f : running) {
        answers.add(f.get(120, TimeUnit.SECONDS));
      }
      pool.shutdown();
      answers.add("json-deep " + post(http, rig, "application/json", false, deep.getBytes(StandardCharsets.UTF_8)));
      answers.add("json-bad-utf8 " + post(http, rig, "application/json", false, badUtf8));
      grpc.shutdownNow();
      System.out.println("RELIABILITY amplification answers=" + answers + " jvm=" + shippedJvmOptions());
      assertThat(answers).containsExactlyInAnyOrder("http-gzip 413", "http-json 413", "grpc-gzip RESOURCE_EXHAUSTED",
          "http-gzip-logs 413", "http-json-metrics 413", "grpc-gzip-metrics RESOURCE_EXHAUSTED",
          "http-json-gzip 413", "json-deep 413", "json-bad-utf8 400");

      for (int i = 0; i < 20; i++) {
        assertThat(good.sendOne()).as("good request after the attack: %s", good.failureSamples).isTrue();
      }
      assertThat(daemon.isAlive()).as(daemon.output()).isTrue();
      Set<Long> acked = new HashSet<>(good.acknowledged);
      assertThat(downstream.awaitAll(acked, 60_000))
          .as("missing %d of %d acknowledged spans; daemon output:\n%s", downstream.missing(acked), acked.size(),
              daemon.output())
          .isTrue();
      assertThat(daemon.output()).doesNotContain("OutOfMemoryError");
    }
  }

  static int post(HttpClient http, Rig rig, String type, boolean gzip, byte[] body) throws Exception {
    return post(http, rig, "/v1/traces", type, gzip, body);
  }

  static int post(HttpClient http, Rig rig, String path, String type, boolean gzip, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + rig.httpPort + path))
        .header("Content-Type", type).timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (gzip) {
      b.header("Content-Encoding", "gzip");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** Sends bytes as they are, gzip-compressed on the wire; the status code's name. */
  static String grpcRaw(ManagedChannel ch, byte[] gzipped) throws IOException {
    return grpcRaw(ch, TraceServiceGrpc.getExportMethod(), gzipped);
  }

  /** As above, to another signal's Export method. */
  static String grpcRaw(ManagedChannel ch, MethodDescriptor<?, ?> export, byte[] gzipped) throws IOException {
    byte[] raw = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzipped)).readAllBytes();
    MethodDescriptor<byte[], byte[]> method = export.toBuilder(ByteMarshaller.INSTANCE, ByteMarshaller.INSTANCE).build();
    try {
      ClientCalls.blockingUnaryCall(ch, method,
          CallOptions.DEFAULT.withCompression("gzip").withDeadlineAfter(60, TimeUnit.SECONDS), raw);
      return Status.Code.OK.name();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode().name();
    }
  }
}
