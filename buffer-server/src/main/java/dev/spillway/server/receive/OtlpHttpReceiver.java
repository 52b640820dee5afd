package dev.spillway.server.receive;

import com.google.protobuf.Message;
import com.google.rpc.Code;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.net.HttpListener;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.tls.ServerTlsContext;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * OTLP/HTTP {@code POST /v1/traces}, {@code /v1/metrics} and {@code /v1/logs} on Netty's HTTP
 * codec: protobuf and JSON, gzip, the response in the request's content type, every error a
 * {@code google.rpc.Status}. A protobuf body is kept as it came and validated and counted by
 * {@link OtlpWire}; a JSON body is converted to protobuf once, by streaming ({@link OtlpJson}).
 * Wrong path, or a signal turned off in the configuration, 404 (the Status names the signal and
 * the key that turns it on); wrong method 405, wrong media type or encoding 415, undecodable or
 * not UTF-8 400, too large (after decompression) or over a count or depth limit 413, buffer full
 * 503 with {@code Retry-After}.
 */
public final class OtlpHttpReceiver implements AutoCloseable {
  /** The {@code transport} label of this receiver's outcomes, the listener's included. */
  public static final String TRANSPORT = "http";
  static final String PROTOBUF = "application/x-protobuf";
  static final String JSON = "application/json";

  private final HttpListener listener;

  private OtlpHttpReceiver(HttpListener listener) {
    this.listener = listener;
  }

  public static OtlpHttpReceiver start(ServerConfig.Receiver config, Optional<ServerTlsContext> tls,
      OtlpIngest ingest, ServerMetrics metrics) throws IOException {
    long limit = config.maxRequestBytes();
    HttpListener l = HttpListener.bind("receivers.otlp.protocols.http", TRANSPORT, config.endpoint().socketAddress(), tls,
        new HttpListener.Limits(config.readTimeout(), config.maxConnections()), metrics, 4, () -> new ChannelHandler[] {
          new LimitedAggregator((int) Math.min(Integer.MAX_VALUE - 1, limit), metrics),
          new ExportHandler(ingest, metrics, limit)
        });
    org.slf4j.LoggerFactory.getLogger(OtlpHttpReceiver.class).info(
        "OTLP/HTTP receiver listening on {}:{} ({})", config.endpoint().host(), l.port(),
        tls.isPresent() ? "TLS" : "PLAINTEXT, development mode");
    return new OtlpHttpReceiver(l);
  }

  public int port() {
    return listener.port();
  }

  public void stopAccepting() {
    listener.stopAccepting();
  }

  @Override
  public void close() {
    listener.close();
  }

  /** The media type of the request, without parameters, lower case; "" if absent. */
  static String mediaType(HttpMessage m) {
    String ct = m.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    int semi = ct.indexOf(';');
    return (semi >= 0 ? ct.substring(0, semi) : ct).trim().toLowerCase(Locale.ROOT);
  }

  static FullHttpResponse status(HttpResponseStatus http, String mediaType, com.google.rpc.Status status) {
    return respond(http, mediaType, status);
  }

  static FullHttpResponse respond(HttpResponseStatus http, String mediaType, Message body) {
    boolean json = JSON.equals(mediaType);
    byte[] bytes = json ? OtlpJson.print(body).getBytes(StandardCharsets.UTF_8) : body.toByteArray();
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, http, Unpooled.wrappedBuffer(bytes));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, json ? JSON : PROTOBUF);
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    return r;
  }

  /**
   * Aggregates the body up to the limit. A larger body gets 413 with a Status at once; the rest of
   * the body is read and discarded (up to {@value #DISCARD_BUDGET} bytes, so clients that write
   * the whole body before reading see the answer), then the connection closes.
   */
  static final class LimitedAggregator extends HttpObjectAggregator {
    static final long DISCARD_BUDGET = 64L << 20;
    private final ServerMetrics metrics;
    private boolean discarding;
    private long discarded;

    LimitedAggregator(int maxContentLength, ServerMetrics metrics) {
      super(maxContentLength, true);
      this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (discarding && msg instanceof HttpContent content) {
        discarded += content.content().readableBytes();
        boolean last = msg instanceof LastHttpContent;
        content.release();
        if (last || discarded > DISCARD_BUDGET) {
          ctx.close();
        }
        return;
      }
      super.channelRead(ctx, msg);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      OtlpWire.Signal signal = oversized instanceof io.netty.handler.codec.http.HttpRequest req
          ? OtlpServices.ofHttpPath(new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).path()) : null;
      if (signal == null) {
        metrics.request(TRANSPORT, "too_large");
      } else {
        metrics.request(TRANSPORT, signal, "too_large");
      }
      FullHttpResponse r = status(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, mediaType(oversized),
          RpcStatus.of(Code.RESOURCE_EXHAUSTED, "the request body exceeds the size limit"));
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(r);
      if (oversized instanceof FullHttpRequest || oversized instanceof LastHttpContent) {
        ctx.close();
      } else {
        discarding = true;
      }
    }
  }

  static final class ExportHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final OtlpIngest ingest;
    private final ServerMetrics metrics;
    private final long limit;
    private final OtlpWire.Limits limits;

    ExportHandler(OtlpIngest ingest, ServerMetrics metrics, long limit) {
      this(ingest, metrics, limit, OtlpWire.Limits.DEFAULT);
    }

    ExportHandler(OtlpIngest ingest, ServerMetrics metrics, long limit, OtlpWire.Limits limits) {
      this.ingest = ingest;
      this.metrics = metrics;
      this.limit = limit;
      this.limits = limits;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      FullHttpResponse response = handle(req);
      int code = response.status().code();
      // After a client error the connection's state is suspect: close it. Back-pressure keeps it.
      boolean keepAlive = HttpUtil.isKeepAlive(req) && (code < 400 || code == 503);
      HttpUtil.setKeepAlive(response, keepAlive);
      var f = ctx.writeAndFlush(response);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }

    private FullHttpResponse handle(FullHttpRequest req) {
      String media = mediaType(req);
      if (!req.decoderResult().isSuccess()) {
        metrics.request(TRANSPORT, "bad_request");
        return status(HttpResponseStatus.BAD_REQUEST, media, RpcStatus.of(Code.INVALID_ARGUMENT, "malformed HTTP request"));
      }
      String path = new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).path();
      OtlpWire.Signal signal = OtlpServices.ofHttpPath(path);
      if (signal == null) {
        metrics.request(TRANSPORT, "not_found");
        return status(HttpResponseStatus.NOT_FOUND, media,
            RpcStatus.of(Code.NOT_FOUND, "OTLP is served at /v1/traces, /v1/metrics and /v1/logs"));
      }
      if (!ingest.serves(signal)) {
        metrics.request(TRANSPORT, signal, "signal_off");
        return status(HttpResponseStatus.NOT_FOUND, media, RpcStatus.of(Code.UNIMPLEMENTED, ingest.turnedOff(signal)));
      }
      if (!req.method().equals(HttpMethod.POST)) {
        metrics.request(TRANSPORT, signal, "method_not_allowed");
        FullHttpResponse r = status(HttpResponseStatus.METHOD_NOT_ALLOWED, media,
            RpcStatus.of(Code.UNIMPLEMENTED, "use POST"));
        r.headers().set(HttpHeaderNames.ALLOW, "POST");
        return r;
      }
      if (!media.equals(PROTOBUF) && !media.equals(JSON)) {
        metrics.request(TRANSPORT, signal, "unsupported_media_type");
        return status(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, PROTOBUF,
            RpcStatus.of(Code.INVALID_ARGUMENT, "Content-Type must be application/x-protobuf or application/json"));
      }
      String encoding = req.headers().get(HttpHeaderNames.CONTENT_ENCODING, "identity").trim().toLowerCase(Locale.ROOT);
      byte[] body;
      if (encoding.equals("gzip")) {
        try {
          body = BoundedGunzip.inflate(new ByteBufInputStream(req.content()), limit);
        } catch (BoundedGunzip.TooLarge e) {
          metrics.request(TRANSPORT, signal, "too_large");
          return status(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, media,
              RpcStatus.of(Code.RESOURCE_EXHAUSTED, "the decompressed request exceeds the size limit"));
        } catch (IOException e) {
          metrics.request(TRANSPORT, signal, "bad_request");
          return status(HttpResponseStatus.BAD_REQUEST, media, RpcStatus.of(Code.INVALID_ARGUMENT, "the body is not valid gzip"));
        }
      } else if (encoding.equals("identity") || encoding.isEmpty()) {
        body = ByteBufUtil.getBytes(req.content());
      } else {
        metrics.request(TRANSPORT, signal, "unsupported_media_type");
        return status(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, media,
            RpcStatus.of(Code.INVALID_ARGUMENT, "Content-Encoding must be gzip or identity"));
      }
      byte[] serialized;
      long items;
      try {
        serialized = media.equals(JSON) ? OtlpJson.toProtobuf(signal, body, limits) : body;
        items = OtlpWire.scan(signal, serialized, limits).items();
      } catch (OtlpWire.Refused e) {
        if (e.reason().overLimit()) {
          metrics.request(TRANSPORT, signal, "too_large");
          return status(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, media,
              RpcStatus.of(Code.RESOURCE_EXHAUSTED, e.getMessage()));
        }
        metrics.request(TRANSPORT, signal, "bad_request");
        return status(HttpResponseStatus.BAD_REQUEST, media, RpcStatus.of(Code.INVALID_ARGUMENT, e.getMessage()));
      }
      if (!ingest.accept(signal, serialized, items)) {
        metrics.request(TRANSPORT, signal, "refused");
        FullHttpResponse r = status(HttpResponseStatus.SERVICE_UNAVAILABLE, media,
            RpcStatus.unavailable("the buffer cannot take data now (full, or no data key yet); retry later", OtlpIngest.RETRY_AFTER));
        r.headers().set(HttpHeaderNames.RETRY_AFTER, String.valueOf(OtlpIngest.RETRY_AFTER.getSeconds()));
        return r;
      }
      metrics.request(TRANSPORT, signal, "ok");
      return respond(HttpResponseStatus.OK, media, OtlpServices.emptyResponse(signal));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
