package dev.spillway.server.telemetry;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.spillway.server.testing.TestPki;
import dev.spillway.server.tls.PemFiles;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Metadata;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;

/**
 * A real OTLP metrics receiver on loopback with mTLS (client certificates required): gRPC
 * ({@code MetricsService/Export} on grpc-java with Netty) or HTTP ({@code POST /v1/metrics} on the
 * JDK's HTTPS server). Keeps every request and the subject of the client certificate it came with.
 */
final class OtlpMetricsReceiver implements AutoCloseable {
  record Received(ExportMetricsServiceRequest request, String clientSubject) {}

  private final List<Received> received;
  private final Server grpc;
  private final HttpsServer http;
  private final ExecutorService executor;

  private OtlpMetricsReceiver(List<Received> received, Server grpc, HttpsServer http, ExecutorService executor) {
    this.received = received;
    this.grpc = grpc;
    this.http = http;
    this.executor = executor;
  }

  static OtlpMetricsReceiver grpc(TestPki pki) throws Exception {
    var ssl = GrpcSslContexts.configure(
            SslContextBuilder.forServer(PemFiles.keyManagerFactory(pki.serverCert, pki.serverKey)), SslProvider.OPENSSL)
        .trustManager(PemFiles.trustManager(pki.ca))
        .clientAuth(ClientAuth.REQUIRE)
        .build();
    List<Received> sink = new CopyOnWriteArrayList<>();
    io.grpc.Context.Key<String> subjectKey = io.grpc.Context.key("subject");
    ServerInterceptor subject = new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
          ServerCallHandler<Q, A> next) {
        SSLSession s = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        String name;
        try {
          name = ((X509Certificate) s.getPeerCertificates()[0]).getSubjectX500Principal().getName();
        } catch (Exception e) {
          name = "none";
        }
        return io.grpc.Contexts.interceptCall(io.grpc.Context.current().withValue(subjectKey, name), call, headers, next);
      }
    };
    MetricsServiceGrpc.MetricsServiceImplBase service = new MetricsServiceGrpc.MetricsServiceImplBase() {
      @Override
      public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> out) {
        sink.add(new Received(request, subjectKey.get()));
        out.onNext(ExportMetricsServiceResponse.getDefaultInstance());
        out.onCompleted();
      }
    };
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(ssl)
        .addService(ServerInterceptors.intercept(service, subject))
        .build()
        .start();
    return new OtlpMetricsReceiver(sink, server, null, null);
  }

  static OtlpMetricsReceiver http(TestPki pki) throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(PemFiles.keyManagerFactory(pki.serverCert, pki.serverKey).getKeyManagers(),
        new TrustManager[] {PemFiles.trustManager(pki.ca)}, null);
    HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters p = getSSLContext().getDefaultSSLParameters();
        p.setNeedClientAuth(true);
        params.setSSLParameters(p);
      }
    });
    ExecutorService executor = Executors.newFixedThreadPool(2);
    List<Received> sink = new CopyOnWriteArrayList<>();
    server.createContext("/v1/metrics", exchange -> {
      try (exchange) {
        byte[] raw;
        try (InputStream in = exchange.getRequestBody()) {
          raw = in.readAllBytes();
        }
        if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
          try (InputStream g = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            raw = g.readAllBytes();
          }
        }
        String subject = ((X509Certificate) ((HttpsExchange) exchange).getSSLSession().getPeerCertificates()[0])
            .getSubjectX500Principal().getName();
        sink.add(new Received(ExportMetricsServiceRequest.parseFrom(raw), subject));
        byte[] ok = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
        exchange.getResponseBody().write(ok);
      }
    });
    server.setExecutor(executor);
    server.start();
    return new OtlpMetricsReceiver(sink, null, server, executor);
  }

  List<Received> requests() {
    return received;
  }

  int port() {
    return grpc != null ? grpc.getPort() : http.getAddress().getPort();
  }

  /** The value of the sum {@code name} in the latest request that has it. */
  Optional<Double> latestSum(String name) {
    List<Received> all = requests();
    for (int i = all.size() - 1; i >= 0; i--) {
      for (ResourceMetrics rm : all.get(i).request().getResourceMetricsList()) {
        for (ScopeMetrics sm : rm.getScopeMetricsList()) {
          for (Metric m : sm.getMetricsList()) {
            if (m.getName().equals(name) && m.hasSum()) {
              double total = 0;
              for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                total += p.hasAsDouble() ? p.getAsDouble() : p.getAsInt();
              }
              return Optional.of(total);
            }
          }
        }
      }
    }
    return Optional.empty();
  }

  /** The resource attributes of the latest request. */
  Map<String, String> latestResource() {
    List<Received> all = requests();
    Map<String, String> out = new java.util.HashMap<>();
    for (KeyValue kv : all.get(all.size() - 1).request().getResourceMetrics(0).getResource().getAttributesList()) {
      out.put(kv.getKey(), kv.getValue().getStringValue());
    }
    return out;
  }

  @Override
  public void close() throws Exception {
    if (grpc != null) {
      grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (http != null) {
      http.stop(0);
      executor.shutdownNow();
    }
  }
}
