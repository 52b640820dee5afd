package dev.spillway.server.receive;

import com.google.rpc.Code;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.net.ConnectionGate;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.tls.ServerTlsContext;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OTLP/gRPC {@code TraceService/Export}, {@code MetricsService/Export} and {@code
 * LogsService/Export} on grpc-java's Netty transport with BoringSSL, one listener for all three.
 * The request is never decoded into objects: a byte-array marshaller keeps it as sent, {@link
 * OtlpWire} validates and counts it. gzip and identity; size limit after decompression
 * (RESOURCE_EXHAUSTED, by grpc-java); over a count or depth limit → RESOURCE_EXHAUSTED; undecodable
 * or not UTF-8 → INVALID_ARGUMENT; buffer full → UNAVAILABLE with RetryInfo. A signal turned off in
 * the configuration, and any other service or method, get UNIMPLEMENTED with a message, counted,
 * without the request being read.
 */
public final class OtlpGrpcReceiver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OtlpGrpcReceiver.class);
  /** The {@code transport} label of this receiver's request outcomes. */
  public static final String TRANSPORT = "grpc";

  private final Server server;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService executor;

  private OtlpGrpcReceiver(Server server, EventLoopGroup boss, EventLoopGroup workers, ExecutorService executor) {
    this.server = server;
    this.boss = boss;
    this.workers = workers;
    this.executor = executor;
  }

  /** Binds and starts. {@code tls} is empty only in the development insecure mode. */
  @SuppressWarnings("deprecation") // NioEventLoopGroup: grpc-netty 1.85 still takes these
  public static OtlpGrpcReceiver start(
      ServerConfig.Receiver config, Optional<ServerTlsContext> tls, OtlpIngest ingest, ServerMetrics metrics)
      throws IOException {
    List<ServerServiceDefinition> services = new ArrayList<>();
    for (OtlpWire.Signal signal : OtlpWire.Signal.values()) {
      MethodDescriptor<byte[], byte[]> method = OtlpServices.export(signal);
      ServerCallHandler<byte[], byte[]> handler = ingest.serves(signal)
          ? ServerCalls.asyncUnaryCall((byte[] body, StreamObserver<byte[]> out) ->
              export(signal, body, out, ingest, metrics, OtlpWire.Limits.DEFAULT))
          : unimplemented(() -> metrics.request(TRANSPORT, signal, "signal_off"), ingest.turnedOff(signal));
      services.add(ServerServiceDefinition.builder(OtlpServices.grpcService(signal)).addMethod(method, handler).build());
    }
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
            .fallbackHandlerRegistry(new UnknownMethods(metrics));
    services.forEach(b::addService);
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
    return new OtlpGrpcReceiver(server, boss, workers, executor);
  }

  private static void export(OtlpWire.Signal signal, byte[] body, StreamObserver<byte[]> out,
      OtlpIngest ingest, ServerMetrics metrics, OtlpWire.Limits limits) {
    if (body == ByteMarshaller.TOO_LARGE) {
      metrics.request(TRANSPORT, signal, "too_large");
      out.onError(StatusProto.toStatusRuntimeException(
          RpcStatus.of(Code.RESOURCE_EXHAUSTED, "the decompressed request exceeds the size limit")));
      return;
    }
    long items;
    try {
      items = OtlpWire.scan(signal, body, limits).items();
    } catch (OtlpWire.Refused e) {
      boolean overLimit = e.reason().overLimit();
      metrics.request(TRANSPORT, signal, overLimit ? "too_large" : "bad_request");
      out.onError(StatusProto.toStatusRuntimeException(
          RpcStatus.of(overLimit ? Code.RESOURCE_EXHAUSTED : Code.INVALID_ARGUMENT, e.getMessage())));
      return;
    }
    if (!ingest.accept(signal, body, items)) {
      metrics.request(TRANSPORT, signal, "refused");
      out.onError(StatusProto.toStatusRuntimeException(
          RpcStatus.unavailable("the buffer cannot take data now (full, or no data key yet); retry later", OtlpIngest.RETRY_AFTER)));
      return;
    }
    metrics.request(TRANSPORT, signal, "ok");
    out.onNext(EMPTY_RESPONSE); // every signal's full success: an empty message
    out.onCompleted();
  }

  private static final byte[] EMPTY_RESPONSE = new byte[0];

  /**
   * Answers UNIMPLEMENTED at once, before reading the request, and counts it: for a signal turned
   * off ({@code signal_off}) and for every other method ({@code unimplemented}, as HTTP counts 404).
   */
  private static ServerCallHandler<byte[], byte[]> unimplemented(Runnable count, String message) {
    return new ServerCallHandler<>() {
      @Override
      public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> call, Metadata headers) {
        count.run();
        call.close(Status.UNIMPLEMENTED.withDescription(message), new Metadata());
        return new ServerCall.Listener<>() {};
      }
    };
  }

  /** Every method not registered: UNIMPLEMENTED, counted, as grpc-java would answer but visible in metrics. */
  private static final class UnknownMethods extends HandlerRegistry {
    private final ServerMetrics metrics;

    UnknownMethods(ServerMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
      MethodDescriptor<byte[], byte[]> m = MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNKNOWN)
          .setFullMethodName(methodName)
          .setRequestMarshaller(ByteMarshaller.INSTANCE)
          .setResponseMarshaller(ByteMarshaller.INSTANCE)
          .build();
      // The name is the client's: not echoed (it may be anything), only the services that exist.
      return ServerMethodDefinition.create(m, unimplemented(() -> metrics.request(TRANSPORT, "unimplemented"),
          "unknown service or method; this server implements OTLP's TraceService, MetricsService and LogsService Export"));
    }
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
