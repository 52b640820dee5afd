package dev.spillway.server.testing;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.spillway.server.tls.PemFiles;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;

/**
 * A downstream OTLP/HTTP receiver ({@code POST /v1/traces}, {@code /v1/metrics}, {@code
 * /v1/logs}; protobuf, gzip) on the JDK's HTTPS
 * server, requiring a client certificate from {@code clientCa}. Records span ids, request headers
 * and the client certificate's subject. {@link #respond} decides each answer (default 200).
 */
public final class HttpDownstream implements AutoCloseable {
  /** One answer: status, headers, body. */
  public record Answer(int status, Map<String, String> headers, byte[] body) {
    public static Answer ok(long rejectedItems) {
      ExportTraceServiceResponse.Builder b = ExportTraceServiceResponse.newBuilder();
      if (rejectedItems > 0) {
        b.getPartialSuccessBuilder().setRejectedSpans(rejectedItems).setErrorMessage("some were bad");
      }
      return new Answer(200, Map.of("Content-Type", "application/x-protobuf"), b.build().toByteArray());
    }
  }

  /** What one request carried. */
  public record Received(Map<String, List<String>> headers, String clientSubject, int spans) {}

  public final Set<String> spanIds = ConcurrentHashMap.newKeySet();
  public final List<Received> requests = new CopyOnWriteArrayList<>();
  private final HttpsServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(2);
  private final Object arrived = new Object();
  private volatile Function<Integer, Answer> respond = n -> Answer.ok(0);
  private volatile long maxBodyBytes = Long.MAX_VALUE;

  public HttpDownstream(Path serverCert, Path serverKey, Path clientCa) throws Exception {
    this(serverCert, serverKey, clientCa, 0);
  }

  /** On a given loopback port (0 = ephemeral). */
  public HttpDownstream(Path serverCert, Path serverKey, Path clientCa, int port) throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(PemFiles.keyManagerFactory(serverCert, serverKey).getKeyManagers(),
        new TrustManager[] {PemFiles.trustManager(clientCa)}, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters p = getSSLContext().getDefaultSSLParameters();
        p.setNeedClientAuth(true);
        params.setSSLParameters(p);
      }
    });
    server.createContext("/v1/traces", exchange -> {
      try (exchange) {
        byte[] raw;
        try (InputStream in = exchange.getRequestBody()) {
          raw = in.readAllBytes();
        }
        if (raw.length > maxBodyBytes) {
          // As a collector with max_request_body_size: the request is refused as too large.
          bodiesTooLarge.incrementAndGet();
          exchange.sendResponseHeaders(413, -1);
          return;
        }
        if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
          try (InputStream g = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
            raw = g.readAllBytes();
          }
        }
        ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(raw);
        int n = 0;
        for (ResourceSpans rs : req.getResourceSpansList()) {
          for (ScopeSpans ss : rs.getScopeSpansList()) {
            n += ss.getSpansCount();
          }
        }
        String subject = ((X509Certificate) ((HttpsExchange) exchange).getSSLSession().getPeerCertificates()[0])
            .getSubjectX500Principal().getName();
        requests.add(new Received(Map.copyOf(exchange.getRequestHeaders()), subject, n));
        Answer a = respond.apply(requests.size());
        if (a.status() == 200) {
          for (ResourceSpans rs : req.getResourceSpansList()) {
            for (ScopeSpans ss : rs.getScopeSpansList()) {
              for (Span s : ss.getSpansList()) {
                spanIds.add(HexFormat.of().formatHex(s.getSpanId().toByteArray()));
              }
            }
          }
        }
        a.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        exchange.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
        exchange.getResponseBody().write(a.body());
        synchronized (arrived) {
          arrived.notifyAll();
        }
      }
    });
    server.createContext("/v1/metrics", exchange -> signal(exchange, raw -> signals.record(
        io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.parseFrom(raw))));
    server.createContext("/v1/logs", exchange -> signal(exchange, raw -> signals.record(
        io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(raw))));
    server.setExecutor(executor);
    server.start();
  }

  /** Metric data points and log records accepted on /v1/metrics and /v1/logs. */
  public final SignalRecorder signals = new SignalRecorder();

  private interface BodyConsumer {
    void accept(byte[] body) throws java.io.IOException;
  }

  /** /v1/metrics and /v1/logs: gunzip, record, 200 with an empty response (no partial success). */
  private void signal(com.sun.net.httpserver.HttpExchange exchange, BodyConsumer record) throws java.io.IOException {
    try (exchange) {
      byte[] raw;
      try (InputStream in = exchange.getRequestBody()) {
        raw = in.readAllBytes();
      }
      if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
        try (InputStream g = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
          raw = g.readAllBytes();
        }
      }
      record.accept(raw);
      exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      exchange.sendResponseHeaders(200, -1);
    }
  }

  /** Requests whose body was over {@link #maxBodyBytes(long)}, answered 413. */
  public final java.util.concurrent.atomic.AtomicInteger bodiesTooLarge = new java.util.concurrent.atomic.AtomicInteger();

  /** Answers 413 to bodies larger than {@code limit} (as received, before gunzip). */
  public void maxBodyBytes(long limit) {
    this.maxBodyBytes = limit;
  }

  /** Decides the answer to the n-th request (1-based). */
  public void respond(Function<Integer, Answer> f) {
    this.respond = f;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Waits until at least {@code n} distinct spans were accepted; false after {@code timeout}. */
  public boolean awaitSpans(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (arrived) {
      while (spanIds.size() < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(arrived, left);
      }
    }
    return true;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
