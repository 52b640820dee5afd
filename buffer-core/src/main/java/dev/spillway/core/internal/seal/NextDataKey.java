package dev.spillway.core.internal.seal;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyUnavailableException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongFunction;

/**
 * The request for a sealer's next data key, made on a fetcher thread so that no caller's lock is
 * held across a key-provider call. At most one request is under way; it is for one epoch, and a
 * key is only ever installed for the epoch it was requested (and wrapped) for.
 *
 * <p>Thread-safe: the sealer takes keys under its caller's append lock, while callers wait for
 * a key ({@link #await}) under none. The monitor is a leaf, never held across a wait or a call.
 */
final class NextDataKey {
  private record Request(long epoch, CompletableFuture<IssuedDataKey> key) {}

  private final DataKeyIssuer issuer;
  private final Executor fetcher;
  private final Clock clock;
  private final Duration retryBackoff;
  private final LongFunction<KeyContext> contextOf;

  // --- guarded by this ---
  private Request request;
  /** No new request before this (cfg clock millis): the provider failed. */
  private long retryAtMillis;
  /** A wait for the request under way timed out: nobody waits for it again until a key is taken. */
  private boolean late;
  private long requests;
  private boolean closed;

  NextDataKey(DataKeyIssuer issuer, Executor fetcher, Clock clock, Duration retryBackoff,
      LongFunction<KeyContext> contextOf) {
    this.issuer = issuer;
    this.fetcher = fetcher;
    this.clock = clock;
    this.retryBackoff = retryBackoff;
    this.contextOf = contextOf;
  }

  /** Starts a request for {@code epoch}'s key unless one is under way or the provider failed just now. */
  synchronized void request(long epoch) {
    if (!closed && (request == null || request.epoch != epoch) && clock.millis() >= retryAtMillis) {
      start(epoch);
    }
  }

  /**
   * The key of {@code epoch} if it has arrived. Otherwise starts its request (unless one is under
   * way) and throws at once: this never waits.
   */
  synchronized IssuedDataKey take(long epoch) throws KeyUnavailableException {
    if (closed) {
      throw new KeyUnavailableException("the sealer is closed");
    }
    if (request == null || request.epoch != epoch) {
      if (clock.millis() < retryAtMillis) {
        throw new KeyUnavailableException(
            "the key provider failed less than " + retryBackoff.toMillis() + " ms ago");
      }
      start(epoch);
    }
    try {
      IssuedDataKey key = request.key.getNow(null);
      if (key == null) {
        throw new KeyUnavailableException("the next data key is still being requested");
      }
      request = null;
      late = false;
      return key;
    } catch (CompletionException e) {
      request = null;
      retryAtMillis = clock.millis() + retryBackoff.toMillis();
      throw unavailable(e.getCause());
    }
  }

  /**
   * Waits for {@code epoch}'s key, on the caller's thread: up to {@code underWay} for a request
   * already under way, up to {@code started} for one it starts now (none was). After a wait times
   * out, nobody waits again until a key has been taken: the provider is late, and waiting would
   * only hold callers up.
   */
  void await(long epoch, Duration underWay, Duration started) {
    CompletableFuture<IssuedDataKey> key;
    Duration max;
    synchronized (this) {
      if (late || closed) {
        return;
      }
      if (request != null && request.epoch == epoch) {
        max = underWay;
      } else if (clock.millis() < retryAtMillis) {
        return;
      } else {
        start(epoch);
        max = started;
      }
      key = request.key;
    }
    try {
      key.get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      synchronized (this) {
        late = true;
      }
    } catch (ExecutionException e) {
      // take() reports the provider's failure
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** How many requests were made (successful or not). */
  synchronized long requests() {
    return requests;
  }

  /** Drops the request under way (a key that arrives after this is wiped) and makes no more. */
  synchronized void close() {
    closed = true;
    discard();
  }

  /** Caller holds this. */
  private void discard() {
    Request r = request;
    request = null;
    if (r != null) {
      r.key.thenAccept(k -> k.plaintext().destroy());
    }
  }

  /** Caller holds this. A superseded request's key is wiped when it arrives. */
  private void start(long epoch) {
    discard();
    KeyContext context = contextOf.apply(epoch);
    requests++;
    request = new Request(epoch, CompletableFuture.supplyAsync(() -> {
      try {
        return issuer.issue(context);
      } catch (KeyUnavailableException e) {
        throw new CompletionException(e);
      }
    }, fetcher));
  }

  private static KeyUnavailableException unavailable(Throwable cause) {
    if (cause instanceof CompletionException c && c.getCause() != null) {
      cause = c.getCause();
    }
    if (cause instanceof KeyUnavailableException k) {
      return k;
    }
    return new KeyUnavailableException("the key provider failed: " + cause, cause);
  }
}
