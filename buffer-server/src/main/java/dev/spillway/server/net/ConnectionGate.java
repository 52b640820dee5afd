package dev.spillway.server.net;

import dev.spillway.server.telemetry.ServerMetrics;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission of one listener's connections, in two pools, so that connections nobody has
 * authenticated cannot lock out those that are.
 *
 * <ul>
 *   <li><b>Handshaking</b> (arrived, TLS not yet done: anyone on the network can open these): at
 *       most {@code maxHandshaking} at once, each closed when its handshake has not finished within
 *       {@link #HANDSHAKE_DEADLINE}. When the pool is full, a new connection closes the
 *       <em>oldest</em> handshaking one instead of being refused: a flood of idle sockets then
 *       costs the attacker sockets at the rate the pool turns over, while a real client, whose
 *       handshake takes milliseconds, always gets its turn.
 *   <li><b>Admitted</b> (TLS handshake succeeded, with a client certificate when the listener
 *       requires one; or plaintext in the development mode): at most {@code maxAdmitted}; one more
 *       is closed at once.
 * </ul>
 *
 * Outcomes are counted as {@code spillway_receiver_requests_total{transport, outcome}}: {@code
 * connection_refused_over_limit}, {@code connection_closed_handshaking_over_limit}, {@code
 * handshake_deadline}. Thread-safe: channels of all event loops call in.
 */
public final class ConnectionGate {
  /** How long a connection may take from arrival to a finished TLS handshake. */
  public static final Duration HANDSHAKE_DEADLINE = Duration.ofSeconds(10);

  private final String transport;
  private final int maxAdmitted;
  private final int maxHandshaking;
  private final long deadlineMillis;
  private final ServerMetrics metrics;
  private final AtomicInteger admitted = new AtomicInteger();
  private final Object handshakingLock = new Object(); // guards handshaking
  /** Insertion order is arrival order: the first is the oldest. */
  private final LinkedHashSet<Channel> handshaking = new LinkedHashSet<>();

  /**
   * @param transport the {@code transport} label of the outcomes ("http", "grpc", ...)
   * @param maxAdmitted connections past their handshake held at once
   * @param maxHandshaking connections still in their handshake held at once
   */
  public ConnectionGate(String transport, int maxAdmitted, int maxHandshaking, Duration handshakeDeadline,
      ServerMetrics metrics) {
    if (maxAdmitted < 1 || maxHandshaking < 1) {
      throw new IllegalArgumentException("connection limits must be positive: " + maxAdmitted + ", " + maxHandshaking);
    }
    this.transport = transport;
    this.maxAdmitted = maxAdmitted;
    this.maxHandshaking = maxHandshaking;
    this.deadlineMillis = handshakeDeadline.toMillis();
    this.metrics = metrics;
  }

  /** A connection arrived and starts its TLS handshake; call {@link #handshakeFinished} after. */
  public void handshakeStarted(Channel ch) {
    Channel oldest = null;
    synchronized (handshakingLock) {
      handshaking.add(ch);
      if (handshaking.size() > maxHandshaking) {
        Iterator<Channel> it = handshaking.iterator();
        oldest = it.next();
        it.remove();
      }
    }
    if (oldest != null) {
      metrics.request(transport, "connection_closed_handshaking_over_limit");
      oldest.close();
    }
    ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
      if (leftHandshaking(ch)) {
        metrics.request(transport, "handshake_deadline");
        ch.close();
      }
    }, deadlineMillis, TimeUnit.MILLISECONDS);
    ch.closeFuture().addListener(f -> {
      deadline.cancel(false);
      leftHandshaking(ch);
    });
  }

  /** The handshake ended: a success is admitted (or closed over the limit), a failure closed. */
  public void handshakeFinished(Channel ch, boolean success) {
    leftHandshaking(ch);
    if (success) {
      admit(ch);
    } else {
      ch.close();
    }
  }

  /**
   * Admits a connection that needs no handshake (plaintext development mode) or has finished it.
   *
   * @return false if it was closed because the admitted pool is full
   */
  public boolean admit(Channel ch) {
    if (admitted.incrementAndGet() > maxAdmitted) {
      admitted.decrementAndGet();
      metrics.request(transport, "connection_refused_over_limit");
      ch.close();
      return false;
    }
    ch.closeFuture().addListener(f -> admitted.decrementAndGet());
    return true;
  }

  /** @return true if the channel was still handshaking (and is no longer counted as such) */
  private boolean leftHandshaking(Channel ch) {
    synchronized (handshakingLock) {
      return handshaking.remove(ch);
    }
  }

  /** Connections admitted now (for tests and metrics). */
  public int admitted() {
    return admitted.get();
  }

  /** Connections handshaking now. */
  public int handshaking() {
    synchronized (handshakingLock) {
      return handshaking.size();
    }
  }
}
