package dev.spillway.server.export;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.receive.OtlpServices;
import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.tls.PemFiles;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * OTLP/gRPC to the downstream, over TLS (mTLS when a client certificate is configured): each
 * batch to its signal's service on one channel.
 */
public final class GrpcExporter implements OtlpExporter {
  /** Retryable per the OTLP specification; RESOURCE_EXHAUSTED only with RetryInfo. */
  private static final Set<Status.Code> RETRYABLE = EnumSet.of(
      Status.Code.CANCELLED, Status.Code.DEADLINE_EXCEEDED, Status.Code.ABORTED,
      Status.Code.OUT_OF_RANGE, Status.Code.UNAVAILABLE, Status.Code.DATA_LOSS);

  private final ManagedChannel managed;
  private final Channel channel;
  private final ServerConfig.Otlp config;

  private GrpcExporter(ManagedChannel managed, Channel channel, ServerConfig.Otlp config) {
    this.managed = managed;
    this.channel = channel;
    this.config = config;
  }

  static GrpcExporter create(ServerConfig.Otlp o) throws IOException {
    NettyChannelBuilder b = NettyChannelBuilder.forAddress(o.endpoint().getHost(), o.endpoint().getPort());
    if (o.endpoint().getScheme().equals("http")) {
      b.usePlaintext(); // development mode only; ConfigLoader enforces loopback
    } else {
      SslContextBuilder ssl = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.OPENSSL)
          .protocols("TLSv1.3", "TLSv1.2");
      if (o.tls().caFile().isPresent()) {
        ssl.trustManager(PemFiles.trustManager(o.tls().caFile().get()));
      }
      if (o.tls().certFile().isPresent()) {
        ssl.keyManager(PemFiles.keyManagerFactory(o.tls().certFile().get(), o.tls().keyFile().get()));
      }
      b.sslContext(ssl.build());
      o.tls().serverNameOverride().ifPresent(b::overrideAuthority);
    }
    b.maxInboundMessageSize(4 << 20);
    ManagedChannel managed = b.build();
    Channel channel = managed;
    if (!o.headers().isEmpty()) {
      Metadata md = new Metadata();
      for (Map.Entry<String, String> h : o.headers().entrySet()) {
        md.put(Metadata.Key.of(h.getKey().toLowerCase(java.util.Locale.ROOT), Metadata.ASCII_STRING_MARSHALLER), h.getValue());
      }
      channel = ClientInterceptors.intercept(managed, MetadataUtils.newAttachHeadersInterceptor(md));
    }
    return new GrpcExporter(managed, channel, o);
  }

  @Override
  public ExportResult export(OtlpWire.Signal signal, byte[] request) {
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
    if (config.gzip()) {
      options = options.withCompression("gzip");
    }
    try {
      byte[] r = ClientCalls.blockingUnaryCall(channel, OtlpServices.export(signal), options, request);
      try {
        return ExportResult.success(OtlpServices.rejected(signal, r));
      } catch (InvalidProtocolBufferException e) {
        return ExportResult.success(0); // accepted; an unreadable response cannot un-accept it
      }
    } catch (StatusRuntimeException e) {
      Status s = e.getStatus();
      if (s.getCode() == Status.Code.UNAVAILABLE) {
        // Our own backoff paces the attempts; grpc-java's reconnect backoff (up to 2 minutes)
        // would otherwise delay the first export after the downstream comes back.
        managed.resetConnectBackoff();
      }
      Optional<Duration> retryAfter = retryInfo(e);
      String reason = "grpc " + s.getCode() + (s.getDescription() == null ? "" : ": " + truncate(s.getDescription()));
      // "UNAVAILABLE: io exception" alone does not say why: add the TLS reason when there is one.
      reason += dev.spillway.server.tls.TlsFailureReason.of(e).map(r -> " (" + r + ")").orElse("");
      if (s.getCode() == Status.Code.INVALID_ARGUMENT) {
        return ExportResult.permanent(reason);
      }
      if (isMessageTooLarge(s) && retryAfter.isEmpty()) {
        return ExportResult.tooLarge(reason);
      }
      if (RETRYABLE.contains(s.getCode()) || retryAfter.isPresent()) {
        return ExportResult.retryable(reason, retryAfter);
      }
      // UNAUTHENTICATED, PERMISSION_DENIED, UNIMPLEMENTED, INTERNAL...: a downstream or credential
      // problem, not bad data. Dropping would lose data an operator can still fix: keep it.
      return ExportResult.retryable(reason, Optional.empty());
    }
  }

  /**
   * RESOURCE_EXHAUSTED without RetryInfo is not retryable (OTLP specification); when its message
   * is about a message size (grpc-java: "gRPC message exceeds maximum size", grpc-go: "received
   * message larger than max") smaller requests will pass. Any other RESOURCE_EXHAUSTED (a memory
   * limiter, a quota) stays retryable: dropping on it would lose data that waiting delivers.
   */
  static boolean isMessageTooLarge(Status s) {
    return s.getCode() == Status.Code.RESOURCE_EXHAUSTED
        && s.getDescription() != null
        && TOO_LARGE_MESSAGE.matcher(s.getDescription()).find();
  }

  private static final java.util.regex.Pattern TOO_LARGE_MESSAGE = java.util.regex.Pattern.compile(
      "(?i)(message|request|body).*(exceeds|larger than|too large|size)|too large");

  static Optional<Duration> retryInfo(Throwable e) {
    com.google.rpc.Status st = StatusProto.fromThrowable(e);
    if (st == null) {
      return Optional.empty();
    }
    for (Any a : st.getDetailsList()) {
      if (a.is(RetryInfo.class)) {
        try {
          com.google.protobuf.Duration d = a.unpack(RetryInfo.class).getRetryDelay();
          return Optional.of(Duration.ofSeconds(d.getSeconds(), d.getNanos()));
        } catch (InvalidProtocolBufferException ignored) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  static String truncate(String s) {
    // grpc-java appends the Netty pipeline ("\nChannel Pipeline: [SslHandler#0, ...]"): noise here.
    int pipeline = s.indexOf("\nChannel Pipeline:");
    if (pipeline >= 0) {
      s = s.substring(0, pipeline);
    }
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  @Override
  public void close() {
    managed.shutdown();
    try {
      if (!managed.awaitTermination(3, TimeUnit.SECONDS)) {
        managed.shutdownNow();
      }
    } catch (InterruptedException e) {
      managed.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
