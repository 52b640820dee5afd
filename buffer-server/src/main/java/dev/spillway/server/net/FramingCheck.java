package dev.spillway.server.net;

import dev.spillway.server.telemetry.ServerMetrics;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Refuses a request whose length is ambiguous, instead of guessing where it ends (the guess is
 * what request smuggling exploits): a header the codec could not decode (two Content-Length
 * values, Content-Length beside Transfer-Encoding, Transfer-Encoding on HTTP/1.0, a malformed
 * header), two Transfer-Encoding headers or values, or any transfer coding but {@code chunked}.
 * The answer is 400 with a plain-text reason (never the peer's bytes) and the connection is
 * closed; nothing more is read from it.
 */
final class FramingCheck extends ChannelInboundHandlerAdapter {
  private final String transport;
  private final ServerMetrics metrics;
  private boolean refused;

  FramingCheck(String transport, ServerMetrics metrics) {
    this.transport = transport;
    this.metrics = metrics;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest req) {
      String problem = problem(req);
      if (problem != null) {
        refused = true;
        ReferenceCountUtil.release(msg);
        metrics.request(transport, "bad_request");
        byte[] body = ("400 " + problem + "\n").getBytes(StandardCharsets.US_ASCII);
        FullHttpResponse r = new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=us-ascii")
            .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
            .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        return;
      }
    }
    super.channelRead(ctx, msg);
  }

  /** What is ambiguous about the request's framing; null if nothing. */
  static String problem(HttpRequest req) {
    if (req.decoderResult().isFailure()) {
      return "malformed HTTP request: the request line or headers do not decode (malformed, too long, or an ambiguous length)";
    }
    List<String> te = req.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (te.isEmpty()) {
      return null;
    }
    int codings = 0;
    for (String line : te) {
      for (String coding : line.split(",", -1)) {
        codings++;
        if (!coding.trim().toLowerCase(Locale.ROOT).equals(HttpHeaderValues.CHUNKED.toString())) {
          return "only Transfer-Encoding: chunked is accepted";
        }
      }
    }
    if (codings != 1) {
      return "Transfer-Encoding is given more than once";
    }
    return null;
  }
}
