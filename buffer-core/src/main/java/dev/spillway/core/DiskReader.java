package dev.spillway.core;

import dev.spillway.core.internal.seal.SealedRecord;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine's read side: reads the spill through the {@link SpillCursor} until it finds a batch
 * to hand out or catches up, records disk deliveries in the {@link DeliveryLedger} and commits the
 * acknowledged prefix, counts batches out of the {@link DiskBacklog} as it reads them, and deletes
 * drained segments (housekeeping). What a batch the engine also holds in memory becomes is the
 * engine's say ({@link Engine}).
 *
 * <p>Locks are the engine's, in its order: {@code readLock}, held while reading (and so across a
 * key-provider call), then {@code state}, taken briefly for the ledger, the backlog, the counters
 * and every {@link Engine} call. The ledger and the backlog are shared with the engine under {@code
 * state}.
 */
final class DiskReader {
  /** How often drained segments are deleted, and an idle poll wakes at least. */
  static final long HOUSEKEEPING_EVERY_MILLIS = 100;
  /** Records one read may step over without finding a delivery before poll looks again. */
  private static final int RECORDS_PER_READ = 100_000;
  /**
   * A reader-only process cannot be signalled by the writer in another process: it looks at the
   * spill again after a wait that doubles from the first to the last of these while nothing comes.
   */
  private static final long CROSS_PROCESS_FIRST_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long CROSS_PROCESS_LAST_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  /** What the reader asks of the engine. Every call is made with {@code state} held. */
  interface Engine {
    /** The engine's say over a batch it may also hold in memory ({@link SpillCursor.Gate#admit}). */
    SpillCursor.Verdict admit(long position);

    /** An admitted batch is read again later with the same verdict ({@link SpillCursor.Gate#readAgainLater}). */
    void readAgainLater(long position, SpillCursor.Verdict verdict);

    /** Hands out a batch read from disk: the engine counts it in flight and delivered. */
    BatchDelivery handOut(PayloadType type, byte[] payload, long position, long sealedAtMillis);

    /** Whether the engine has closed: nothing is committed after that. */
    boolean closed();
  }

  private final SpillCursor cursor;
  private final ReentrantLock readLock;
  private final ReentrantLock state;
  private final DeliveryLedger ledger;
  private final DiskBacklog backlog;
  private final EngineCounters counters;
  private final Clock clock;
  private final long maxRecordAgeMillis;
  private final Engine engine;
  /** The cursor's gate: the engine's say, and the backlog's count of batches read. Takes state. */
  private final SpillCursor.Gate gate = new SpillCursor.Gate() {
    @Override
    public SpillCursor.Verdict admit(long position) {
      state.lock();
      try {
        SpillCursor.Verdict verdict = engine.admit(position);
        if (verdict.admission() != SpillCursor.Admission.WAIT) {
          backlog.admitted();
        }
        return verdict;
      } finally {
        state.unlock();
      }
    }

    @Override
    public void readAgainLater(long position, SpillCursor.Verdict verdict) {
      state.lock();
      try {
        backlog.readAgainLater();
        engine.readAgainLater(position, verdict);
      } finally {
        state.unlock();
      }
    }
  };

  /** Raised by {@link #stop()}: a read checks it between records and leaves. */
  private volatile boolean stopping;
  // --- guarded by readLock ---
  private boolean logClosed;
  // --- written under readLock, read by the polling thread without it ---
  /** cfg.clock millis of the last housekeeping pass. */
  private volatile long lastHousekeepingAtMillis;
  /** The last read stopped at its record budget, not because it caught up. */
  private volatile boolean readBudgetSpent;
  /** Reader-only process: the next wait for another process's appends (poll thread only). */
  private long crossProcessWaitNanos = CROSS_PROCESS_FIRST_WAIT_NANOS;

  DiskReader(SpillCursor cursor, ReentrantLock readLock, ReentrantLock state, DeliveryLedger ledger,
      DiskBacklog backlog, EngineCounters counters, Clock clock, Duration maxRecordAge, Engine engine) {
    this.cursor = cursor;
    this.readLock = readLock;
    this.state = state;
    this.ledger = ledger;
    this.backlog = backlog;
    this.counters = counters;
    this.clock = clock;
    this.maxRecordAgeMillis = maxRecordAge.toMillis();
    this.engine = engine;
    this.lastHousekeepingAtMillis = clock.millis();
  }

  /**
   * Reads until one batch to hand out is found (returned) or the spill is caught up, waiting at a
   * cause (a memory twin out, the key provider down), or stopped (null).
   */
  BatchDelivery read() {
    readLock.lock();
    try {
      readBudgetSpent = false;
      if (logClosed || stopping || cursor.nanosUntilKeyRetry() > 0) {
        return null;
      }
      for (int i = 0; i < RECORDS_PER_READ && !stopping; i++) {
        // Before the first catch-up after a start, look past a segment's end at once: whatever
        // lies in later segments is backlog, and the reader must not take it for caught up.
        boolean lookPastEnd = housekeepingDue() || earlierRunUnread();
        SpillCursor.Step step = cursor.next(gate, lookPastEnd);
        switch (step.kind()) {
          case CAUGHT_UP -> {
            caughtUp();
            return null;
          }
          case WAITING -> {
            return null; // do not re-read the same record at once: poll waits for the cause to clear
          }
          case QUARANTINED -> settleUndelivered(step, false);
          case OPENED -> {
            BatchDelivery d = deliverable(step);
            if (d != null) {
              crossProcessWaitNanos = CROSS_PROCESS_FIRST_WAIT_NANOS;
              return d;
            }
          }
          case CONSUMED -> {}
        }
      }
      readBudgetSpent = !stopping; // records skipped without a delivery: poll reads on at once
      return null;
    } finally {
      readLock.unlock();
    }
  }

  /** The last read stepped over its budget of records without a delivery: read again at once. */
  boolean readBudgetSpent() {
    return readBudgetSpent;
  }

  /** How long until the key provider may be tried again (0: now). */
  long nanosUntilKeyRetry() {
    return cursor.nanosUntilKeyRetry();
  }

  /** A reader-only process's next wait for another process's appends, doubling up to a bound. */
  long nextCrossProcessWaitNanos() {
    long wait = crossProcessWaitNanos;
    crossProcessWaitNanos = Math.min(CROSS_PROCESS_LAST_WAIT_NANOS, crossProcessWaitNanos * 2);
    return wait;
  }

  /** An authenticated batch: a delivery, or null if it needs none (acknowledged from memory, too old). */
  private BatchDelivery deliverable(SpillCursor.Step step) {
    SealedRecord r = step.record();
    if (step.verdict().admission() == SpillCursor.Admission.SKIP) {
      settleUndelivered(step, false); // delivered and acknowledged from memory already
      return null;
    }
    // Only now, authenticated, may a policy act on the header's fields: an age limit must never
    // drop a record no key verified.
    if (tooOld(r.sealedAtMillis())) {
      settleUndelivered(step, true);
      return null;
    }
    byte[] payload = step.verdict().plaintext() != null ? step.verdict().plaintext() : step.batch().payload();
    state.lock();
    try {
      backlog.opened(r.sealedAtMillis());
      ledger.delivered(step.position(), r.sealedAtMillis());
      ledger.readUpTo(cursor.readPosition());
      return engine.handOut(step.batch().payloadType(), payload, step.position(), r.sealedAtMillis());
    } finally {
      state.unlock();
    }
  }

  /** Whether a batch sealed then is past the record age limit (0: no seal time known). */
  boolean tooOld(long sealedAtMillis) {
    return sealedAtMillis > 0 && clock.millis() - sealedAtMillis > maxRecordAgeMillis;
  }

  /**
   * A read batch that needs no delivery (quarantined, acknowledged from memory already, too old)
   * still moves the commit.
   */
  private void settleUndelivered(SpillCursor.Step step, boolean tooOld) {
    state.lock();
    try {
      if (step.verdict() != null) {
        backlog.opened(step.record() == null ? 0 : step.record().sealedAtMillis()); // it was admitted
      }
      if (tooOld) {
        counters.dropped++;
      }
      if (step.position() >= 0) {
        ledger.skipped(step.position());
      }
      ledger.readUpTo(cursor.readPosition());
      commitLocked();
    } finally {
      state.unlock();
    }
  }

  private void caughtUp() {
    long pos = cursor.readPosition();
    state.lock();
    try {
      ledger.readUpTo(pos);
      backlog.caughtUp();
      commitLocked();
    } finally {
      state.unlock();
    }
    if (housekeepingDue()) {
      housekeepingLocked();
    }
  }

  /** A disk delivery was acknowledged: the commit moves past it if it can. Caller holds state. */
  void acknowledgedLocked(long position) {
    ledger.ack(position); // false for a batch whose segment drop-oldest deleted meanwhile
    commitLocked();
  }

  /** Commits the first unacknowledged position. Caller holds state. */
  private void commitLocked() {
    if (engine.closed()) {
      return; // acknowledged after close: redelivered after restart (at-least-once)
    }
    long pos = ledger.commitPosition();
    if (pos >= 0) {
      // Everything before pos is acknowledged. The committer advances the replay watermarks by
      // the records before it, writes them with pos to the drain checkpoint, and only then moves
      // the log's position (why that order: see Committer).
      cursor.commit(pos);
    }
  }

  private boolean earlierRunUnread() {
    state.lock();
    try {
      return backlog.fromEarlierRun();
    } finally {
      state.unlock();
    }
  }

  boolean housekeepingDue() {
    return clock.millis() - lastHousekeepingAtMillis >= HOUSEKEEPING_EVERY_MILLIS;
  }

  /** How long until housekeeping is due again (at least 1 ms). */
  long housekeepingWaitNanos() {
    long since = Math.max(0, clock.millis() - lastHousekeepingAtMillis);
    return TimeUnit.MILLISECONDS.toNanos(Math.max(1, HOUSEKEEPING_EVERY_MILLIS - since));
  }

  /** Deletes drained segments; called from the idle poll path. */
  void housekeeping() {
    readLock.lock();
    try {
      // Due again only after the interval, even when there is nothing to do: a reader not yet
      // positioned (a fresh start) must not find housekeeping due on every pass and spin.
      lastHousekeepingAtMillis = clock.millis();
      if (cursor.positioned() && !logClosed) {
        housekeepingLocked();
      }
    } finally {
      readLock.unlock();
    }
  }

  /** Caller holds readLock. */
  private void housekeepingLocked() {
    lastHousekeepingAtMillis = clock.millis();
    cursor.deleteDrainedSegments();
  }

  /** Raised first thing at close, before any lock: a read under way leaves at its next record. */
  void stop() {
    stopping = true;
  }

  /** The log is about to close: no read touches it again. Caller holds readLock. */
  void logClosingLocked() {
    logClosed = true;
  }
}
