package dev.spillway.server.net;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection's request deadline, covering headers and body: the clock starts at the first
 * byte of a request (before the HTTP codec, so a client trickling header bytes is timed too) and
 * stops when the request's last byte is decoded. A request not whole within the deadline gets 408
 * and the connection is closed. Between requests (after the handshake, after each response) a
 * connection may stay silent for the same time, then it is closed without a word.
 *
 * <p>Two handlers share the state: {@link #bytes()} goes right after TLS and sees raw bytes;
 * {@link #messages()} goes right after the codec and sees decoded requests and outgoing
 * responses. Both run on the channel's event loop, so the state needs no lock.
 */
final class RequestClock {
  private enum State {
    /** Handshake not done yet (the {@link ConnectionGate} times that). */
    CONNECTING,
    /** No request in progress: the silence allowance runs. */
    IDLE,
    /** Bytes of a request have arrived: the request deadline runs. */
    RECEIVING,
    /** The request is whole; the handlers work on it; no clock until the response is written. */
    PROCESSING
  }

  private final long millis;
  private State state;
  private ScheduledFuture<?> timer;
  /** The context after the codec: a 408 written here is encoded as HTTP. */
  private ChannelHandlerContext messagesCtx;

  /** @param plaintext no TLS handshake comes first: the clock starts when the connection does */
  RequestClock(long millis, boolean plaintext) {
    this.millis = millis;
    this.state = plaintext ? State.IDLE : State.CONNECTING;
  }

  ChannelHandler bytes() {
    return new BytesSide();
  }

  ChannelHandler messages() {
    return new MessageSide();
  }

  private void idle() {
    state = State.IDLE;
    restart(false);
  }

  private void receiving() {
    state = State.RECEIVING;
    restart(true);
  }

  private void restart(boolean answer408) {
    cancel();
    ChannelHandlerContext ctx = messagesCtx;
    timer = ctx.executor().schedule(() -> expire(ctx, answer408), millis, TimeUnit.MILLISECONDS);
  }

  private void expire(ChannelHandlerContext ctx, boolean answer408) {
    timer = null;
    if (!answer408) {
      ctx.close();
      return;
    }
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

  /** Raw bytes after TLS: the first byte of a request starts its deadline. */
  private final class BytesSide extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      if (state == State.IDLE) {
        idle(); // plaintext: the connection is admitted as it opens
      }
      super.channelActive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess() && state == State.CONNECTING) {
        idle();
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (state == State.IDLE) {
        receiving();
      }
      super.channelRead(ctx, msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      cancel();
      super.channelInactive(ctx);
    }
  }

  /** Decoded requests and outgoing responses: a whole request stops the clock, a response restarts it. */
  private final class MessageSide extends ChannelDuplexHandler {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      messagesCtx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof HttpRequest && state == State.IDLE) {
        receiving(); // a pipelined request, decoded from bytes that came during the last one
      }
      if (msg instanceof LastHttpContent) {
        state = State.PROCESSING;
        cancel();
      }
      super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (msg instanceof LastHttpContent) {
        promise.addListener(f -> {
          if (state == State.PROCESSING && ctx.channel().isActive()) {
            idle();
          }
        });
      }
      super.write(ctx, msg, promise);
    }
  }
}
