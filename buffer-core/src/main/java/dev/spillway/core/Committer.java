package dev.spillway.core;

import dev.spillway.core.internal.seal.SealedRecord;
import dev.spillway.core.internal.seal.StreamWatermarks;
import dev.spillway.core.internal.seal.WatermarkFormatException;
import dev.spillway.core.internal.spill.SpillLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the drain's committed position, and with it the replay watermarks: per writer stream, the
 * last sequence of a committed record, so a drained record copied back is refused after a restart
 * too ({@link DrainCheckpoint}).
 *
 * <p><b>Order.</b> The checkpoint file (position and watermarks) is written, atomically, before
 * the log's own consumer position moves, and on open the file is the authority:
 *
 * <ul>
 *   <li>A crash after the file and before the log: the file says P, the log an older P'. Every
 *       record before P was acknowledged (a position is requested only once the ledger has settled
 *       everything before it), so open moves the log to P: nothing acknowledged is delivered again,
 *       nothing unacknowledged is skipped, and the records in [P', P), whose sequences the
 *       watermarks already hold, are not even read (so they are not taken for replays either).
 *   <li>The other order would be unsafe for replay refusal: a log at P with a file at P' forgets
 *       the watermarks of [P', P), and a copy of those records put back later would be delivered.
 *   <li>A file behind the log (a file restored by someone, or lost to a power cut while the log's
 *       mapped page survived): the log is moved back to the file's position, so what lies between
 *       is read again under the file's watermarks: delivered again if genuine (at-least-once),
 *       refused if replayed.
 * </ul>
 *
 * <p><b>Threads.</b> The engine requests a position under its {@code state} lock ({@link
 * #request}, a brief leaf lock here, never I/O); one {@code spillway-commit} thread writes the file
 * and moves the log, so acknowledging never waits on an fsync, and it writes at most once per
 * {@link #MIN_WRITE_INTERVAL_NANOS}, whatever the number of acks in between. Each write creates,
 * writes and renames a file. Writing one per ack cost 8 % of a core when a healthy daemon drained
 * 330 small records a second (issue #19's lean-span profile). The price is at-least-once's usual
 * one: after a crash, up to that interval's acknowledged records are delivered again. {@link
 * #close()} writes the last request before the log closes, so a clean stop repeats nothing.
 */
final class Committer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Committer.class);
  /** After a failed write, the next attempt waits this long (a full or failing disk must not spin). */
  private static final long RETRY_AFTER_FAILURE_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** The least time between two writes of the checkpoint while acks keep coming. */
  static final long MIN_WRITE_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /** For crash tests only: runs after the checkpoint file is written, before the log moves. */
  static volatile Runnable beforeLogCommit = () -> {};

  /** A committed position and the watermarks of every record before it. */
  record Baseline(long position, StreamWatermarks marks) {}

  private record Mark(byte[] streamId, long sequence, long sealedAtMillis) {}

  private final Path file;
  private final SpillLog log;
  private final boolean force;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** Serialises writers (the thread, close, reset), so the file and the log never go backwards. */
  private final ReentrantLock io = new ReentrantLock();
  private final Thread thread;

  // --- guarded by lock ---
  /** Records opened and not yet committed past: what the watermarks advance by, in position order. */
  private final TreeMap<Long, Mark> pending = new TreeMap<>();
  /** The watermarks of every record before {@link #advancedTo}. */
  private final StreamWatermarks marks;
  private long advancedTo;
  private long requested;
  private long written;
  private boolean stopped;

  private Committer(Path file, SpillLog log, boolean force, Baseline start) {
    this.file = file;
    this.log = log;
    this.force = force;
    this.marks = start.marks();
    this.advancedTo = start.position();
    this.requested = start.position();
    this.written = start.position();
    this.thread = new Thread(this::run, "spillway-commit");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Loads the checkpoint and brings the log's position in line with it (see the class comment).
   *
   * @param startWithout an operator's explicit choice to start with empty watermarks when the file
   *     is missing (while the log says records were committed) or unreadable (it is set aside)
   * @throws IOException naming the file, when it is unreadable or missing and that choice was not made
   */
  static Committer open(Path file, SpillLog log, boolean force, boolean startWithout) throws IOException {
    long logCommitted = log.committed();
    DrainCheckpoint.Saved saved;
    try {
      saved = DrainCheckpoint.read(file);
    } catch (WatermarkFormatException e) {
      if (!startWithout) {
        throw new IOException("the drain's replay checkpoint " + file + " cannot be read (" + e.getMessage()
            + "); refusing to start, since without it records already delivered could be delivered again."
            + " Restore the file, or start once with startWithoutReplayState"
            + " (the daemon: JVM option -D" + SpillBufferBuilder.START_WITHOUT_REPLAY_STATE_PROPERTY + "=true) to set it aside and begin with empty watermarks", e);
      }
      Path aside = file.resolveSibling(file.getFileName() + ".unreadable-" + System.currentTimeMillis());
      Files.move(file, aside);
      LOG.warn("the drain's replay checkpoint {} cannot be read ({}); set aside as {}, starting with empty"
          + " watermarks as the operator chose", file, e.getMessage(), aside.getFileName());
      saved = null;
    }
    if (saved == null) {
      if (logCommitted >= 0 && !startWithout) {
        throw new IOException("the drain's replay checkpoint " + file + " is missing, but the spill says records"
            + " were already committed (position " + logCommitted + "); refusing to start, since without it records"
            + " already delivered could be delivered again. Restore the file, or start once with"
            + " startWithoutReplayState (the daemon: JVM option -D" + SpillBufferBuilder.START_WITHOUT_REPLAY_STATE_PROPERTY + "=true) to begin with empty watermarks");
      }
      if (logCommitted >= 0) {
        LOG.warn("the drain's replay checkpoint {} is missing; starting with empty watermarks as the operator"
            + " chose: records copied back from before this start are not recognised as replays", file);
      }
      saved = new DrainCheckpoint.Saved(logCommitted, new StreamWatermarks());
      DrainCheckpoint.write(file, saved.position(), saved.marks(), force);
    } else if (saved.position() != logCommitted) {
      LOG.info("the spill's consumer position {} differs from the drain checkpoint's {}: the checkpoint is the"
          + " authority (a crash between the two writes, or a set-aside metadata file)", logCommitted, saved.position());
      log.commit(saved.position());
    }
    return new Committer(file, log, force, new Baseline(saved.position(), saved.marks()));
  }

  /** The record at {@code position} was opened (authenticated) and is not to be opened again before it is committed. */
  void opened(long position, SealedRecord r) {
    lock.lock();
    try {
      if (position >= advancedTo) {
        pending.put(position, new Mark(r.streamId(), r.sequence(), r.sealedAtMillis()));
      }
    } finally {
      lock.unlock();
    }
  }

  /** Everything before {@code position} is acknowledged: commit it (soon, on the commit thread). */
  void request(long position) {
    lock.lock();
    try {
      if (position > requested) {
        requested = position;
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Where a repositioned reader starts and the watermarks it starts from: everything requested so
   * far counts as committed (it is acknowledged; the file follows shortly).
   */
  Baseline baseline() {
    lock.lock();
    try {
      advanceLocked(requested);
      return new Baseline(advancedTo, marks.copy());
    } finally {
      lock.unlock();
    }
  }

  /** The position last written to the checkpoint and the log. */
  long written() {
    lock.lock();
    try {
      return written;
    } finally {
      lock.unlock();
    }
  }

  private void advanceLocked(long to) {
    if (to <= advancedTo) {
      return;
    }
    for (Iterator<Map.Entry<Long, Mark>> it = pending.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Mark> e = it.next();
      if (e.getKey() >= to) {
        break;
      }
      Mark m = e.getValue();
      marks.advance(m.streamId(), m.sequence(), m.sealedAtMillis());
      it.remove();
    }
    advancedTo = to;
  }

  private void run() {
    try {
      while (awaitRequest()) {
        boolean ok = writeOnce();
        pause(ok ? MIN_WRITE_INTERVAL_NANOS : RETRY_AFTER_FAILURE_NANOS);
      }
    } catch (InterruptedException e) {
      // close() writes the last request itself
    }
  }

  /** Waits for a position not yet written; false once stopped. */
  private boolean awaitRequest() throws InterruptedException {
    lock.lock();
    try {
      while (!stopped && requested == written) {
        changed.await();
      }
      return !stopped;
    } finally {
      lock.unlock();
    }
  }

  /** Waits {@code nanos}, or less if stopped (requests in the meantime do not cut it short). */
  private void pause(long nanos) throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    lock.lock();
    try {
      for (long left = nanos; !stopped && left > 0; left = deadline - System.nanoTime()) {
        changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Writes the latest request: the file first, then the log. False if the file could not be written. */
  private boolean writeOnce() {
    io.lock();
    try {
      long target;
      StreamWatermarks snapshot;
      lock.lock();
      try {
        target = requested;
        if (target == written) {
          return true;
        }
        advanceLocked(target);
        snapshot = marks.copy();
      } finally {
        lock.unlock();
      }
      try {
        DrainCheckpoint.write(file, target, snapshot, force);
      } catch (IOException e) {
        // The log does not move either: what was acknowledged since is delivered again after a
        // restart (at-least-once), never taken as committed without its watermarks.
        LOG.error("could not write the drain's replay checkpoint {}; the consumer position stays at {}: {}",
            file, log.committed(), e.toString());
        return false;
      }
      beforeLogCommit.run();
      log.commit(target);
      lock.lock();
      try {
        written = target;
      } finally {
        lock.unlock();
      }
      return true;
    } finally {
      io.unlock();
    }
  }

  /**
   * An operator purge emptied the spill: the position goes back to the start, the watermarks stay
   * (copies of purged records are still replays).
   */
  void reset() throws IOException {
    io.lock();
    try {
      StreamWatermarks snapshot;
      lock.lock();
      try {
        advanceLocked(requested);
        pending.clear();
        requested = -1;
        advancedTo = -1;
        snapshot = marks.copy();
      } finally {
        lock.unlock();
      }
      DrainCheckpoint.write(file, -1, snapshot, force);
      log.commit(-1);
      lock.lock();
      try {
        written = -1;
      } finally {
        lock.unlock();
      }
    } finally {
      io.unlock();
    }
  }

  /** Stops the thread and writes the last request; call before the log closes. */
  @Override
  public void close() {
    lock.lock();
    try {
      stopped = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writeOnce();
  }
}
