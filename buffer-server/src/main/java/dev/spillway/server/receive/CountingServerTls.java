package dev.spillway.server.receive;

import dev.spillway.server.net.HandshakeFailures;
import dev.spillway.server.telemetry.ServerMetrics;
import io.grpc.ServerCredentials;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;

/**
 * grpc-java's own server TLS negotiation with one addition: failed handshakes are counted by reason
 * ({@code spillway_tls_handshake_failures_total{listener="grpc"}}), as the HTTP listener does.
 *
 * <p>grpc-java has no public hook for this; it uses its {@code Internal*} API (stable in practice,
 * marked internal): {@link InternalNettyServerCredentials} with a negotiator that wraps {@link
 * InternalProtocolNegotiators#serverTls}. The wrapper puts a listener right after grpc's TLS
 * handler. On a failed handshake grpc fires the cause down the pipeline; the listener counts it
 * once (only when the channel's {@link SslHandler} reports a failed handshake) and passes it on.
 */
final class CountingServerTls {
  static final String LISTENER = "grpc";

  private CountingServerTls() {}

  static ServerCredentials credentials(SslContext ssl, ServerMetrics metrics) {
    InternalProtocolNegotiator.ProtocolNegotiator tls = InternalProtocolNegotiators.serverTls(ssl);
    return InternalNettyServerCredentials.create(new InternalProtocolNegotiator.ProtocolNegotiator() {
      @Override
      public AsciiString scheme() {
        return tls.scheme();
      }

      @Override
      public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        return new Installer(tls.newHandler(grpcHandler), metrics);
      }

      @Override
      public void close() {
        tls.close();
      }
    });
  }

  /** Replaces itself by grpc's handler, followed by the {@link Outcome} listener. */
  private static final class Installer extends ChannelInboundHandlerAdapter {
    private final ChannelHandler grpcTls;
    private final ServerMetrics metrics;

    Installer(ChannelHandler grpcTls, ServerMetrics metrics) {
      this.grpcTls = grpcTls;
      this.metrics = metrics;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.pipeline().addAfter(ctx.name(), null, new Outcome(metrics));
      ctx.pipeline().replace(this, null, grpcTls);
    }
  }

  /** Counts a failed handshake once; everything passes through unchanged. */
  private static final class Outcome extends ChannelInboundHandlerAdapter {
    private final ServerMetrics metrics;
    private boolean counted;

    Outcome(ServerMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      if (!counted && ssl != null && ssl.handshakeFuture().isDone() && !ssl.handshakeFuture().isSuccess()) {
        counted = true;
        metrics.tlsHandshakeFailure(LISTENER, HandshakeFailures.reason(ssl.handshakeFuture().cause()));
      }
      ctx.fireExceptionCaught(cause);
    }
  }
}
