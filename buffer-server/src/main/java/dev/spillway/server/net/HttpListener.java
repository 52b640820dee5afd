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
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.ReadTimeoutHandler;
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
 */
public final class HttpListener implements AutoCloseable {
  /**
   * @param requestDeadline a request must arrive whole within this long from its first line,
   *     however slowly its bytes trickle in; otherwise 408 and the connection is closed (slowloris)
   * @param maxConnections connections one listener holds at once; more are closed on arrival
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

  /**
   * @param name the listener's name in metrics and errors
   * @param limits request deadline and connection cap
   * @param handlers called once per connection; returns the handlers after the HTTP codec
   */
  public static HttpListener bind(String name, InetSocketAddress address, Optional<ServerTlsContext> tls,
      Limits limits, ServerMetrics metrics, int handlerThreadCount, Supplier<ChannelHandler[]> handlers)
      throws IOException {
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    EventExecutorGroup handlerThreads = new DefaultEventExecutorGroup(handlerThreadCount);
    AtomicInteger open = new AtomicInteger();
    long deadlineMillis = limits.requestDeadline().toMillis();
    int maxConnections = limits.maxConnections();
    ServerBootstrap b = new ServerBootstrap()
        .group(boss, workers)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 256)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (open.incrementAndGet() > maxConnections) {
              open.decrementAndGet();
              metrics.request(name, "connection_refused_over_limit");
              ch.close();
              return;
            }
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            // A connection that sends nothing for a minute is closed; one that trickles a request
            // is cut off at the request deadline (slowloris).
            ch.pipeline().addLast(new ReadTimeoutHandler(60, TimeUnit.SECONDS));
            if (tls.isPresent()) {
              SslHandler ssl = tls.get().newHandler(ch.alloc());
              ssl.setHandshakeTimeout(10, TimeUnit.SECONDS);
              ch.pipeline().addLast("tls", ssl);
              ch.pipeline().addLast(new HandshakeOutcome(name, metrics));
            }
            ch.pipeline().addLast(new HttpServerCodec(4096, 16 << 10, 64 << 10));
            ch.pipeline().addLast(new RequestDeadline(deadlineMillis));
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

  /**
   * Answers 408 and closes the connection when a request has not arrived whole within the
   * deadline after its first line. Runs on the I/O thread, before the handlers.
   */
  static final class RequestDeadline extends ChannelInboundHandlerAdapter {
    private final long millis;
    private ScheduledFuture<?> timer;

    RequestDeadline(long millis) {
      this.millis = millis;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof HttpRequest && timer == null) {
        timer = ctx.executor().schedule(() -> cutOff(ctx), millis, TimeUnit.MILLISECONDS);
      }
      if (msg instanceof LastHttpContent) {
        cancel();
      }
      super.channelRead(ctx, msg);
    }

    private void cutOff(ChannelHandlerContext ctx) {
      timer = null;
      FullHttpResponse r = new DefaultFullHttpResponse(
          HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT, Unpooled.EMPTY_BUFFER);
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE).setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    private void cancel() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      cancel();
      super.channelInactive(ctx);
    }
  }

  /** Counts failed handshakes by reason; the SslHandler has already sent the alert and closes. */
  static final class HandshakeOutcome extends ChannelInboundHandlerAdapter {
    private final String name;
    private final ServerMetrics metrics;

    HandshakeOutcome(String name, ServerMetrics metrics) {
      this.name = name;
      this.metrics = metrics;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        if (!e.isSuccess()) {
          metrics.tlsHandshakeFailure(name, HandshakeFailures.reason(e.cause()));
          ctx.close();
        }
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
