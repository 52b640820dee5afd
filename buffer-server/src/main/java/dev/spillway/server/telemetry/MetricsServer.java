package dev.spillway.server.telemetry;

import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.net.HttpListener;
import dev.spillway.server.tls.ServerTlsContext;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /metrics} (Prometheus text), {@code /healthz} (the process and its drain thread
 * live) and {@code /readyz} (listeners up, buffer open). Serves no payload. Loopback by default;
 * the configuration requires a tls block anywhere else.
 */
public final class MetricsServer implements AutoCloseable {
  private final HttpListener listener;

  private MetricsServer(HttpListener listener) {
    this.listener = listener;
  }

  public static MetricsServer start(ServerConfig.Metrics config, Optional<ServerTlsContext> tls,
      ServerMetrics metrics, BooleanSupplier healthy, BooleanSupplier ready) throws IOException {
    HttpListener l = HttpListener.bind("telemetry.metrics", config.endpoint().socketAddress(), tls,
        HttpListener.Limits.DEFAULT, metrics, 1,
        () -> new ChannelHandler[] {new HttpObjectAggregator(8192), new Handler(metrics, healthy, ready)});
    return new MetricsServer(l);
  }

  public int port() {
    return listener.port();
  }

  @Override
  public void close() {
    listener.close();
  }

  static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ServerMetrics metrics;
    private final BooleanSupplier healthy;
    private final BooleanSupplier ready;

    Handler(ServerMetrics metrics, BooleanSupplier healthy, BooleanSupplier ready) {
      this.metrics = metrics;
      this.healthy = healthy;
      this.ready = ready;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String path = new QueryStringDecoder(req.uri()).path();
      FullHttpResponse r;
      if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
        r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET\n", "text/plain");
        r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
      } else {
        r = switch (path) {
          case "/metrics" -> text(HttpResponseStatus.OK, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
          case "/healthz" -> healthy.getAsBoolean()
              ? text(HttpResponseStatus.OK, "ok\n", "text/plain")
              : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "unhealthy\n", "text/plain");
          case "/readyz" -> ready.getAsBoolean()
              ? text(HttpResponseStatus.OK, "ready\n", "text/plain")
              : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n", "text/plain");
          default -> text(HttpResponseStatus.NOT_FOUND, "not found\n", "text/plain");
        };
      }
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    private static FullHttpResponse text(HttpResponseStatus s, String body, String type) {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, s, Unpooled.wrappedBuffer(b));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
      r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
      return r;
    }
  }
}
