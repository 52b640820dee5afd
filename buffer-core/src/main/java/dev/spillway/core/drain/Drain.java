package dev.spillway.core.drain;

import dev.spillway.core.Delivery;
import dev.spillway.core.SpillReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one consumer loop of a spill buffer, used by the daemon and by the library exporter alike:
 * poll the oldest batch, export it, acknowledge it once the downstream took it; on a retryable
 * failure retry it in hand with exponential back-off, jitter and the downstream's Retry-After /
 * RetryInfo hint ({@link RetryPolicy}), and when the retry budget is spent release it (it stays in
 * the buffer and is delivered again first) and back off before polling again. A downstream outage
 * never drops a batch; only an outcome the exporter calls {@link ExportOutcome.Kind#PERMANENT}
 * does (acknowledged, for the exporter to count).
 *
 * <p><b>Containment.</b> Nothing thrown on a drain thread escapes it. A {@link RuntimeException}
 * from the exporter is a retryable failure; one from the buffer's poll (or Chronicle's {@code
 * InternalError} for a fault on a mapped page) is logged and the poll retried after a back-off. Any
 * other {@link Error} releases the batch in hand and stops the drain: {@link #state()} turns {@link
 * State#DEAD} (the daemon's {@code /readyz} then fails), {@link DrainListener#onDeath} is called.
 * Nothing acknowledged is lost either way: only a batch the downstream took is acknowledged.
 *
 * <p><b>Consumers.</b> With {@code consumers(n)}, n threads poll and export at once; the buffer's
 * ledger commits only past acknowledged batches, so delivery stays at-least-once, but batches then
 * reach the downstream in no particular order. One consumer (the default) keeps the buffer's order.
 *
 * <p><b>Stopping.</b> {@link #close()} stops after the attempt in progress (a batch in hand is
 * released, not lost), waiting a bounded time. {@link #finish(Duration)} first keeps exporting
 * until the buffer has nothing to deliver, an export fails, or the time is up, then closes.
 */
public final class Drain implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Drain.class);
  /** Waits after a failed poll (a storage fault): the buffer logs the cause. */
  private static final long POLL_FAILURE_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** What {@link #close()} gives an attempt in progress before interrupting it. */
  private static final long STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** Where a drain stands. */
  public enum State {
    /** Built, not started. */
    NEW,
    /** Exporting. */
    RUNNING,
    /** Closed or finished. */
    STOPPED,
    /** Stopped by an error it cannot recover from: exports nothing until restarted. */
    DEAD
  }

  /** Time as the drain reads and waits on it; tests substitute one that does not really wait. */
  interface Ticker {
    long nanoTime();

    /** Waits up to {@code nanos} or until {@code wake} is released. */
    void await(CountDownLatch wake, long nanos) throws InterruptedException;

    Ticker SYSTEM =
        new Ticker() {
          @Override
          public long nanoTime() {
            return System.nanoTime();
          }

          @Override
          public void await(CountDownLatch wake, long nanos) throws InterruptedException {
            wake.await(nanos, TimeUnit.NANOSECONDS);
          }
        };
  }

  private final SpillReader reader;
  private final BatchExporter exporter;
  private final RetryPolicy retry;
  private final Duration exportTimeout;
  private final Duration pollInterval;
  private final DrainListener listener;
  private final Ticker ticker;
  private final DoubleSupplier random;
  private final List<Thread> threads = new ArrayList<>();

  /** Released by {@link #finish} and {@link #close}: ends every back-off wait at once. */
  private final CountDownLatch wake = new CountDownLatch(1);
  private final AtomicInteger threadsRunning = new AtomicInteger();
  private volatile State state = State.NEW;
  /** Close was called: stop after the attempt in progress. */
  private volatile boolean stopping;
  /** Finish was called: export until caught up, a failure, or {@link #finishDeadlineNanos}. */
  private volatile boolean finishing;
  private volatile long finishDeadlineNanos;
  /** An export failed after finish began: the rest stays in the buffer for the next start. */
  private volatile boolean failedWhileFinishing;
  /** Whether a finishing drain found the buffer empty. */
  private volatile boolean caughtUp;
  private volatile boolean downstreamHealthy = true;
  private volatile Throwable deathCause;

  private Drain(Builder b) {
    this.reader = b.reader;
    this.exporter = b.exporter;
    this.retry = b.retry;
    this.exportTimeout = b.exportTimeout;
    this.pollInterval = b.pollInterval;
    this.listener = b.listener;
    this.ticker = b.ticker;
    this.random = b.random;
    for (int i = 0; i < b.consumers; i++) {
      String name = b.consumers == 1 ? b.threadName : b.threadName + "-" + i;
      Thread t = new Thread(this::run, name);
      t.setDaemon(true);
      threads.add(t);
    }
  }

  /** A drain of {@code reader} into {@code exporter}. */
  public static Builder builder(SpillReader reader, BatchExporter exporter) {
    return new Builder(reader, exporter);
  }

  /** Starts the consumer threads. */
  public synchronized void start() {
    if (state != State.NEW) {
      throw new IllegalStateException("the drain was already started");
    }
    state = State.RUNNING;
    threadsRunning.set(threads.size());
    threads.forEach(Thread::start);
  }

  public State state() {
    return state;
  }

  /** Whether the drain still exports (or has not been started): false once dead or stopped. */
  public boolean isAlive() {
    State s = state;
    return s == State.NEW || s == State.RUNNING;
  }

  /** What stopped a dead drain, or null. */
  public Throwable deathCause() {
    return deathCause;
  }

  /** False while the last attempt failed: the downstream is down or refusing. */
  public boolean downstreamHealthy() {
    return downstreamHealthy;
  }

  /**
   * Keeps exporting until the buffer has nothing to deliver, an export fails (no back-off now:
   * there is no later) or {@code drainFor} has passed, then stops as {@link #close()} does.
   *
   * @return whether the buffer had nothing left to deliver
   */
  public boolean finish(Duration drainFor) {
    finishDeadlineNanos = ticker.nanoTime() + drainFor.toNanos();
    finishing = true;
    wake.countDown();
    joinAll(drainFor.toNanos() + exportTimeout.toNanos());
    close();
    return caughtUp;
  }

  /** Stops after the attempt in progress; a batch in hand is released. Idempotent; bounded wait. */
  @Override
  public void close() {
    stopping = true;
    wake.countDown();
    if (!joinAll(STOP_GRACE_NANOS)) {
      threads.forEach(Thread::interrupt); // an export that ignores its timeout
      joinAll(TimeUnit.SECONDS.toNanos(2));
    }
    synchronized (this) {
      if (state != State.DEAD) {
        state = State.STOPPED;
      }
    }
  }

  /** Joins every started thread within {@code nanos} in all; returns whether all ended. */
  private boolean joinAll(long nanos) {
    long deadline = System.nanoTime() + nanos;
    try {
      for (Thread t : threads) {
        long left = deadline - System.nanoTime();
        if (t.isAlive() && left > 0) {
          TimeUnit.NANOSECONDS.timedJoin(t, left);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return threads.stream().noneMatch(Thread::isAlive);
  }

  // ------------------------------------------------------------------ the consumer loop

  private void run() {
    Backoff backoff = new Backoff(retry, random);
    try {
      while (!stopping && !finishedNow()) {
        Delivery d;
        try {
          d = reader.poll(finishing ? Duration.ZERO : pollInterval);
        } catch (InterruptedException e) {
          if (stopping) {
            return;
          }
          continue; // interrupted by someone else: the drain runs until closed
        } catch (RuntimeException | InternalError e) {
          // InternalError: Chronicle reports a fault on a mapped page (a full disk) this way.
          LOG.error("polling the buffer failed; trying again", e); // no payload is in it
          pause(POLL_FAILURE_PAUSE_NANOS);
          continue;
        }
        if (d == null) {
          if (finishing) {
            caughtUp = true;
            return;
          }
          continue;
        }
        try {
          deliver(d, backoff);
        } catch (InterruptedException e) {
          if (stopping) {
            return; // close() interrupted an export that ignored its timeout; the batch was released
          }
        }
      }
    } catch (Throwable t) {
      die(t);
    } finally {
      threadsRunning.decrementAndGet();
    }
  }

  private boolean finishedNow() {
    return finishing && (ticker.nanoTime() - finishDeadlineNanos >= 0 || failedWhileFinishing);
  }

  /** Exports one batch until it is acknowledged or released. Errors other than exceptions escape. */
  private void deliver(Delivery d, Backoff backoff) throws InterruptedException {
    long start = ticker.nanoTime();
    while (true) {
      ExportOutcome outcome = attempt(d);
      switch (outcome.kind()) {
        case SUCCESS -> {
          downstreamHealthy = true;
          backoff.reset();
          d.ack();
          return;
        }
        case PERMANENT -> {
          downstreamHealthy = true; // it answered: the batch is bad, not the downstream
          LOG.warn("the downstream refused a batch as invalid ({}); dropped", outcome.reason());
          d.ack();
          return;
        }
        case RETRYABLE -> {
          downstreamHealthy = false;
          failedWhileFinishing = finishing;
        }
      }
      long wait = outcome.retryAfter().map(Duration::toNanos).orElseGet(backoff::nextNanos);
      long elapsed = ticker.nanoTime() - start;
      boolean budgetSpent = !retry.enabled() || elapsed + wait > retry.maxElapsedTime().toNanos();
      if (budgetSpent || stopping || finishing) {
        d.release();
        listener.onReleased(outcome);
        LOG.warn("export failing ({}); the batch stays in the buffer, next attempt in {} ms",
            outcome.reason(), TimeUnit.NANOSECONDS.toMillis(wait));
        if (!finishing) {
          pause(wait);
        }
        return;
      }
      listener.onRetry(outcome);
      if (!pause(wait)) {
        d.release();
        listener.onReleased(outcome);
        return;
      }
    }
  }

  /** One export, with a RuntimeException turned into a retryable outcome. */
  private ExportOutcome attempt(Delivery d) throws InterruptedException {
    long t0 = ticker.nanoTime();
    ExportOutcome outcome;
    try {
      outcome = Objects.requireNonNull(exporter.export(d, exportTimeout), "export outcome");
    } catch (RuntimeException e) {
      LOG.error("the exporter threw; the batch stays in the buffer", e);
      outcome = ExportOutcome.retryable("the exporter threw " + e.getClass().getName());
    } catch (InterruptedException e) {
      d.release();
      throw e;
    } catch (Error e) {
      try {
        d.release();
      } catch (RuntimeException alreadySettled) {
        // the exporter had settled it itself before failing
      }
      throw e;
    }
    listener.onAttempt(outcome, ticker.nanoTime() - t0);
    return outcome;
  }

  /** Waits, or returns false at once when the drain is stopping or finishing. */
  private boolean pause(long nanos) {
    if (stopping || finishing) {
      return false;
    }
    try {
      ticker.await(wake, nanos);
    } catch (InterruptedException e) {
      return false;
    }
    return !stopping && !finishing;
  }

  /**
   * Marks the drain dead before anything that can fail again: logging itself can throw an {@code
   * Error} (no memory to format the trace, a class that no longer loads), and a drain that died
   * while its state still said alive would keep the health probes green with nothing exported.
   */
  private void die(Throwable t) {
    deathCause = t;
    stopping = true; // the other consumers stop too: a drain is alive or dead as a whole
    synchronized (this) {
      state = State.DEAD;
    }
    wake.countDown();
    try {
      listener.onDeath(t);
    } catch (RuntimeException | Error e) {
      logQuietly("the drain's death listener threw: " + e, null);
    }
    logQuietly("the drain stopped on an error it cannot recover from; nothing is exported until a "
        + "restart (nothing acknowledged is lost): " + t, t);
  }

  private static void logQuietly(String message, Throwable t) {
    try {
      LOG.error(message, t);
    } catch (RuntimeException | Error e) {
      // Nothing left to tell it with; the state above already says the drain is dead.
    }
  }

  /** Builds a {@link Drain}. */
  public static final class Builder {
    private final SpillReader reader;
    private final BatchExporter exporter;
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private Duration exportTimeout = Duration.ofSeconds(10);
    private Duration pollInterval = Duration.ofMillis(500);
    private DrainListener listener = DrainListener.NOOP;
    private String threadName = "spillway-drain";
    private int consumers = 1;
    private Ticker ticker = Ticker.SYSTEM;
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

    private Builder(SpillReader reader, BatchExporter exporter) {
      this.reader = Objects.requireNonNull(reader, "reader");
      this.exporter = Objects.requireNonNull(exporter, "exporter");
    }

    public Builder retry(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry, "retry");
      return this;
    }

    /** Passed to every export call as its deadline. Default 10 s. */
    public Builder exportTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "exportTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("exportTimeout must be positive, got " + timeout);
      }
      this.exportTimeout = timeout;
      return this;
    }

    /**
     * Longest single wait in the buffer's poll; the poll itself returns as soon as a batch comes.
     * Bounds how long a stop waits on an idle drain. Default 500 ms.
     */
    public Builder pollInterval(Duration interval) {
      Objects.requireNonNull(interval, "pollInterval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("pollInterval must be positive, got " + interval);
      }
      this.pollInterval = interval;
      return this;
    }

    public Builder listener(DrainListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** The consumer threads' name (with "-i" appended when there are several). */
    public Builder threadName(String name) {
      this.threadName = Objects.requireNonNull(name, "threadName");
      return this;
    }

    /** Consumers exporting at once (the collector's {@code num_consumers}). Default 1 (ordered). */
    public Builder consumers(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("consumers must be 1..64, got " + n);
      }
      this.consumers = n;
      return this;
    }

    Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    Builder random(DoubleSupplier random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** The drain, not yet started. */
    public Drain build() {
      return new Drain(this);
    }
  }
}
