package dev.spillway.core;

import dev.spillway.core.internal.NoAnalytics;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.SealedRecord;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import dev.spillway.core.internal.spill.QuarantineFile;
import dev.spillway.core.internal.spill.SpillLog;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
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
 * refuse or drop-oldest), {@link SpillCursor} (reads, authenticates, quarantines, keeps the replay
 * watermarks through the {@link Committer}), {@link DeliveryLedger} (what is outstanding and where
 * the commit stands), {@link MemoryTier}, {@link DiskTwins}, {@link ReadCache}, {@link
 * OldestSpillSegment} (drop-oldest's victim), {@link EngineCounters} (the counters behind {@link
 * #metrics()}), {@link BatchDelivery} (what poll hands out). What stays here: moving batches
 * between the tiers, settling deliveries, and waiting.
 *
 * <p>Order across the tiers: disk always holds older batches than memory. When memory is full, an
 * offer moves the oldest memory batches to disk, as many as it needs room for (about one, for
 * batches of a size), so no offer seals the whole tier under the lock; poll reads disk first while
 * it holds anything older, then memory. Deliveries still out from memory are older than anything
 * queued and go first, as twins ({@link DiskTwins}). Only {@code sealMemory} (a flush) and close
 * seal the whole tier.
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
final class BufferEngine {
  static {
    NoAnalytics.ensure();
  }

  private static final Logger LOG = LoggerFactory.getLogger(BufferEngine.class);
  static final String QUEUE_DIR = SpillDirectory.QUEUE_DIR;
  static final String QUARANTINE_DIR = SpillDirectory.QUARANTINE_DIR;
  /** Chronicle mapping chunk; a record may be at most a quarter of it. */
  static final long BLOCK_SIZE = 64L << 20;
  private static final long HOUSEKEEPING_EVERY_MILLIS = 100;
  /**
   * Longest wait at a record whose memory twin is in flight. Its ack or release signals the
   * reader at once; this only bounds the wait should a signal be missed.
   */
  private static final long TWIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  /**
   * A reader-only process cannot be signalled by the writer in another process: it looks at the
   * spill again after a wait that doubles from the first to the last of these while nothing comes.
   */
  private static final long CROSS_PROCESS_FIRST_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long CROSS_PROCESS_LAST_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final SpillBufferBuilder cfg;
  private final boolean canWrite;
  private final boolean canRead;
  private final SpillLog log;
  /** The read side: reads, opens, quarantines, keeps the replay watermarks. Null without reader keys. */
  private final SpillCursor cursor;
  private final SpillDirectory directory;

  /** The write side: seals, appends, rolls, keeps to the disk budget. Null without writer keys. */
  private final SpillAppender appender;
  /** Drop-oldest's victim, under writeLock. Null without writer keys. */
  private final OldestSpillSegment oldestSegment;

  private final ReentrantLock writeLock = new ReentrantLock();
  private final ReentrantLock readLock = new ReentrantLock();
  private final ReentrantLock state = new ReentrantLock();
  private final Condition available = state.newCondition();

  /**
   * Raised first thing in {@link #close()}, before any lock: a poll reading through the spill
   * checks it between records and leaves, so close() never waits on a long read.
   */
  private volatile boolean closing;

  // --- guarded by writeLock ---
  // A hint, read without a lock: whether the last offer went to disk (see offer)
  private volatile boolean likelyToSpill;

  // --- guarded by readLock (besides the cursor) ---
  /** cfg.clock millis of the last housekeeping pass. */
  private volatile long lastHousekeepingAtMillis;
  /** The last read stopped at its record budget, not because it caught up. */
  private volatile boolean readBudgetSpent;
  /** Reader-only: the next wait for another process's appends (a poll-thread heuristic). */
  private long crossProcessWaitNanos = CROSS_PROCESS_FIRST_WAIT_NANOS;

  // --- guarded by state ---
  private final MemoryTier memory = new MemoryTier();
  private final ArrayDeque<BatchDelivery> redeliver = new ArrayDeque<>();
  /** Disk records whose batch the consumer also holds, or held, from memory. */
  private final DiskTwins twins = new DiskTwins();
  private long inFlightBytes;
  /** Disk deliveries not yet acknowledged (and auto-acknowledged skips), by position. */
  private final DeliveryLedger ledger = new DeliveryLedger();
  /**
   * Sealed batches appended by this process and not yet read. Raised before the append makes the
   * record readable (so a reader can never count it down first), lowered when it is read.
   */
  private long diskUnread;
  /** Raised (and {@link #available} signalled) after every append: a reader that saw none waits. */
  private long appendsPublished;
  /** The reader stopped at a record whose memory twin is in flight; an ack or release clears it. */
  private boolean waitingForTwin;
  private boolean startupBacklog;
  /** Appends under way (each offer or seal counts one while it holds the write lock). */
  private int pendingAppends;
  /**
   * Memory held for the offer or seal under the write lock: the queued batches it took for disk
   * until they are appended, and the room an offer makes for its own batch. Memory-tier offers
   * cannot take it meanwhile.
   */
  private long heldBytes;
  private long oldestUnreadSealedAt;
  /** Durable mode: plaintext of batches just appended, so the reader need not decompress them. */
  private final ReadCache readCache;
  private boolean closed;
  /** What the engine counts for {@link #metrics()}. */
  private final EngineCounters counters = new EngineCounters();


  private BufferEngine(SpillBufferBuilder cfg, boolean canWrite, boolean canRead) throws IOException {
    this.cfg = cfg;
    this.canWrite = canWrite;
    this.canRead = canRead;
    this.directory = SpillDirectory.open(cfg.directory, cfg.sharedGroup, canWrite);
    try {
      this.log =
          ChronicleSpillLog.open(
              directory.queue(), canWrite, BLOCK_SIZE, cfg.fsync.kind() != FsyncPolicy.Kind.NONE);
    } catch (IOException | RuntimeException e) {
      directory.close();
      throw e;
    }
    try {
      // Only the draining side keeps replay state; the ingest role never reads or writes it.
      this.cursor = canRead
          ? new SpillCursor(log, new QuarantineFile(directory.quarantine()),
              Committer.open(directory.drainCheckpoint(), log, cfg.fsync.kind() != FsyncPolicy.Kind.NONE,
                  cfg.startWithoutReplayState),
              cfg.unwrapper, cfg.deployment, cfg.queueName, cfg.observer, cfg.clock)
          : null;
    } catch (IOException | RuntimeException e) {
      log.close();
      directory.close();
      throw e;
    }
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
      this.oldestSegment = new OldestSpillSegment(log, appender, cursor, cfg.clock, new OldestSpillSegment.Engine() {
        @Override
        public long committedPosition() {
          return BufferEngine.this.committedPosition();
        }

        @Override
        public long readPosition() {
          return readPositionSnapshot();
        }

        @Override
        public void segmentDropped(long segment, long unacknowledged, long unread) {
          BufferEngine.this.segmentDropped(segment, unacknowledged, unread);
        }
      });
    } else {
      this.appender = null;
      this.oldestSegment = null;
    }
    this.lastHousekeepingAtMillis = cfg.clock.millis();
    this.likelyToSpill = !(canRead && cfg.durability == Durability.MEMORY_FIRST);
    this.readCache = new ReadCache(cfg.memoryLimitBytes - cfg.effectiveSpikeLimit());
    // Whatever an earlier run left on disk is older than anything offered now.
    this.startupBacklog = !log.segments().isEmpty();
  }

  static BufferEngine open(SpillBufferBuilder b, boolean write, boolean read) throws IOException {
    return new BufferEngine(b.snapshot(), write, read); // settings fixed at build()
  }

  // ------------------------------------------------------------------ offer

  OfferResult offer(PayloadType type, byte[] payload) {
    if (!canWrite) {
      throw new IllegalStateException("this buffer was built without writer keys");
    }
    Objects.requireNonNull(type, "type");
    if (payload.length > EnvelopeFormat.MAX_PLAINTEXT_BYTES) {
      // refused up front, whichever tier it would have gone to: it could never be sealed
      throw new IllegalArgumentException(
          "payload of " + payload.length + " bytes exceeds the limit of " + EnvelopeFormat.MAX_PLAINTEXT_BYTES);
    }
    // Compression is the costly part of sealing and needs no lock: when this batch is likely to
    // spill, compress it here, so offers from several threads compress in parallel and only the
    // encryption and the append are serialised. A wrong guess costs a wasted compression or a
    // compression under the lock, never a different result.
    Sealer.Compressed compressed = likelyToSpill ? Sealer.compress(cfg.codec, payload) : null;
    boolean memoryTier = canRead && cfg.durability == Durability.MEMORY_FIRST;
    if (memoryTier && !likelyToSpill) {
      // The memory tier needs only the state lock: an offer it takes never waits behind a disk
      // append under the write lock.
      state.lock();
      try {
        if (!closed && !diskHasOlder() && fitsMemory(payload.length)) {
          counters.offered++;
          return acceptInMemoryLocked(type, payload);
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
        counters.offered++;
        if (closed) {
          counters.refused++;
          return OfferResult.refused("buffer is closed");
        }
        pendingAppends++;
      } finally {
        state.unlock();
      }
      try {
        if (memoryTier && acceptedMakingRoom(type, payload)) {
          return OfferResult.IN_MEMORY;
        }
        likelyToSpill = true;
        if (compressed != null) {
          appendSealed(type, payload, compressed);
        } else {
          appendSealed(type, payload);
        }
        countSpilled(1);
        return OfferResult.SPILLED;
      } catch (SpillAppender.Refused e) {
        countRefused();
        return OfferResult.refused(e.getMessage());
      } catch (InternalError e) {
        // HotSpot reports a SIGBUS on a mapped page (a full device) asynchronously, wherever
        // compiled code next checks: possibly after the faulting append had returned.
        appender.recoverFromLateFault(e);
        countRefused();
        return OfferResult.refused("spill storage fault: " + e.getMessage());
      } finally {
        state.lock();
        try {
          pendingAppends--;
          available.signalAll();
        } finally {
          state.unlock();
        }
      }
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Makes room in the memory tier by moving its oldest batches to disk, as many as this batch
   * needs (about one, for batches of a size), and accepts it there. While the reader is behind on
   * disk (an outage), each offer moves two batches' worth, one more than it needs, so memory empties
   * into the spill a batch at a time and a long outage leaves little in memory for a crash to
   * lose; once it is empty, new batches go to disk until the reader catches up. False when the
   * batch is to go to disk: everything older is there by then. Each round holds the room it makes
   * until it settles, so no memory-tier offer takes it meanwhile; another round runs only if
   * deliveries took memory in between. Caller holds writeLock, not state.
   *
   * @throws SpillAppender.Refused when an older batch cannot be appended (it stays in memory)
   */
  private boolean acceptedMakingRoom(PayloadType type, byte[] payload) throws SpillAppender.Refused {
    List<MemoryTier.Batch> older = List.of();
    long held = 0;
    for (boolean firstRound = true; ; firstRound = false) {
      state.lock();
      try {
        settleEvictedLocked(older, older.size(), held); // the last round's room, settled and taken in one step
        long room = memoryRoom();
        boolean readerBehind = startupBacklog || diskUnread > 0;
        if (payload.length <= room && !(firstRound && readerBehind)) {
          acceptInMemoryLocked(type, payload);
          return true;
        }
        long toFree = payload.length - room;
        if (firstRound && readerBehind) {
          // Two batches' worth: one leaves for this one, one more, so memory shrinks by a batch.
          toFree = Math.max(toFree, 2L * Math.max(payload.length, 1));
        }
        older = memory.takeOldest(toFree);
        if (older.isEmpty()) {
          return false;
        }
        held = MemoryTier.queuedBytes(older) + Math.max(0, room);
        heldBytes += held;
      } finally {
        state.unlock();
      }
      int appended = 0;
      try {
        for (MemoryTier.Batch m : older) {
          appendOlder(m);
          appended++;
        }
      } catch (SpillAppender.Refused | RuntimeException | Error e) {
        state.lock();
        try {
          settleEvictedLocked(older, appended, held);
        } finally {
          state.unlock();
        }
        throw e;
      }
    }
  }

  /**
   * Memory-origin batches taken for disk: those appended count as spilled, the rest go back to
   * the front of the tier (accepted earlier, they must not be lost; a delivery stays recorded as
   * out, so there is nothing to put back for it), and the memory held meanwhile is free again.
   * Caller holds state.
   */
  private void settleEvictedLocked(List<MemoryTier.Batch> older, int appended, long held) {
    if (older.isEmpty() && held == 0) {
      return;
    }
    heldBytes -= held;
    counters.spilled += appended;
    for (int i = older.size() - 1; i >= appended; i--) {
      memory.putBack(older.get(i));
    }
    available.signalAll();
  }

  private void countSpilled(int n) {
    state.lock();
    try {
      counters.spilled += n;
    } finally {
      state.unlock();
    }
  }

  private void countRefused() {
    state.lock();
    try {
      counters.refused++;
    } finally {
      state.unlock();
    }
  }

  /** Caller holds state. */
  private OfferResult acceptInMemoryLocked(PayloadType type, byte[] payload) {
    memory.add(type, payload);
    counters.acceptedInMemory++;
    available.signalAll();
    likelyToSpill = false;
    return OfferResult.IN_MEMORY;
  }

  /**
   * Seals everything memory-origin to disk now, as close does: the memory tier, and deliveries
   * handed out or released and not yet settled (their disk copies are twins). The one operation
   * besides close that seals more than one batch under the write lock: an explicit flush.
   *
   * @throws IOException naming why, when something could not be sealed (it stays in memory)
   */
  void sealMemory() throws IOException {
    if (!canWrite) {
      throw new IllegalStateException("this buffer was built without writer keys");
    }
    appender.awaitKey();
    writeLock.lock();
    try {
      List<MemoryTier.Batch> older;
      long held;
      state.lock();
      try {
        if (closed) {
          return;
        }
        older = memory.takeForDisk();
        held = MemoryTier.queuedBytes(older);
        heldBytes += held;
        pendingAppends++;
      } finally {
        state.unlock();
      }
      int appended = 0;
      try {
        for (MemoryTier.Batch m : older) {
          appendOlder(m);
          appended++;
        }
      } catch (SpillAppender.Refused e) {
        throw new IOException("could not seal " + (older.size() - appended) + " batches to disk: " + e.getMessage());
      } catch (InternalError e) {
        appender.recoverFromLateFault(e);
        throw new IOException("spill storage fault: " + e.getMessage());
      } finally {
        state.lock();
        try {
          settleEvictedLocked(older, appended, held);
          pendingAppends--;
        } finally {
          state.unlock();
        }
      }
    } finally {
      writeLock.unlock();
    }
  }

  /** Appends one older memory-origin batch and settles where its delivery stands. */
  private void appendOlder(MemoryTier.Batch m) throws SpillAppender.Refused {
    if (!m.delivery()) {
      appendSealed(m.type(), m.payload());
      cfg.observer.onMovedToDisk(m.type(), m.payload());
      return;
    }
    // The twin is readable the moment it is appended, before it is registered below: hold the
    // reader off everything after what is on disk now, or it could deliver the twin of a batch
    // the consumer holds (or has just acknowledged) from memory.
    state.lock();
    try {
      twins.appending(appender.lastAppended());
    } finally {
      state.unlock();
    }
    long position;
    try {
      position = appendSealed(m.type(), m.payload());
    } catch (SpillAppender.Refused | RuntimeException | Error e) {
      state.lock();
      try {
        twins.appended();
        waitingForTwin = false;
        available.signalAll();
      } finally {
        state.unlock();
      }
      throw e;
    }
    cfg.observer.onMovedToDisk(m.type(), m.payload());
    state.lock();
    try {
      twins.appended();
      waitingForTwin = false;
      available.signalAll();
      BatchDelivery current = memory.out(m.ordinal());
      if (current == null) {
        twins.acknowledged(position); // acknowledged meanwhile: the disk copy is not delivered again
      } else if (redeliver.remove(current)) {
        // Released and waiting: the disk copy delivers it, in order.
        current.settled = true;
        memory.settled(m.ordinal());
        inFlightBytes -= current.payload.length;
      } else {
        // In the consumer's hands: its ack or release decides what the disk copy does.
        current.sealedTo = position;
        twins.out(position);
      }
    } finally {
      state.unlock();
    }
  }

  /**
   * Whether disk holds, or is about to hold, batches older than the memory tier's: an earlier
   * run's backlog, this run's unread appends, or appends under way. Poll reads disk first then.
   */
  private boolean diskHasOlder() {
    return startupBacklog || diskUnread > 0 || pendingAppends > 0;
  }

  private boolean fitsMemory(int size) {
    return size <= memoryRoom();
  }

  /**
   * What the memory tier may still take. Batches being delivered occupy memory until they are
   * acknowledged; memory held by the offer under the write lock, until it settles.
   */
  private long memoryRoom() {
    long softLimit = cfg.memoryLimitBytes - cfg.effectiveSpikeLimit();
    return softLimit - memory.queuedBytes() - inFlightBytes - heldBytes;
  }

  /** Compresses, seals and appends one batch; returns its position. Caller holds writeLock, not state. */
  private long appendSealed(PayloadType type, byte[] payload) throws SpillAppender.Refused {
    return appendSealed(type, payload, Sealer.compress(cfg.codec, payload));
  }

  /**
   * Seals and appends one batch that is already compressed; returns its position. Caller holds
   * writeLock, not state.
   */
  private long appendSealed(PayloadType type, byte[] payload, Sealer.Compressed compressed)
      throws SpillAppender.Refused {
    long position = appender.append(type, compressed, oldestSegment);
    state.lock();
    try {
      if (canRead && cfg.durability == Durability.DURABLE) {
        readCache.put(position, payload);
      }
      appendsPublished++;
      available.signalAll();
    } finally {
      state.unlock();
    }
    return position;
  }

  /** What the appender tells the engine around an append. Called under writeLock; takes state briefly. */
  private final SpillAppender.Hooks appendHooks = new SpillAppender.Hooks() {
    @Override
    public void reserve(long sealedAtMillis) {
      reserveUnread(sealedAtMillis);
    }

    @Override
    public void unreserve() {
      unreserveUnread();
    }

    @Override
    public void newKeyEpoch() {
      state.lock();
      try {
        counters.keyEpochsSeen++;
      } finally {
        state.unlock();
      }
    }

    @Override
    public void storageFault() {
      countStorageFault();
    }
  };

  /**
   * Counts a batch as unread before its append makes it readable: counted after, a reader could
   * read it first and lower a count clamped at zero, which would then stay one too high for ever
   * (and poll would never wait again).
   */
  private void reserveUnread(long sealedAt) {
    state.lock();
    try {
      if (diskUnread == 0 && !startupBacklog) {
        oldestUnreadSealedAt = sealedAt;
      }
      diskUnread++;
    } finally {
      state.unlock();
    }
  }

  private void unreserveUnread() {
    state.lock();
    try {
      diskUnread = Math.max(0, diskUnread - 1);
    } finally {
      state.unlock();
    }
  }

  private void countStorageFault() {
    state.lock();
    try {
      counters.storageFaults++;
    } finally {
      state.unlock();
    }
  }



  /** What the engine holds of a segment drop-oldest deleted: forgotten, under state. */
  private void segmentDropped(long oldest, long unacknowledged, long unread) {
    state.lock();
    try {
      // Every record of the segment is gone: nothing there is outstanding, redelivered, waiting
      // for its memory twin, or skipped as acknowledged from memory any more.
      ledger.forget(p -> log.segmentOf(p) <= oldest);
      redeliver.removeIf(d -> d.fromDisk && log.segmentOf(d.position) <= oldest);
      twins.forget(p -> log.segmentOf(p) <= oldest);
      readCache.forget(p -> log.segmentOf(p) <= oldest);
      counters.dropped += unacknowledged;
      diskUnread = Math.max(0, diskUnread - unread);
      available.signalAll();
    } finally {
      state.unlock();
    }
  }

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
        if (closed) {
          return null;
        }
        BatchDelivery again = redeliver.pollFirst();
        if (again != null) {
          if (tooOld(again.sealedAt)) {
            dropDelivery(again);
            continue;
          }
          counters.delivered++;
          return again;
        }
        boolean diskFirst = !canWrite || diskHasOlder();
        if (!diskFirst && !memory.isEmpty()) {
          return handOutFromMemory();
        }
        appendsSeen = appendsPublished;
        if (!diskFirst) {
          long wait = deadline - System.nanoTime();
          if (wait <= 0) {
            return null;
          }
          if (housekeepingDue()) {
            state.unlock();
            try {
              housekeeping();
            } finally {
              state.lock();
            }
            continue;
          }
          available.awaitNanos(Math.min(wait, housekeepingWaitNanos()));
          continue;
        }
      } finally {
        state.unlock();
      }
      BatchDelivery d = readDisk();
      if (d != null) {
        crossProcessWaitNanos = CROSS_PROCESS_FIRST_WAIT_NANOS;
        return d;
      }
      state.lock();
      try {
        if (!closed && !memory.isEmpty() && !diskHasOlder()) {
          return handOutFromMemory(); // disk caught up meanwhile: memory is next in order
        }
      } finally {
        state.unlock();
      }
      if (readBudgetSpent && deadline - System.nanoTime() > 0) {
        continue; // a long run of skipped records (acknowledged before a restart): not caught up
      }
      long wait = deadline - System.nanoTime();
      if (wait <= 0) {
        return null;
      }
      state.lock();
      try {
        if (closed || !redeliver.isEmpty() || (!memory.isEmpty() && !diskHasOlder())) {
          continue;
        }
        long untilKeyRetry = cursor.nanosUntilKeyRetry();
        long nap;
        if (untilKeyRetry > 0) {
          nap = untilKeyRetry; // the key provider is unavailable: try again after its back-off
        } else if (waitingForTwin) {
          nap = TWIN_WAIT_NANOS; // its ack or release signals us
        } else if (!canWrite) {
          nap = crossProcessWaitNanos; // another process writes: nothing signals us
          crossProcessWaitNanos = Math.min(CROSS_PROCESS_LAST_WAIT_NANOS, crossProcessWaitNanos * 2);
        } else if (appendsPublished != appendsSeen) {
          continue; // something was appended since the read began
        } else {
          nap = housekeepingWaitNanos(); // caught up: the next append signals us
        }
        available.awaitNanos(Math.min(wait, nap));
      } finally {
        state.unlock();
      }
    }
    return null; // closing
  }

  /** Hands out the memory tier's oldest batch. Caller holds state; the tier is not empty. */
  private BatchDelivery handOutFromMemory() {
    MemoryTier.Batch m = memory.poll();
    inFlightBytes += m.payload().length;
    counters.delivered++;
    BatchDelivery d = new BatchDelivery(this, m.type(), m.payload(), false, m.ordinal(), cfg.clock.millis());
    memory.handedOut(d);
    return d;
  }

  /** How long until housekeeping is due again (at least 1 ms). */
  private long housekeepingWaitNanos() {
    long since = Math.max(0, cfg.clock.millis() - lastHousekeepingAtMillis);
    return TimeUnit.MILLISECONDS.toNanos(Math.max(1, HOUSEKEEPING_EVERY_MILLIS - since));
  }

  private boolean keyRetryPending() {
    return cursor.nanosUntilKeyRetry() > 0;
  }

  private boolean tooOld(long sealedAt) {
    return sealedAt > 0 && cfg.clock.millis() - sealedAt > cfg.maxRecordAge.toMillis();
  }

  /** Reads until one deliverable batch is found or the log is caught up. */
  private BatchDelivery readDisk() {
    readLock.lock();
    try {
      readBudgetSpent = false;
      if (isClosed() || keyRetryPending()) {
        return null; // close() may have closed the log while this poll waited for the lock
      }
      for (int i = 0; i < 100_000 && !closing; i++) {
        // Before the first catch-up after a start, look past a segment's end at once: whatever
        // lies in later segments is backlog, and the reader must not take it for caught up.
        boolean lookPastEnd = housekeepingDue() || underState(() -> startupBacklog);
        SpillCursor.Step step = cursor.next(gate, lookPastEnd);
        switch (step.kind()) {
          case CAUGHT_UP -> {
            caughtUp();
            return null;
          }
          case WAITING -> {
            return null; // do not re-read the same record at once: poll waits for the cause to clear
          }
          case QUARANTINED -> autoAck(step.position());
          case OPENED -> {
            BatchDelivery d = deliverable(step);
            if (d != null) {
              return d;
            }
          }
          case CONSUMED -> {}
        }
      }
      readBudgetSpent = !closing; // records skipped without a delivery: poll reads on at once
      return null;
    } finally {
      readLock.unlock();
    }
  }

  /**
   * The engine's say over disk batches it also holds in memory, asked by the cursor under state:
   * wait at a batch whose memory twin is with the consumer; skip one acknowledged from memory;
   * hand over the plaintext of this process's own recent append.
   */
  private final SpillCursor.Gate gate = new SpillCursor.Gate() {
    @Override
    public SpillCursor.Verdict admit(long position) {
      state.lock();
      try {
        if (twins.mustWait(position)) {
          // Its memory twin is still being exported, or may be a twin not yet registered.
          waitingForTwin = true;
          return SpillCursor.Verdict.WAIT;
        }
        if (diskUnread > 0) {
          diskUnread--;
        }
        if (twins.takeAcknowledged(position)) {
          return SpillCursor.Verdict.SKIP;
        }
        byte[] cached = readCache.take(position);
        if (cached != null) {
          return new SpillCursor.Verdict(SpillCursor.Admission.CACHED, cached);
        }
        return SpillCursor.Verdict.READ;
      } finally {
        state.unlock();
      }
    }

    @Override
    public void readAgainLater(long position, SpillCursor.Verdict verdict) {
      state.lock();
      try {
        diskUnread++;
        if (verdict.admission() == SpillCursor.Admission.SKIP) {
          twins.acknowledged(position);
        } else if (verdict.plaintext() != null) {
          readCache.put(position, verdict.plaintext());
        }
      } finally {
        state.unlock();
      }
    }
  };

  /** An authenticated batch: a delivery, or null if it needs none (acknowledged from memory, too old). */
  private BatchDelivery deliverable(SpillCursor.Step step) {
    SealedRecord r = step.record();
    long position = step.position();
    state.lock();
    try {
      oldestUnreadSealedAt = r.sealedAtMillis();
    } finally {
      state.unlock();
    }
    if (step.verdict().admission() == SpillCursor.Admission.SKIP) {
      autoAck(position); // delivered and acknowledged from memory already
      return null;
    }
    // Only now, authenticated, may a policy act on the header's fields: an age limit must never
    // drop a record no key verified.
    if (tooOld(r.sealedAtMillis())) {
      autoAck(position);
      state.lock();
      try {
        counters.dropped++;
      } finally {
        state.unlock();
      }
      return null;
    }
    byte[] payload = step.verdict().plaintext() != null ? step.verdict().plaintext() : step.batch().payload();
    BatchDelivery d = new BatchDelivery(this, step.batch().payloadType(), payload, true, position, r.sealedAtMillis());
    state.lock();
    try {
      ledger.delivered(position, r.sealedAtMillis());
      ledger.readUpTo(cursor.readPosition());
      inFlightBytes += payload.length;
      counters.delivered++;
    } finally {
      state.unlock();
    }
    return d;
  }

  private void caughtUp() {
    long pos = cursor.readPosition();
    state.lock();
    try {
      ledger.readUpTo(pos);
      // Whatever an earlier run left is read now. diskUnread is exact (one up per append, one
      // down per batch read) and is not reset here: an append may have landed since the read.
      startupBacklog = false;
      commitLocked();
    } finally {
      state.unlock();
    }
    if (housekeepingDue()) {
      housekeepingLocked();
    }
  }

  private boolean housekeepingDue() {
    return cfg.clock.millis() - lastHousekeepingAtMillis >= HOUSEKEEPING_EVERY_MILLIS;
  }

  /** Deletes drained segments from the idle poll path. */
  private void housekeeping() {
    readLock.lock();
    try {
      // Due again only after the interval, even when there is nothing to do: a reader not yet
      // positioned (a fresh start) must not find housekeeping due on every pass and spin.
      lastHousekeepingAtMillis = cfg.clock.millis();
      if (cursor.positioned() && !isClosed()) {
        housekeepingLocked();
      }
    } finally {
      readLock.unlock();
    }
  }

  /** Caller holds readLock. */
  private void housekeepingLocked() {
    lastHousekeepingAtMillis = cfg.clock.millis();
    cursor.deleteDrainedSegments();
  }

  /** A position that needs no delivery (quarantined, too old) still moves the commit. */
  private void autoAck(long position) {
    state.lock();
    try {
      if (position >= 0) {
        ledger.skipped(position);
      }
      ledger.readUpTo(cursor.readPosition());
      commitLocked();
    } finally {
      state.unlock();
    }
  }

  /** Commits the first unacknowledged position. Caller holds state. */
  private void commitLocked() {
    if (closed) {
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

  /** Reads one value under the state lock. */
  private <T> T underState(java.util.function.Supplier<T> read) {
    state.lock();
    try {
      return read.get();
    } finally {
      state.unlock();
    }
  }

  private boolean isClosed() {
    return underState(() -> closed);
  }

  private long readPositionSnapshot() {
    return underState(ledger::readPosition);
  }

  private long committedPosition() {
    return underState(log::committed);
  }

  // ------------------------------------------------------------------ ack / release

  void ack(BatchDelivery d) {
    state.lock();
    try {
      if (d.settled) {
        throw new IllegalStateException("delivery was already acknowledged or released");
      }
      settleLocked(d);
      counters.acked++;
      waitingForTwin = false;
      if (!d.fromDisk && d.sealedTo >= 0) {
        twins.acknowledged(d.sealedTo); // its sealed twin is not delivered again
      }
      available.signalAll();
    } finally {
      state.unlock();
    }
  }

  void release(BatchDelivery d) {
    state.lock();
    try {
      if (d.settled) {
        throw new IllegalStateException("delivery was already acknowledged or released");
      }
      waitingForTwin = false;
      if (!d.fromDisk && d.sealedTo >= 0) {
        // Already sealed when the buffer moved to disk: the disk copy delivers it, in order.
        settleLocked(d);
        twins.released(d.sealedTo);
        available.signalAll();
        return;
      }
      // Redelivered ahead of everything else; stays outstanding in the ledger (and on disk)
      // until acked.
      BatchDelivery again = d.copy();
      if (!d.fromDisk) {
        memory.handedOut(again);
      }
      d.settled = true;
      redeliver.addFirst(again);
      available.signalAll();
    } finally {
      state.unlock();
    }
  }

  private void dropDelivery(BatchDelivery d) {
    settleLocked(d);
    counters.dropped++;
  }

  /**
   * Marks a delivery done and frees what it held: its bytes, and either its place ahead of the
   * durable position (disk) or its in-flight slot (memory). Caller holds state.
   */
  private void settleLocked(BatchDelivery d) {
    d.settled = true;
    inFlightBytes -= d.payload.length;
    if (d.fromDisk) {
      ledger.ack(d.position); // false for a batch whose segment drop-oldest deleted meanwhile
      commitLocked();
    } else {
      memory.settled(d.position);
    }
  }

  // ------------------------------------------------------------------ metrics / purge / close

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
    state.lock();
    try {
      long oldestAge = EngineCounters.oldestAgeMillis(cfg.clock.millis(), ledger.oldestOutstandingSealedAt(),
          diskUnread > 0 || startupBacklog, oldestUnreadSealedAt);
      return counters.metrics(
          memory.queued() + redeliver.stream().filter(d -> !d.fromDisk).count(),
          memory.queuedBytes() + inFlightBytes,
          disk,
          diskUnread + ledger.outstanding(),
          oldestAge,
          canWrite ? appender.keyRequests() : 0,
          canRead ? cursor : null);
    } finally {
      state.unlock();
    }
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
      long lost = 0;
      for (Long s : log.segments()) {
        if (canWrite && s >= log.appendSegment()) {
          continue;
        }
        long[] n = new long[1];
        log.scanSegment(s, e -> n[0] += OldestSpillSegment.isBatch(e.bytes()) ? 1 : 0);
        lost += n[0];
        log.deleteSegment(s);
      }
      state.lock();
      try {
        lost += memory.clear();
        twins.clear();
        redeliver.clear();
        ledger.clear();
        readCache.clear();
        inFlightBytes = 0;
        diskUnread = 0;
        startupBacklog = false;
        counters.dropped += lost;
      } finally {
        state.unlock();
      }
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
    if (canWrite) {
      appender.awaitKey(); // what memory holds is sealed below: a first key is worth its bounded wait
      writeLock.lock();
    }
    try {
      List<MemoryTier.Batch> toSeal = new ArrayList<>();
      state.lock();
      try {
        if (closed) {
          return;
        }
        closed = true;
        // Memory-origin deliveries not yet acknowledged (in flight or released), then the memory
        // tier, oldest first. One still in flight may yet be acknowledged: then it is delivered
        // again after restart (at-least-once), never lost.
        toSeal.addAll(memory.takeAllForClose()); // a delivery with a twin on disk already is not sealed again
        redeliver.clear();
        available.signalAll();
      } finally {
        state.unlock();
      }
      if (canWrite) {
        int sealed = 0;
        for (MemoryTier.Batch m : toSeal) {
          try {
            appendSealed(m.type(), m.payload());
            cfg.observer.onMovedToDisk(m.type(), m.payload());
            sealed++;
          } catch (SpillAppender.Refused e) {
            LOG.error(
                "close: {} batches held in memory could not be sealed to disk and are lost: {}",
                toSeal.size() - sealed, e.getMessage());
            break;
          }
        }
        if (sealed > 0) {
          LOG.info("close: sealed {} batches from memory to disk", sealed);
        }
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
      log.close();
    } finally {
      readLock.unlock();
      directory.close();
    }
  }
}
