package dev.spillway.server.receive;

import com.google.rpc.Code;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.net.ConnectionGate;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.tls.ServerTlsContext;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OTLP/gRPC {@code opentelemetry.proto.collector.trace.v1.TraceService/Export} on grpc-java's
 * Netty transport with BoringSSL. The request is never decoded into objects: a byte-array
 * marshaller keeps it as sent, {@link OtlpWire} validates and counts it. gzip and identity; size
 * limit after decompression (RESOURCE_EXHAUSTED, by grpc-java); over a count or depth limit →
 * RESOURCE_EXHAUSTED; undecodable or not UTF-8 → INVALID_ARGUMENT; buffer full → UNAVAILABLE with
 * RetryInfo.
 */
public final class GrpcTraceReceiver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GrpcTraceReceiver.class);
  /** The {@code transport} label of this receiver's request outcomes. */
  public static final String TRANSPORT = "grpc";

  private final Server server;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService executor;

  private GrpcTraceReceiver(Server server, EventLoopGroup boss, EventLoopGroup workers, ExecutorService executor) {
    this.server = server;
    this.boss = boss;
    this.workers = workers;
    this.executor = executor;
  }

  /** Binds and starts. {@code tls} is empty only in the development insecure mode. */
  @SuppressWarnings("deprecation") // NioEventLoopGroup: grpc-netty 1.85 still takes these
  public static GrpcTraceReceiver start(
      ServerConfig.Receiver config, Optional<ServerTlsContext> tls, TraceIngest ingest, ServerMetrics metrics)
      throws IOException {
    MethodDescriptor<byte[], ExportTraceServiceResponse> method =
        TraceServiceGrpc.getExportMethod().toBuilder(ByteMarshaller.INSTANCE,
            TraceServiceGrpc.getExportMethod().getResponseMarshaller()).build();
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(TraceServiceGrpc.SERVICE_NAME)
            .addMethod(method, ServerCalls.asyncUnaryCall(
                (byte[] body, StreamObserver<ExportTraceServiceResponse> out) -> export(body, out, ingest, metrics, OtlpWire.Limits.DEFAULT)))
            .build();
    EventLoopGroup boss = new NioEventLoopGroup(1);
    EventLoopGroup workers = new NioEventLoopGroup(2);
    ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "spillway-grpc-receiver");
      t.setDaemon(true);
      return t;
    });
    InetSocketAddress address = new InetSocketAddress(config.endpoint().host(), config.endpoint().port());
    // With TLS, grpc's own negotiation wrapped so failed handshakes are counted by reason.
    NettyServerBuilder b = (tls.isPresent()
            ? NettyServerBuilder.forAddress(address, CountingServerTls.credentials(tls.get(), metrics,
                new ConnectionGate(TRANSPORT, config.maxConnections(), config.maxConnections(),
                    ConnectionGate.HANDSHAKE_DEADLINE, metrics)))
            : NettyServerBuilder.forAddress(address))
            .channelType(NioServerSocketChannel.class)
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .executor(executor)
            .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, config.maxRequestBytes()))
            .maxInboundMetadataSize(64 << 10)
            .maxConcurrentCallsPerConnection(64)
            // grpc's own deadline (default 120 s) as a second line behind the gate's
            .handshakeTimeout(ConnectionGate.HANDSHAKE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
            .addService(service);
    Server server = b.build();
    try {
      server.start();
    } catch (IOException e) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      executor.shutdownNow();
      throw new IOException("receivers.otlp.protocols.grpc: cannot listen on " + config.endpoint() + ": " + e.getMessage(), e);
    }
    LOG.info("OTLP/gRPC receiver listening on {} ({})", server.getListenSockets(),
        tls.isPresent() ? "TLS" : "PLAINTEXT, development mode");
    return new GrpcTraceReceiver(server, boss, workers, executor);
  }

  private static void export(byte[] body, StreamObserver<ExportTraceServiceResponse> out,
      TraceIngest ingest, ServerMetrics metrics, OtlpWire.Limits limits) {
    if (body == ByteMarshaller.TOO_LARGE) {
      metrics.request(TRANSPORT, "too_large");
      out.onError(StatusProto.toStatusRuntimeException(
          RpcStatus.of(Code.RESOURCE_EXHAUSTED, "the decompressed request exceeds the size limit")));
      return;
    }
    long spans;
    try {
      spans = OtlpWire.scan(OtlpWire.Signal.TRACES, body, limits).items();
    } catch (OtlpWire.Refused e) {
      boolean overLimit = e.reason().overLimit();
      metrics.request(TRANSPORT, overLimit ? "too_large" : "bad_request");
      out.onError(StatusProto.toStatusRuntimeException(
          RpcStatus.of(overLimit ? Code.RESOURCE_EXHAUSTED : Code.INVALID_ARGUMENT, e.getMessage())));
      return;
    }
    if (!ingest.accept(body, spans)) {
      metrics.request(TRANSPORT, "refused");
      out.onError(StatusProto.toStatusRuntimeException(
          RpcStatus.unavailable("the buffer cannot take data now (full, or no data key yet); retry later", TraceIngest.RETRY_AFTER)));
      return;
    }
    metrics.request(TRANSPORT, "ok");
    out.onNext(ExportTraceServiceResponse.getDefaultInstance());
    out.onCompleted();
  }

  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** Stops accepting; lets running calls finish for a moment. */
  public void shutdown() {
    server.shutdown();
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    executor.shutdownNow();
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
