package dev.spillway.core;

import dev.spillway.core.internal.NoAnalytics;
import dev.spillway.core.internal.seal.AesGcmWarmup;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import dev.spillway.core.internal.spill.QuarantineFile;
import dev.spillway.core.internal.spill.SpillLog;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The buffer behind {@link SpillBuffer}: composes its parts and keeps the lock order between them.
 *
 * <p>Parts, each with one job and its own test: {@link SpillDirectory} (the directory and its
 * writer lock), {@link SpillAppender} (seals, appends, rolls), {@link DiskBudget} (free-space guard,
 * refuse or drop-oldest), {@link OldestSpillSegment} (drop-oldest's victim), {@link DiskReader}
 * (the read side: reads through the {@link SpillCursor}, which authenticates, quarantines and keeps
 * the replay watermarks through the {@link Committer}; records disk deliveries in the {@link
 * DeliveryLedger} and commits; housekeeping), {@link DiskBacklog} (what disk holds that the
 * reader has not delivered), {@link MemoryTier}, {@link DiskTwins}, {@link ReadCache}, {@link
 * EngineCounters} (the counters behind {@link #metrics()}), {@link BatchDelivery} (what poll hands
 * out), and {@link BufferState}, which holds those guarded by {@code state} and makes every step
 * that moves a batch between them, without I/O or locks. What stays here: the locks and their
 * order, the appends and reads that move batches between the tiers, and waiting.
 *
 * <p>Order across the tiers: disk always holds older batches than memory. When memory is full, an
 * offer moves the oldest memory batches to disk, as many as it needs room for (about one, for
 * batches of a size), so no offer seals the whole tier under the lock; poll reads disk first while
 * it holds anything older, then memory. Deliveries still out from memory are older than anything
 * queued and go first, as twins ({@link DiskTwins}). A flush ({@code sealMemory}) seals the tier a
 * batch at a time, releasing the write lock between them; only close seals it all under the lock
 * (nothing is accepted after close).
 *
 * <p>Locks, always taken in this order: {@code writeLock} (the appender; every offer bound for disk
 * goes through it, so those are totally ordered; an offer the memory tier takes needs only {@code
 * state}), {@code readLock} (the cursor; held by poll while it reads), {@code state} (the memory
 * tier, the outstanding deliveries and the counters; held only briefly, never across I/O). The
 * committer's own lock is a leaf under {@code state}; its file writes happen on its own thread
 * under no engine lock. Drop-oldest runs under {@code writeLock} and never takes {@code readLock}:
 * the reader may be inside a key-provider call.
 *
 * <p>Time: every decision (housekeeping, key retry, ages, segment age) reads {@code cfg.clock};
 * only the caller's poll timeout, a real wait, is measured on the monotonic timer.
 */
final class BufferEngine implements BatchDelivery.Settler {
  static {
    NoAnalytics.ensure();
  }

  private static final Logger LOG = LoggerFactory.getLogger(BufferEngine.class);
  static final String QUEUE_DIR = SpillDirectory.QUEUE_DIR;
  static final String QUARANTINE_DIR = SpillDirectory.QUARANTINE_DIR;
  /**
   * Chronicle's mapping chunks, smallest to largest. A record may be at most a quarter of the chunk
   * it is written with; it reads back with any chunk. The writer's chunk and the one the reader holds
   * are resident while spilling, so the chunk is the smallest that holds the buffer's largest batch.
   */
  static final long SMALLEST_CHUNK = 16L << 20;
  static final long LARGEST_CHUNK = 64L << 20;
  /** The largest batch any buffer may take: its sealed record fits a quarter of {@link #LARGEST_CHUNK}. */
  static final int MAX_BATCH_BYTES = largestBatchIn(LARGEST_CHUNK);
  /** The largest batch a buffer takes unless told otherwise: a 32 MiB chunk's. */
  static final int DEFAULT_MAX_BATCH_BYTES = largestBatchIn(32L << 20);
  /**
   * Longest wait at a record whose memory twin is in flight. Its ack or release signals the
   * reader at once; this only bounds the wait should a signal be missed.
   */
  private static final long TWIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** The largest payload whose sealed record fits a quarter of {@code chunk}, whatever the codec. */
  private static int largestBatchIn(long chunk) {
    return EnvelopeFormat.largestPayloadIn(chunk / 4, 64);
  }

  /** The smallest chunk whose records hold {@code maxBatchBytes} (at most {@link #MAX_BATCH_BYTES}). */
  static long chunkFor(int maxBatchBytes) {
    long chunk = SMALLEST_CHUNK;
    while (chunk < LARGEST_CHUNK && largestBatchIn(chunk) < maxBatchBytes) {
      chunk <<= 1;
    }
    return chunk;
  }

  private final SpillBufferBuilder cfg;
  private final boolean canWrite;
  private final boolean canRead;
  private final boolean memoryTier;
  private final SpillLog log;
  private final SpillDirectory directory;
  /** Reads, opens, quarantines, keeps the replay watermarks. Null without reader keys. */
  private final SpillCursor cursor;
  /** The read side around the cursor: deliveries from disk, commits, housekeeping. Null without reader keys. */
  private final DiskReader reader;
  /** The write side: seals, appends, rolls, keeps to the disk budget. Null without writer keys. */
  private final SpillAppender appender;
  /** Drop-oldest's victim, under writeLock. Null without writer keys. */
  private final OldestSpillSegment oldestSegment;

  private final ReentrantLock writeLock = new ReentrantLock();
  private final ReentrantLock readLock = new ReentrantLock();
  private final ReentrantLock state = new ReentrantLock();
  /** Signalled under state whenever a waiting poll may find something: offers, appends, acks, releases, close. */
  private final Condition available = state.newCondition();
  /** Guarded by state: the tiers, deliveries, ledger, backlog and counters. */
  private final BufferState held;
  private final AesGcmWarmup.Result encryptionWarmUp;

  /**
   * Raised first thing in {@link #close()}, before any lock: a poll reading through the spill
   * checks it between records and leaves, so close() never waits on a long read.
   */
  private volatile boolean closing;
  /**
   * A hint, read without a lock, written under writeLock or state: whether the last offer went to
   * disk, so the next compresses before it takes the lock (see offer).
   */
  private volatile boolean likelyToSpill;

  private BufferEngine(SpillBufferBuilder cfg, boolean canWrite, boolean canRead,
      AesGcmWarmup.Result encryptionWarmUp) throws IOException {
    this.cfg = cfg;
    this.encryptionWarmUp = encryptionWarmUp;
    this.canWrite = canWrite;
    this.canRead = canRead;
    this.memoryTier = canRead && cfg.durability == Durability.MEMORY_FIRST;
    this.directory = SpillDirectory.open(cfg.directory, cfg.sharedGroup, canWrite);
    boolean fsyncs = cfg.fsync.kind() != FsyncPolicy.Kind.NONE;
    try {
      this.log = ChronicleSpillLog.open(directory.queue(), canWrite, chunkFor(cfg.maxBatchBytes), fsyncs);
    } catch (IOException | RuntimeException e) {
      directory.close();
      throw e;
    }
    try {
      // Only the draining side keeps replay state; the ingest role never reads or writes it.
      this.cursor = canRead
          ? new SpillCursor(log, new QuarantineFile(directory.quarantine()),
              Committer.open(directory.drainCheckpoint(), log, fsyncs, cfg.startWithoutReplayState),
              cfg.unwrapper, cfg.deployment, cfg.queueName, cfg.observer, cfg.clock)
          : null;
    } catch (IOException | RuntimeException e) {
      log.close();
      directory.close();
      throw e;
    }
    // Whatever an earlier run left on disk is older than anything offered now.
    this.held = new BufferState(this, cfg.memoryLimitBytes - cfg.effectiveSpikeLimit(),
        canRead && cfg.durability == Durability.DURABLE, !log.segments().isEmpty(), cfg.clock,
        this::diskDeliveryAcknowledged);
    this.reader = canRead
        ? new DiskReader(cursor, readLock, state, held.ledger, held.backlog, held.counters, cfg.clock,
            cfg.maxRecordAge, held)
        : null;
    if (canWrite) {
      DiskBudget budget = new DiskBudget(new DiskBudget.Device() {
        @Override
        public long allocatedBytes() {
          return log.allocatedBytes();
        }

        @Override
        public long usableSpace() {
          return log.usableSpace();
        }
      }, cfg.maxDiskBytes, cfg.minFreeDiskBytes, cfg.freeSpaceGuard, cfg.overflow, cfg.clock.millis());
      this.appender = new SpillAppender(cfg, log, budget, writeLock, appendHooks);
      this.oldestSegment = new OldestSpillSegment(log, appender, cursor, cfg.clock, oldestSegmentHooks);
    } else {
      this.appender = null;
      this.oldestSegment = null;
    }
    this.likelyToSpill = !memoryTier;
  }

  /** A disk delivery was acknowledged: the reader commits past it if it can. Caller holds state. */
  private void diskDeliveryAcknowledged(long position) {
    reader.acknowledgedLocked(position);
  }

  static BufferEngine open(SpillBufferBuilder b, boolean write, boolean read) throws IOException {
    SpillBufferBuilder settings = b.snapshot(); // settings fixed at build()
    AesGcmWarmup.Result warmUp = null;
    if (!settings.encryptionWarmUp.isZero()) { // before the first seal or open (a backlog's)
      warmUp = AesGcmWarmup.run(settings.encryptionWarmUp);
      LOG.info("{}", warmUp);
    }
    return new BufferEngine(settings, write, read, warmUp);
  }

  /** The largest payload {@link #offer} takes ({@link SpillBufferBuilder#maxBatchBytes}). */
  int maxBatchBytes() {
    return cfg.maxBatchBytes;
  }

  /** What {@link SpillBufferBuilder#warmUpEncryption} did at open, or null when it was not asked for. */
  AesGcmWarmup.Result encryptionWarmUp() {
    return encryptionWarmUp;
  }

  // ------------------------------------------------------------------ offer

  OfferResult offer(PayloadType type, byte[] payload) {
    if (!canWrite) {
      throw new IllegalStateException("this buffer was built without writer keys");
    }
    Objects.requireNonNull(type, "type");
    if (payload.length > cfg.maxBatchBytes) {
      // Refused up front, whichever tier it would have gone to: it could never be appended, and
      // held in memory it would block every eviction behind it.
      throw new IllegalArgumentException("payload of " + payload.length + " bytes exceeds the largest batch"
          + " this buffer takes, " + cfg.maxBatchBytes + " bytes (split it, or raise maxBatchBytes)");
    }
    // Compression is the costly part of sealing and needs no lock: when this batch is likely to
    // spill, compress it here, so offers from several threads compress in parallel and only the
    // encryption and the append are serialised. A wrong guess costs a wasted compression or a
    // compression under the lock, never a different result.
    Sealer.Compressed compressed = likelyToSpill ? Sealer.compress(cfg.codec, payload) : null;
    if (memoryTier && !likelyToSpill) {
      // The memory tier needs only the state lock: an offer it takes never waits behind a disk
      // append under the write lock.
      state.lock();
      try {
        if (!held.closed() && held.memoryTakes(payload.length)) {
          held.counters.offered++;
          likelyToSpill = false;
          available.signalAll();
          return held.acceptInMemory(type, payload);
        }
      } finally {
        state.unlock();
      }
    }
    // Bound for disk, or to make room in memory: wait for a data key here, under no lock, so a
    // slow key provider holds up only the offers that cannot do without it.
    appender.awaitKey();
    writeLock.lock();
    try {
      state.lock();
      try {
        held.counters.offered++;
        if (held.closed()) {
          held.counters.refused++;
          return OfferResult.refused("buffer is closed");
        }
        held.backlog.appendStarting();
      } finally {
        state.unlock();
      }
      try {
        if (memoryTier && acceptedMakingRoom(type, payload)) {
          likelyToSpill = false;
          return OfferResult.IN_MEMORY;
        }
        likelyToSpill = true;
        appendSealed(type, payload, compressed != null ? compressed : Sealer.compress(cfg.codec, payload));
        inState(() -> held.counters.spilled++);
        return OfferResult.SPILLED;
      } catch (SpillAppender.Refused e) {
        inState(() -> held.counters.refused++);
        return OfferResult.refused(e.getMessage());
      } catch (InternalError e) {
        // HotSpot reports a SIGBUS on a mapped page (a full device) asynchronously, wherever
        // compiled code next checks: possibly after the faulting append had returned.
        appender.recoverFromLateFault(e);
        inState(() -> held.counters.refused++);
        return OfferResult.refused("spill storage fault: " + e.getMessage());
      } finally {
        inState(held.backlog::appendEnded);
      }
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Makes room in the memory tier by moving its oldest batches to disk, as many as this batch
   * needs, and accepts it there ({@link BufferState#makeRoom}: each round settles the last one's
   * appends and takes the next in one step, so no memory-tier offer takes the room meanwhile).
   * False when the batch is to go to disk: everything older is there by then. Caller holds
   * writeLock, not state.
   *
   * @throws SpillAppender.Refused when an older batch cannot be appended (it stays in memory)
   */
  private boolean acceptedMakingRoom(PayloadType type, byte[] payload) throws SpillAppender.Refused {
    BufferState.Eviction eviction = BufferState.Eviction.NONE;
    for (boolean firstRound = true; ; firstRound = false) {
      state.lock();
      try {
        eviction = held.makeRoom(type, payload, eviction, firstRound);
        available.signalAll();
      } finally {
        state.unlock();
      }
      if (eviction == null) {
        return true;
      }
      if (eviction.batches().isEmpty()) {
        return false;
      }
      appendEvicted(eviction, false);
    }
  }

  /**
   * Appends an eviction's batches, oldest first. On failure the ones not appended go back to
   * memory; {@code settleAfter} settles the eviction also on success (a flush; making room
   * settles it in its next round).
   */
  private void appendEvicted(BufferState.Eviction eviction, boolean settleAfter) throws SpillAppender.Refused {
    int appended = 0;
    boolean failed = true;
    try {
      for (MemoryTier.Batch m : eviction.batches()) {
        appendOlder(m);
        appended++;
      }
      failed = false;
    } finally {
      if (failed || settleAfter) {
        int n = appended;
        inState(() -> held.settleEviction(eviction, n));
      }
    }
  }

  /**
   * Seals everything memory-origin accepted before this call to disk, as close does: the memory
   * tier, and deliveries handed out or released and not yet settled (their disk copies are twins).
   * A batch at a time, oldest first, each under the write lock on its own, so offers are answered
   * between them; what is accepted meanwhile is newer and stays in memory.
   *
   * @throws IOException naming why, when something could not be sealed (it stays in memory)
   */
  void sealMemory() throws IOException {
    if (!canWrite) {
      throw new IllegalStateException("this buffer was built without writer keys");
    }
    long mark = fromState(held::flushMark);
    while (true) {
      appender.awaitKey();
      writeLock.lock();
      try {
        BufferState.Eviction next;
        state.lock();
        try {
          next = held.closed() ? BufferState.Eviction.NONE : held.takeForFlush(mark);
          if (next == BufferState.Eviction.NONE) {
            return;
          }
          held.backlog.appendStarting();
        } finally {
          state.unlock();
        }
        try {
          appendEvicted(next, true);
        } catch (SpillAppender.Refused e) {
          throw new IOException("could not seal memory batches to disk: " + e.getMessage());
        } catch (InternalError e) {
          appender.recoverFromLateFault(e);
          throw new IOException("spill storage fault: " + e.getMessage());
        } finally {
          inState(held.backlog::appendEnded);
        }
      } finally {
        writeLock.unlock();
      }
    }
  }

  /** Appends one older memory-origin batch and settles where its delivery stands. Caller holds writeLock. */
  private void appendOlder(MemoryTier.Batch m) throws SpillAppender.Refused {
    if (!m.delivery()) {
      appendSealed(m.type(), m.payload(), Sealer.compress(cfg.codec, m.payload()));
      cfg.observer.onMovedToDisk(m.type(), m.payload());
      return;
    }
    // The twin is readable the moment it is appended, before it is registered: the reader is held
    // off everything after what is on disk now, or it could deliver the twin of a batch the
    // consumer holds (or has just acknowledged) from memory.
    inState(() -> held.twinAppending(appender.lastAppended()));
    long position;
    try {
      position = appendSealed(m.type(), m.payload(), Sealer.compress(cfg.codec, m.payload()));
    } catch (SpillAppender.Refused | RuntimeException | Error e) {
      inState(held::twinNotAppended);
      throw e;
    }
    cfg.observer.onMovedToDisk(m.type(), m.payload());
    inState(() -> held.twinAppended(m.ordinal(), position));
  }

  /**
   * Seals and appends one batch that is already compressed; returns its position. Caller holds
   * writeLock, not state.
   */
  private long appendSealed(PayloadType type, byte[] payload, Sealer.Compressed compressed)
      throws SpillAppender.Refused {
    long position = appender.append(type, compressed, oldestSegment);
    inState(() -> held.published(position, payload));
    return position;
  }

  /** What the appender tells the engine around an append. Called under writeLock; takes state briefly. */
  private final SpillAppender.Hooks appendHooks = new SpillAppender.Hooks() {
    @Override
    public void reserve(long sealedAtMillis) {
      // Before the append makes the batch readable (why: DiskBacklog).
      inState(() -> held.backlog.reserve(sealedAtMillis));
    }

    @Override
    public void unreserve() {
      inState(held.backlog::unreserve);
    }

    @Override
    public void newKeyEpoch() {
      inState(() -> held.counters.keyEpochsSeen++);
    }

    @Override
    public void storageFault() {
      inState(() -> held.counters.storageFaults++);
    }
  };

  /** What drop-oldest asks of the engine (under writeLock, never readLock). */
  private final OldestSpillSegment.Engine oldestSegmentHooks = new OldestSpillSegment.Engine() {
    @Override
    public long committedPosition() {
      return fromState(log::committed);
    }

    @Override
    public long readPosition() {
      return fromState(held.ledger::readPosition);
    }

    @Override
    public void segmentDropped(long segment, long unacknowledged, long unread) {
      // Every record of the segment is gone: nothing there is outstanding, redelivered, waiting
      // for its memory twin, or skipped as acknowledged from memory any more.
      inState(() -> held.segmentDropped(p -> log.segmentOf(p) <= segment, unacknowledged, unread));
    }
  };

  // ------------------------------------------------------------------ poll

  /**
   * Waits up to {@code timeout} for the next batch. Never spins: when nothing is there it waits on
   * {@link #available}, which offers, appends, acks, releases and close signal, waking at least
   * every housekeeping interval to delete drained segments. A reader-only process, which no
   * writer can signal, looks again after a wait that doubles up to a bound.
   */
  Delivery poll(Duration timeout) throws InterruptedException {
    if (!canRead) {
      throw new IllegalStateException("this buffer was built without reader keys");
    }
    // The caller's timeout bounds a real wait (Condition.awaitNanos), so it is measured on the
    // monotonic timer; every decision (housekeeping, key retry, ages) reads cfg.clock.
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!closing) {
      long appendsSeen;
      state.lock();
      try {
        if (held.closed()) {
          return null;
        }
        BatchDelivery again = held.nextRedelivery(reader::tooOld);
        if (again != null) {
          return again;
        }
        boolean diskFirst = !canWrite || held.diskHasOlder();
        if (!diskFirst && held.memoryIsNext()) {
          return held.handOutFromMemory();
        }
        appendsSeen = held.backlog.publishedCount();
        if (!diskFirst) {
          long wait = deadline - System.nanoTime();
          if (wait <= 0) {
            return null;
          }
          if (reader.housekeepingDue()) {
            state.unlock();
            try {
              reader.housekeeping();
            } finally {
              state.lock();
            }
            continue;
          }
          available.awaitNanos(Math.min(wait, reader.housekeepingWaitNanos()));
          continue;
        }
      } finally {
        state.unlock();
      }
      BatchDelivery d = reader.read();
      if (d != null) {
        return d;
      }
      state.lock();
      try {
        if (!held.closed() && held.memoryIsNext()) {
          return held.handOutFromMemory(); // disk caught up meanwhile: memory is next in order
        }
      } finally {
        state.unlock();
      }
      if (reader.readBudgetSpent() && deadline - System.nanoTime() > 0) {
        continue; // a long run of skipped records (acknowledged before a restart): not caught up
      }
      long wait = deadline - System.nanoTime();
      if (wait <= 0) {
        return null;
      }
      state.lock();
      try {
        if (held.closed() || held.hasRedeliveries() || held.memoryIsNext()) {
          continue;
        }
        long untilKeyRetry = reader.nanosUntilKeyRetry();
        long nap;
        if (untilKeyRetry > 0) {
          nap = untilKeyRetry; // the key provider is unavailable: try again after its back-off
        } else if (held.waitingForTwin()) {
          nap = TWIN_WAIT_NANOS; // its ack or release signals us
        } else if (!canWrite) {
          nap = reader.nextCrossProcessWaitNanos(); // another process writes: nothing signals us
        } else if (held.backlog.publishedCount() != appendsSeen) {
          continue; // something was appended since the read began
        } else {
          nap = reader.housekeepingWaitNanos(); // caught up: the next append signals us
        }
        available.awaitNanos(Math.min(wait, nap));
      } finally {
        state.unlock();
      }
    }
    return null; // closing
  }

  // ------------------------------------------------------------------ ack / release

  @Override
  public void ack(BatchDelivery d) {
    state.lock();
    try {
      held.ack(d);
      available.signalAll();
    } finally {
      state.unlock();
    }
  }

  @Override
  public void release(BatchDelivery d) {
    state.lock();
    try {
      held.release(d);
      available.signalAll();
    } finally {
      state.unlock();
    }
  }

  // ------------------------------------------------------------------ metrics / purge / close

  /** Runs {@code step} under the state lock, and signals waiting polls. */
  private void inState(Runnable step) {
    state.lock();
    try {
      step.run();
      available.signalAll();
    } finally {
      state.unlock();
    }
  }

  /** Reads one value under the state lock. */
  private <T> T fromState(java.util.function.Supplier<T> read) {
    state.lock();
    try {
      return read.get();
    } finally {
      state.unlock();
    }
  }

  /** For tests: the last position forced to disk, and the last appended. */
  long[] forcedAndAppended() {
    writeLock.lock();
    try {
      return new long[] {log.lastForced(), appender.lastAppended()};
    } finally {
      writeLock.unlock();
    }
  }

  BufferMetrics metrics() {
    long disk = log.allocatedBytes();
    return fromState(() -> held.metrics(disk, canWrite ? appender.keyRequests() : 0, cursor));
  }

  void purge() throws IOException {
    if (canWrite) {
      writeLock.lock();
    }
    readLock.lock();
    try {
      if (canWrite) {
        appender.newStream(); // a new segment, stream and epoch; the old data key is gone
      }
      long diskBatches = 0;
      for (Long s : log.segments()) {
        if (canWrite && s >= log.appendSegment()) {
          continue;
        }
        long[] n = new long[1];
        log.scanSegment(s, e -> n[0] += EnvelopeFormat.looksLikeBatch(e.bytes()) ? 1 : 0);
        diskBatches += n[0];
        log.deleteSegment(s);
      }
      long onDisk = diskBatches;
      long lost = fromState(() -> held.purged(onDisk));
      cursor.reset(); // keys forgotten, the position back to the start; the watermarks stay
      LOG.warn("spill purged by operator: {} batches dropped, data keys forgotten", lost);
    } finally {
      readLock.unlock();
      if (canWrite) {
        writeLock.unlock();
      }
    }
  }

  void close() {
    closing = true;
    if (reader != null) {
      reader.stop();
    }
    if (canWrite) {
      appender.awaitKey(); // what memory holds is sealed below: a first key is worth its bounded wait
      writeLock.lock();
    }
    try {
      List<MemoryTier.Batch> toSeal;
      state.lock();
      try {
        toSeal = held.close();
        available.signalAll();
      } finally {
        state.unlock();
      }
      if (toSeal == null) {
        return; // closed already
      }
      if (canWrite) {
        sealForClose(toSeal);
        appender.close();
      }
    } finally {
      if (canWrite) {
        writeLock.unlock();
      }
    }
    if (appender != null) {
      appender.stopThreads();
    }
    if (cursor != null) {
      cursor.close(); // the last acknowledged position, before the log closes
    }
    readLock.lock();
    try {
      if (reader != null) {
        reader.logClosingLocked();
      }
      log.close();
    } finally {
      readLock.unlock();
      directory.close();
    }
  }

  /** Seals what memory held at close, oldest first. Caller holds writeLock. */
  private void sealForClose(List<MemoryTier.Batch> toSeal) {
    int sealed = 0;
    for (MemoryTier.Batch m : toSeal) {
      try {
        appendSealed(m.type(), m.payload(), Sealer.compress(cfg.codec, m.payload()));
        cfg.observer.onMovedToDisk(m.type(), m.payload());
        sealed++;
      } catch (SpillAppender.Refused e) {
        LOG.error("close: {} batches held in memory could not be sealed to disk and are lost: {}",
            toSeal.size() - sealed, e.getMessage());
        break;
      }
    }
    if (sealed > 0) {
      LOG.info("close: sealed {} batches from memory to disk", sealed);
    }
  }
}
