package dev.spillway.server.receive;

import dev.spillway.server.net.ConnectionGate;
import dev.spillway.server.net.HandshakeFailures;
import dev.spillway.server.telemetry.ServerMetrics;
import io.grpc.ServerCredentials;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;

/**
 * grpc-java's own server TLS negotiation with two additions: failed handshakes are counted by
 * reason ({@code spillway_tls_handshake_failures_total{listener="grpc"}}), as the HTTP listener
 * does; and connections go through a {@link ConnectionGate} (handshaking and admitted connections
 * bounded apart, a handshake deadline), as on the HTTP listener.
 *
 * <p>grpc-java has no public hook for this; it uses its {@code Internal*} API (stable in practice,
 * marked internal): {@link InternalNettyServerCredentials} with a negotiator that wraps {@link
 * InternalProtocolNegotiators#serverTls}. The wrapper puts a listener right after grpc's TLS
 * handler. On a failed handshake grpc fires the cause down the pipeline; the listener counts it
 * once (only when the channel's {@link SslHandler} reports a failed handshake) and passes it on.
 */
final class CountingServerTls {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CountingServerTls.class);
  static final String LISTENER = "grpc";

  private CountingServerTls() {}

  static ServerCredentials credentials(SslContext ssl, ServerMetrics metrics, ConnectionGate gate) {
    InternalProtocolNegotiator.ProtocolNegotiator tls = InternalProtocolNegotiators.serverTls(ssl);
    return InternalNettyServerCredentials.create(new InternalProtocolNegotiator.ProtocolNegotiator() {
      @Override
      public AsciiString scheme() {
        return tls.scheme();
      }

      @Override
      public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        return new Installer(tls.newHandler(grpcHandler), metrics, gate);
      }

      @Override
      public void close() {
        tls.close();
      }
    });
  }

  /**
   * Replaces itself by grpc's handler, followed by the {@link Outcome} listener, and puts the
   * connection through the {@link ConnectionGate}: handshaking until grpc's {@link SslHandler}
   * (which grpc's handler adds in front of itself) reports the handshake done.
   */
  private static final class Installer extends ChannelInboundHandlerAdapter {
    private final ChannelHandler grpcTls;
    private final ServerMetrics metrics;
    private final ConnectionGate gate;

    Installer(ChannelHandler grpcTls, ServerMetrics metrics, ConnectionGate gate) {
      this.grpcTls = grpcTls;
      this.metrics = metrics;
      this.gate = gate;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      gate.handshakeStarted(ctx.channel());
      Outcome outcome = new Outcome(metrics, gate);
      ChannelPipeline p = ctx.pipeline();
      p.addAfter(ctx.name(), null, outcome);
      p.replace(this, null, grpcTls);
      outcome.watchHandshake(p); // grpc adds its SslHandler now if the channel is active, else on activation
    }
  }

  /**
   * Counts a failed handshake once, and tells the gate when the handshake ends; everything passes
   * through unchanged.
   */
  private static final class Outcome extends ChannelInboundHandlerAdapter {
    private final ServerMetrics metrics;
    private final ConnectionGate gate;
    private boolean counted;
    private boolean watching;

    Outcome(ServerMetrics metrics, ConnectionGate gate) {
      this.metrics = metrics;
      this.gate = gate;
    }

    /** Follows grpc's SslHandler's handshake, once it is in the pipeline. */
    void watchHandshake(ChannelPipeline p) {
      SslHandler ssl = p.get(SslHandler.class);
      if (ssl == null || watching) {
        return;
      }
      watching = true;
      Channel ch = p.channel();
      ssl.handshakeFuture().addListener(f -> gate.handshakeFinished(ch, f.isSuccess()));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      watchHandshake(ctx.pipeline());
      if (!watching) {
        // grpc-java changed how it installs TLS: fail closed rather than admit uncounted.
        LOG.error("grpc-java's TLS negotiation added no SslHandler; closing the connection");
        ctx.close();
        return;
      }
      super.channelActive(ctx);
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
