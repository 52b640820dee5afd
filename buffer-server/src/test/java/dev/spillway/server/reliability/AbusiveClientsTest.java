package dev.spillway.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.testing.TestClients;
import dev.spillway.server.tls.PemFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Abusive but authenticated clients (they hold a valid client certificate) against the real daemon
 * in a child JVM with a 256 MiB heap: slow clients holding partial requests open (traces,
 * metrics and logs paths), hundreds of connections at once, deep JSON nesting (all three signals),
 * a request with a huge number of attributes. Each gets a
 * clear error or is held without harm; a well-behaved client of every signal is served while the abuse goes on; the
 * daemon stays up and its used heap (after a full GC, via jcmd) stays bounded.
 */
class AbusiveClientsTest {
  static final String HEAP = "-Xmx256m";
  @TempDir Path dir;
  Rig rig;
  DaemonProcess daemon;
  SSLContext tls;
  final List<Socket> sockets = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    rig = new Rig(dir);
    rig.durability = "memory-first";
    daemon = DaemonProcess.start(rig.writeConfig(), List.of(HEAP, "-XX:+UseSerialGC"), Duration.ofSeconds(60));
    tls = SSLContext.getInstance("TLS");
    tls.init(PemFiles.keyManagerFactory(rig.pki.clientCert, rig.pki.clientKey).getKeyManagers(),
        new TrustManager[] {PemFiles.trustManager(rig.pki.ca)}, null);
  }

  @AfterEach
  void stop() throws Exception {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException ignored) {
        // already cut off
      }
    }
    if (daemon != null) {
      daemon.close();
    }
  }

  SSLSocket connect() throws IOException {
    SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", rig.httpPort);
    s.setSoTimeout(30_000);
    s.startHandshake();
    sockets.add(s);
    return s;
  }

  /** Well-behaved OTLP/HTTP requests of each signal, each on its own connection: the worst status code. */
  int goodRequest() throws Exception {
    HttpClient http = TestClients.http(rig.pki.ca, rig.pki.clientCert, rig.pki.clientKey);
    int worst = 0;
    for (String[] r : new String[][] {{"/v1/traces", "t"}, {"/v1/metrics", "m"}, {"/v1/logs", "l"}}) {
      byte[] body = switch (r[1]) {
        case "t" -> SpanClient.request(7, 5, 50).toByteArray();
        case "m" -> SpanClient.metricsRequest(7, 5, 50).toByteArray();
        default -> SpanClient.logsRequest(7, 5, 50).toByteArray();
      };
      worst = Math.max(worst, http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + rig.httpPort + r[0]))
          .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(15))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
    }
    return worst;
  }

  long heapMib() throws Exception {
    return daemon.heapUsedKib(true) >> 10;
  }

  /**
   * Slow clients: each announces a 4 MB body and sends 3 MB of it, then stalls (a partial body
   * is what makes the receiver buffer). Heap held is measured; a good client must be served.
   */
  @Test
  void slowClients_partialBodiesHeldOpen_othersServed_heapMeasured() throws Exception {
    long before = heapMib();
    long rssBefore = daemon.rssKib() >> 10;
    int n = Integer.getInteger("spillway.abuse.slowClients", 40);
    byte[] chunk = new byte[64 << 10];
    String[] paths = {"/v1/traces", "/v1/metrics", "/v1/logs"};
    for (int i = 0; i < n; i++) {
      SSLSocket s = connect();
      OutputStream out = s.getOutputStream();
      out.write(("POST " + paths[i % 3] + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
          + "Content-Length: 4000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      for (int k = 0; k < 48; k++) { // 3 MiB of the announced 4 MB
        out.write(chunk);
      }
      out.flush();
    }
    assertThat(goodRequest()).as("a good client while %d partial bodies are held", n).isEqualTo(200);
    long during = heapMib();
    long rss = daemon.rssKib() >> 10;
    System.out.println("RELIABILITY abuse slow-clients n=" + n + " x 3 MiB partial bodies: heap after GC "
        + before + " MiB -> " + during + " MiB (max " + HEAP + "), rss " + rssBefore + " -> " + rss + " MiB, daemon alive=" + daemon.isAlive());
    assertThat(daemon.isAlive()).as(daemon.output()).isTrue();
    for (Socket s : sockets) {
      s.close();
    }
    sockets.clear();
    assertThat(goodRequest()).isEqualTo(200);
  }

  /** A client that sends part of its headers and then nothing is cut off by the read timeout. */
  @Test
  @EnabledIfSystemProperty(named = "spillway.abuse.long", matches = "true")
  void slowloris_partialHeaders_cutOffWithinTheReadTimeout() throws Exception {
    SSLSocket s = connect();
    s.setSoTimeout(120_000);
    s.getOutputStream().write("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    long t0 = System.nanoTime();
    int r = s.getInputStream().read(); // -1 when the daemon closes the connection
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    System.out.println("RELIABILITY abuse slowloris-idle cut off after " + seconds + " s (read returned " + r + ")");
    assertThat(seconds).isLessThanOrEqualTo(70);
  }

  /** Many connections at once (default 500, TLS done, idle): a good client is still served. */
  @Test
  void manyConnections_heldOpen_othersServed() throws Exception {
    int n = Integer.getInteger("spillway.abuse.connections", 500);
    long before = heapMib();
    int opened = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (int i = 0; i < n && System.nanoTime() < deadline; i++) {
      connect();
      opened++;
    }
    assertThat(goodRequest()).as("a good client while %d connections are held", opened).isEqualTo(200);
    long during = heapMib();
    System.out.println("RELIABILITY abuse connections n=" + opened + ": heap after GC " + before + " MiB -> "
        + during + " MiB, rss=" + (daemon.rssKib() >> 10) + " MiB");
    assertThat(opened).isEqualTo(n);
    assertThat(daemon.isAlive()).isTrue();
  }

  /** Deep JSON nesting and a huge attribute count: a clear 400 or a bounded accept, never a crash. */
  @Test
  void deepNestingAndHugeAttributeCount_clearAnswer_daemonUp() throws Exception {
    HttpClient http = TestClients.http(rig.pki.ca, rig.pki.clientCert, rig.pki.clientKey);
    String deep = "{\"resourceSpans\":" + "[".repeat(200_000) + "]".repeat(200_000) + "}";
    long t0 = System.nanoTime();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + rig.httpPort + "/v1/traces"))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(deep)).build(), HttpResponse.BodyHandlers.ofString());
    long deepMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(r.statusCode()).isEqualTo(400);
    for (String[] other : new String[][] {{"/v1/metrics", "resourceMetrics"}, {"/v1/logs", "resourceLogs"}}) {
      String deepOther = "{\"" + other[1] + "\":" + "[".repeat(200_000) + "]".repeat(200_000) + "}";
      assertThat(http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + rig.httpPort + other[0]))
          .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofString(deepOther)).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .as(other[0]).isEqualTo(400);
    }

    // ~3.9 MB: one span with as many tiny attributes as fit under the 4 MiB limit
    var span = io.opentelemetry.proto.trace.v1.Span.newBuilder()
        .setTraceId(com.google.protobuf.ByteString.copyFrom(SpanClient.TRACE_ID))
        .setSpanId(com.google.protobuf.ByteString.copyFrom(new byte[] {0, 0, 0, 0, 0, 0, 0, 1}));
    var kv = io.opentelemetry.proto.common.v1.KeyValue.newBuilder().setKey("k")
        .setValue(io.opentelemetry.proto.common.v1.AnyValue.newBuilder().setIntValue(1)).build();
    int attrs = 0;
    while (attrs < 1_000_000 && span.build().getSerializedSize() + 120_000 < (4 << 20)) {
      for (int i = 0; i < 10_000; i++) {
        span.addAttributes(kv);
      }
      attrs += 10_000;
    }
    byte[] body = io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(io.opentelemetry.proto.trace.v1.ResourceSpans.newBuilder()
            .addScopeSpans(io.opentelemetry.proto.trace.v1.ScopeSpans.newBuilder().addSpans(span))).build().toByteArray();
    int ok = 0;
    t0 = System.nanoTime();
    for (int i = 0; i < 8; i++) { // eight in a row: the memory tier fills and spills, nothing breaks
      int code = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + rig.httpPort + "/v1/traces"))
          .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
      assertThat(code).isIn(200, 413, 503);
      ok += code == 200 ? 1 : 0;
    }
    long attrMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(goodRequest()).isEqualTo(200);
    long heap = heapMib();
    System.out.println("RELIABILITY abuse deep-json 200000 levels -> 400 in " + deepMillis + " ms; " + attrs
        + " attributes in one span (" + (body.length >> 10) + " KiB) x8 -> " + ok + " accepted in " + attrMillis
        + " ms; heap after GC " + heap + " MiB; alive=" + daemon.isAlive());
    assertThat(daemon.isAlive()).isTrue();
  }

  static void drain(InputStream in) throws IOException {
    in.readAllBytes();
  }
}
