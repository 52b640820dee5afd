package dev.spillway.core;

import dev.spillway.core.internal.seal.KeyRecord;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.SealingUnavailableException;
import dev.spillway.core.internal.spill.SpillLog;
import dev.spillway.core.internal.spill.SpillStorageException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of the spill: seals batches and appends them, with their epoch's key record at
 * the start of every segment that uses it; rolls segments by size and age (and after a storage
 * fault, so nothing is built on a half-written record); asks the {@link DiskBudget} before every
 * append; forces the log as the fsync policy says (the interval policy on a thread of its own).
 *
 * <p>Called under the engine's write lock, which it is given so its fsync thread can take it too;
 * it never takes the engine's other locks. What the engine counts around an append (a batch
 * unread before a reader can see it, a new key epoch, a storage fault) it is told through {@link
 * Hooks}.
 */
final class SpillAppender {
  private static final Logger LOG = LoggerFactory.getLogger(SpillAppender.class);
  /** Header and GCM overhead of a sealed batch stay well under this. */
  static final int SEAL_OVERHEAD_BYTES = 512;

  /** What the engine counts around an append. */
  interface Hooks {
    /** The batch sealed at {@code sealedAtMillis} is about to become readable. */
    void reserve(long sealedAtMillis);

    /** ...and after all did not. */
    void unreserve();

    /** A data key was used for the first time. */
    void newKeyEpoch();

    /** An append or the free-space guard failed on the storage. */
    void storageFault();
  }

  /** Refused for now: disk budget, full device, no data key, storage fault. The message says which. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String message) {
      super(message, null, false, false);
    }
  }

  private final SpillBufferBuilder cfg;
  /** A segment ends once it holds this many bytes (computed once: every append checks it). */
  private final long segmentLimit;
  private final SpillLog log;
  private final DiskBudget budget;
  private final Hooks hooks;
  private final ReentrantLock writeLock;
  /** Requests data keys off the append path (one daemon thread, idle between epochs). */
  private final ExecutorService keyFetcher = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "spillway-keys");
    t.setDaemon(true);
    return t;
  });
  /** The interval-fsync thread, or null. */
  private final ScheduledExecutorService flusher;

  // --- guarded by writeLock (sealer is volatile for awaitKey, which runs under no lock) ---
  private volatile Sealer sealer;
  private long keyRecordSegment = -1;
  private KeyRecord keyRecordWritten;
  private long segmentBytes;
  private long segmentStartedAt;
  private long lastForceAt;
  private boolean unforced;
  private long lastAppended = -1;
  private boolean closed;

  SpillAppender(SpillBufferBuilder cfg, SpillLog log, DiskBudget budget, ReentrantLock writeLock, Hooks hooks) {
    this.cfg = cfg;
    this.segmentLimit = cfg.effectiveSegmentBytes();
    this.log = log;
    this.budget = budget;
    this.writeLock = writeLock;
    this.hooks = hooks;
    this.sealer = newSealer();
    this.segmentStartedAt = cfg.clock.millis();
    if (cfg.fsync.kind() == FsyncPolicy.Kind.INTERVAL) {
      long ms = cfg.fsync.interval().toMillis();
      flusher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "spillway-fsync");
        t.setDaemon(true);
        return t;
      });
      flusher.scheduleWithFixedDelay(this::flushTick, ms, ms, TimeUnit.MILLISECONDS);
    } else {
      flusher = null;
    }
  }

  private Sealer newSealer() {
    Sealer s = new Sealer(cfg.issuer, cfg.deployment, cfg.queueName, cfg.rotation, cfg.codec, cfg.clock, keyFetcher);
    s.prefetch(); // the first offer should not wait for the key provider
    return s;
  }

  /**
   * Seals and appends one compressed batch; returns its position.
   *
   * @param oldest what drop-oldest may delete to make room
   */
  long append(PayloadType type, Sealer.Compressed compressed, DiskBudget.OldestSegment oldest) throws Refused {
    long now = cfg.clock.millis();
    maybeRoll(now);
    try {
      budget.ensureRoom(compressed.length() + SEAL_OVERHEAD_BYTES, now, oldest);
    } catch (DiskBudget.Refused r) {
      if (r.deviceFull) {
        hooks.storageFault();
      }
      throw new Refused(r.getMessage());
    }
    SealedBatch sealed;
    try {
      sealed = sealer.seal(type, compressed);
    } catch (SealingUnavailableException e) {
      throw new Refused("no data key available: " + e.getMessage());
    }
    long start = System.nanoTime(); // a measurement for the observer, not a decision
    long position;
    try {
      if (keyRecordSegment != log.appendSegment() || keyRecordWritten != sealed.keyRecord()) {
        log.append(sealed.keyRecord().encoded());
        boolean newEpoch = keyRecordWritten != sealed.keyRecord();
        keyRecordSegment = log.appendSegment();
        keyRecordWritten = sealed.keyRecord();
        if (newEpoch) {
          hooks.newKeyEpoch(); // data keys used, not key records written (one per segment per epoch)
        }
      }
      hooks.reserve(sealed.sealedAtMillis());
      try {
        position = log.append(sealed.bytes());
      } catch (SpillStorageException e) {
        hooks.unreserve();
        throw e;
      }
    } catch (SpillStorageException e) {
      sealer.release(sealed);
      // Never append after a faulted write in the same file: what the fault left half-written
      // stays the segment's torn tail, which the reader skips, instead of being built upon.
      roll(now);
      hooks.storageFault();
      LOG.warn("spill append failed; refusing with back-pressure: {}", e.getMessage());
      throw new Refused("spill storage fault: " + e.getMessage());
    }
    lastAppended = position;
    int written = sealed.bytes().length;
    segmentBytes += written;
    budget.appended(written);
    forceIfDue(now);
    cfg.observer.onStorageWrite(System.nanoTime() - start, written);
    return position;
  }

  /**
   * A storage fault reported late (HotSpot reports a SIGBUS on a mapped page asynchronously):
   * drop the log's appender and go on in a new segment.
   */
  void recoverFromLateFault(InternalError e) {
    LOG.warn("spill storage fault reported late; refusing with back-pressure: {}", e.getMessage());
    hooks.storageFault();
    try {
      log.recoverFromFault();
      roll(cfg.clock.millis());
    } catch (RuntimeException | InternalError again) {
      LOG.error("could not recover the spill writer after a storage fault: {}", again.toString());
    }
  }

  private void maybeRoll(long now) {
    boolean full = segmentBytes >= segmentLimit;
    boolean old = segmentBytes > 0 && now - segmentStartedAt >= cfg.segmentMaxAge.toMillis();
    if (full || old) {
      roll(now);
    }
  }

  /** Makes later appends go to a new segment (which starts with its key record). */
  void roll(long now) {
    log.roll();
    segmentBytes = 0;
    segmentStartedAt = now;
    keyRecordSegment = -1;
  }

  /** Whether drop-oldest has anything to delete: an older segment, or the current one if it holds records. */
  boolean canDropOldest() {
    int segments = log.segments().size();
    return segments > 1 || (segments == 1 && segmentBytes > 0);
  }

  /** An operator purge: a new segment, a new stream and epoch; the old data key is gone. */
  void newStream() {
    roll(cfg.clock.millis());
    sealer.close();
    sealer = newSealer();
    keyRecordWritten = null;
  }

  private void forceIfDue(long now) {
    switch (cfg.fsync.kind()) {
      case EVERY_BATCH -> log.force();
      case INTERVAL -> {
        if (now - lastForceAt >= cfg.fsync.interval().toMillis()) {
          log.force();
          lastForceAt = now;
          unforced = false;
        } else {
          unforced = true; // the flusher thread forces it within the interval
        }
      }
      case NONE -> {}
    }
  }

  /** Interval fsync: forces the tail of a burst that no later append will force. */
  private void flushTick() {
    writeLock.lock();
    try {
      if (unforced && !closed) {
        log.force();
        lastForceAt = cfg.clock.millis();
        unforced = false;
      }
    } catch (RuntimeException e) {
      LOG.warn("interval fsync failed: {}", e.toString());
    } finally {
      writeLock.unlock();
    }
  }

  long lastAppended() {
    return lastAppended;
  }

  /**
   * Waits (bounded) for the first data key when none is held yet. Call it under no lock, before
   * {@link #append}: the append itself never waits on the key provider.
   */
  void awaitKey() {
    sealer.awaitKey();
  }

  long keyRequests() {
    return sealer.keyRequests();
  }

  /** Forces what was appended and forgets the data key; no append after this. Caller holds writeLock. */
  void close() {
    log.force();
    sealer.close();
    closed = true;
  }

  /** Stops the threads; call after {@link #close()}, without the write lock. */
  void stopThreads() {
    if (flusher != null) {
      flusher.shutdownNow();
    }
    keyFetcher.shutdownNow();
  }
}
