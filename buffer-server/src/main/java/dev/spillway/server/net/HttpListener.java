package dev.spillway.server.net;

import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.tls.ServerTlsContext;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A Netty HTTP/1.1 listener, TLS first when a context is given. The handler pipeline after the
 * codec comes from {@code handlers}; handlers run on a small executor group, not the I/O threads,
 * because offering to the buffer may wait briefly on the disk.
 *
 * <p>What protects it, in pipeline order: a {@link ConnectionGate} (connections in their TLS
 * handshake and admitted ones are bounded separately; the handshake has a deadline); a {@link
 * RequestClock} (a request must arrive whole, headers and body, within the request deadline from
 * its first byte, else 408 and close; a connection with no request in progress is closed after the
 * same time of silence, as Go's {@code net/http} does when {@code IdleTimeout} is unset); and a
 * {@link FramingCheck} (ambiguous message framing is 400 and close, never guessed at).
 */
public final class HttpListener implements AutoCloseable {
  /**
   * @param requestDeadline a request must arrive whole within this long from its first byte,
   *     however slowly its bytes trickle in; otherwise 408 and the connection is closed (slowloris).
   *     Also how long an idle connection is kept.
   * @param maxConnections connections one listener holds at once past their handshake; as many
   *     again may be in their handshake (see {@link ConnectionGate})
   */
  public record Limits(java.time.Duration requestDeadline, int maxConnections) {
    /** The receiver's defaults, and the metrics listener's. */
    public static final Limits DEFAULT = new Limits(
        ServerConfig.Receiver.DEFAULT_READ_TIMEOUT, ServerConfig.Receiver.DEFAULT_MAX_CONNECTIONS);
  }

  private final Channel channel;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final EventExecutorGroup handlerThreads;

  private HttpListener(Channel channel, EventLoopGroup boss, EventLoopGroup workers, EventExecutorGroup handlerThreads) {
    this.channel = channel;
    this.boss = boss;
    this.workers = workers;
    this.handlerThreads = handlerThreads;
  }

  /** As {@link #bind(String, String, InetSocketAddress, Optional, Limits, ServerMetrics, int, Supplier)}
   * with the name as the metrics' transport label. */
  public static HttpListener bind(String name, InetSocketAddress address, Optional<ServerTlsContext> tls,
      Limits limits, ServerMetrics metrics, int handlerThreadCount, Supplier<ChannelHandler[]> handlers)
      throws IOException {
    return bind(name, name, address, tls, limits, metrics, handlerThreadCount, handlers);
  }

  /**
   * @param name the listener's name in errors and in the TLS handshake metrics
   * @param transport the {@code transport} label of its connection outcomes, the same its
   *     handlers use for their request outcomes
   * @param limits request deadline and connection cap
   * @param handlers called once per connection; returns the handlers after the HTTP codec
   */
  public static HttpListener bind(String name, String transport, InetSocketAddress address,
      Optional<ServerTlsContext> tls, Limits limits, ServerMetrics metrics, int handlerThreadCount,
      Supplier<ChannelHandler[]> handlers) throws IOException {
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    EventExecutorGroup handlerThreads = new DefaultEventExecutorGroup(handlerThreadCount);
    long deadlineMillis = limits.requestDeadline().toMillis();
    ConnectionGate gate = new ConnectionGate(transport, limits.maxConnections(), limits.maxConnections(),
        ConnectionGate.HANDSHAKE_DEADLINE, metrics);
    HttpDecoderConfig decoding = new HttpDecoderConfig()
        .setMaxInitialLineLength(4096).setMaxHeaderSize(16 << 10).setMaxChunkSize(64 << 10)
        .setUseRfc9112TransferEncoding(true); // Content-Length beside Transfer-Encoding is an error
    ServerBootstrap b = new ServerBootstrap()
        .group(boss, workers)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 256)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (tls.isPresent()) {
              gate.handshakeStarted(ch);
              SslHandler ssl = tls.get().newHandler(ch.alloc());
              ssl.setHandshakeTimeout(ConnectionGate.HANDSHAKE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
              ch.pipeline().addLast("tls", ssl);
              ch.pipeline().addLast(new HandshakeOutcome(name, metrics, gate));
            } else if (!gate.admit(ch)) {
              return;
            }
            RequestClock clock = new RequestClock(deadlineMillis, tls.isEmpty());
            ch.pipeline().addLast(clock.bytes());
            ch.pipeline().addLast(new HttpServerCodec(decoding));
            ch.pipeline().addLast(clock.messages());
            ch.pipeline().addLast(new FramingCheck(transport, metrics));
            for (ChannelHandler h : handlers.get()) {
              ch.pipeline().addLast(handlerThreads, h.getClass().getSimpleName(), h);
            }
          }
        });
    try {
      Channel ch = b.bind(address).sync().channel();
      return new HttpListener(ch, boss, workers, handlerThreads);
    } catch (Exception e) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      handlerThreads.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException(name + ": cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** Stops accepting new connections; open ones finish. */
  public void stopAccepting() {
    channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    stopAccepting();
    boss.shutdownGracefully(0, 2000, TimeUnit.MILLISECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    workers.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    handlerThreads.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }

  /** Counts failed handshakes by reason and tells the gate; the SslHandler has sent the alert. */
  static final class HandshakeOutcome extends ChannelInboundHandlerAdapter {
    private final String name;
    private final ServerMetrics metrics;
    private final ConnectionGate gate;

    HandshakeOutcome(String name, ServerMetrics metrics, ConnectionGate gate) {
      this.name = name;
      this.metrics = metrics;
      this.gate = gate;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        if (!e.isSuccess()) {
          metrics.tlsHandshakeFailure(name, HandshakeFailures.reason(e.cause()));
        }
        gate.handshakeFinished(ctx.channel(), e.isSuccess());
        ctx.pipeline().remove(this);
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Handshake errors arrive here too; the event above counts them. Never log the bytes.
      ctx.close();
    }
  }
}
