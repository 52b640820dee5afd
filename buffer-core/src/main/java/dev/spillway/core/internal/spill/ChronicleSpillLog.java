package dev.spillway.core.internal.spill;

import dev.spillway.core.internal.NoAnalytics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.core.values.LongValue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.queue.impl.single.WriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * A {@link SpillLog} in a Chronicle Queue directory. Segments are Chronicle cycles (one {@code
 * .cq4} file each), positions are Chronicle indexes, and the durable consumer position is a named
 * value in the queue's metadata file ({@code metadata.cq4t}), mapped and shared across processes.
 *
 * <p>The directory's permissions are the caller's: Chronicle creates its files 0644.
 */
public final class ChronicleSpillLog implements SpillLog {
  static {
    NoAnalytics.ensure();
  }

  private static final Logger LOG = LoggerFactory.getLogger(ChronicleSpillLog.class);

  /** Hourly naming, 2^32 records per segment; Spillway moves the clock itself (SegmentClock). */
  private static final RollCycles ROLL = RollCycles.FAST_HOURLY;

  private static final String COMMITTED_ID = "spillway.committed";
  private static final DateTimeFormatter FILE_NAMES =
      DateTimeFormatter.ofPattern(ROLL.format()).withZone(ZoneOffset.UTC);

  private final Path dir;
  private final SegmentClock clock;
  private final SingleChronicleQueue queue;
  private final LongValue committed;
  private final FileStore fileStore;
  private final boolean writer;
  private ExcerptAppender appender;
  private ExcerptTailer tailer;
  /** Reader side: records with the metadata bit set, skipped. */
  private volatile long metadataRecords;

  private ChronicleSpillLog(Path dir, boolean writer, long blockSize, boolean sync) throws IOException {
    this.dir = dir;
    this.writer = writer;
    this.clock = new SegmentClock(dir, ROLL.lengthInMillis());
    this.fileStore = Files.getFileStore(dir);
    if (clock.segment() == 0) {
      clock.setSegment(System.currentTimeMillis() / ROLL.lengthInMillis());
    }
    if (writer) {
      setAsideHeaderlessSegments(dir);
    }
    // Chronicle loads classes named in its file headers: check them before it reads any.
    ChronicleFileCheck.setAsideCorrupt(dir);
    SingleChronicleQueueBuilder b =
        SingleChronicleQueueBuilder.binary(dir)
            .rollCycle(ROLL)
            .timeProvider(clock)
            .blockSize(blockSize)
            .readOnly(false);
    if (sync) {
      b.syncMode(SyncMode.SYNC);
    }
    this.queue = b.build();
    this.committed = queue.indexForId(COMMITTED_ID);
    if (writer) {
      // A new writer never appends to a segment an earlier writer (maybe torn by a crash) left.
      long start = Math.max(clock.segment(), System.currentTimeMillis() / ROLL.lengthInMillis());
      int last = queue.lastCycle();
      if (last != Integer.MIN_VALUE) {
        start = Math.max(start, last + 1L);
      }
      clock.setSegment(start);
      clock.force();
      releaseStaleWriteLock();
    }
  }

  /**
   * A writer killed mid-append (SIGKILL) leaves Chronicle's queue write lock held. Chronicle frees
   * it only once it sees the holder's PID dead, which a reused PID defeats; every append would
   * then wait and fail. The caller holds Spillway's own writer lock (an OS file lock, released
   * when its holder dies), so no other writer is alive: whatever holds Chronicle's lock is stale.
   */
  private void releaseStaleWriteLock() {
    try {
      java.lang.reflect.Method m = SingleChronicleQueue.class.getDeclaredMethod("writeLock");
      m.setAccessible(true);
      WriteLock lock = (WriteLock) m.invoke(queue);
      if (lock.locked()) {
        if (lock instanceof TableStoreWriteLock t) {
          t.forceUnlock();
        } else {
          lock.unlock();
        }
        LOG.warn("released the spill's write lock left by an earlier writer that did not stop cleanly");
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("could not check the spill's write lock at start: {}", e.toString());
    }
  }

  /** Where segment files without a header are moved (beside the queue, in the quarantine). */
  static final String HEADERLESS_DIR = "../quarantine/headerless";

  /**
   * A writer killed right after creating a segment file, before finishing its first header, leaves
   * a file of zeros or a first header still marked not complete. Chronicle's reader spins for ever waiting for that header when it reaches the
   * file (seen as a drain that never returns and a stop that never finishes), and an appender may
   * too. The file holds no record (the header precedes any), and the caller holds the writer
   * lock, so no live writer is creating it: move it aside, before Chronicle opens the queue.
   */
  private static void setAsideHeaderlessSegments(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.getFileName().toString().endsWith(".cq4"))::iterator) {
        if (hasHeader(f)) {
          continue;
        }
        Path aside = dir.resolve(HEADERLESS_DIR).normalize();
        Files.createDirectories(aside);
        Files.move(f, aside.resolve(f.getFileName() + "." + System.currentTimeMillis()));
        LOG.warn("segment file {} has no header (its writer was killed while creating it); moved to {}",
            f.getFileName(), aside);
      }
    }
  }

  private static boolean hasHeader(Path f) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f)) {
      java.nio.ByteBuffer first = java.nio.ByteBuffer.allocate(4);
      while (first.hasRemaining() && ch.read(first) >= 0) {
        // read the first header word
      }
      // Chronicle writes headers little-endian; bit 31 (NOT_COMPLETE) is set while one is written.
      int header = first.order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
      return first.position() == 4 && header != 0 && (header & 0x8000_0000) == 0;
    }
  }

  /**
   * Opens (creating if needed) the log in {@code dir}.
   *
   * @param writer whether this process appends; the reader-only side never moves the segment clock
   * @param blockSize Chronicle's mapping chunk; a record may be at most a quarter of it
   * @param sync whether {@link #force()} really forces (msync) or is a no-op
   */
  public static ChronicleSpillLog open(Path dir, boolean writer, long blockSize, boolean sync)
      throws IOException {
    return new ChronicleSpillLog(dir, writer, blockSize, sync);
  }

  private ExcerptAppender appender() {
    if (!writer) {
      throw new IllegalStateException("this spill log was opened read-only");
    }
    if (appender == null) {
      appender = queue.createAppender();
      appender.singleThreadedCheckDisabled(true); // the buffer's append lock serialises callers
    }
    return appender;
  }

  private ExcerptTailer tailer() {
    if (tailer == null) {
      tailer = queue.createTailer();
      tailer.singleThreadedCheckDisabled(true); // the buffer's drain lock serialises callers
    }
    return tailer;
  }

  @Override
  public long append(byte[] record) throws SpillStorageException {
    ExcerptAppender a = null;
    try {
      a = appender();
      DocumentContext dc = a.writingDocument();
      try {
        dc.wire().bytes().write(record);
      } catch (Throwable t) {
        dc.rollbackOnClose();
        throw t;
      } finally {
        dc.close();
      }
      return a.lastIndexAppended();
    } catch (Error | RuntimeException e) {
      // A full disk reaches us as InternalError from a SIGBUS on a mapped page, possibly while
      // the document's own close was writing its header. Release the queue's write lock the
      // half-written document holds, drop the appender so the next append maps afresh, and
      // report a storage fault.
      resetAppender();
      releaseWriteLockAfterFault();
      throw new SpillStorageException("append to the spill failed: " + e, e);
    }
  }

  /**
   * A write that faulted mid-document (SIGBUS on a full device) leaves Chronicle's queue write
   * lock held by this very process, and Chronicle recovers such a lock only when its holder is
   * dead: every later append would wait and then throw. Spillway allows one appending process per
   * directory (writer.lock), so a lock held by this process after its own failed write is stale;
   * release it. Chronicle exposes the lock only package-privately, hence the reflection.
   */
  private void releaseWriteLockAfterFault() {
    try {
      java.lang.reflect.Method m = SingleChronicleQueue.class.getDeclaredMethod("writeLock");
      m.setAccessible(true);
      WriteLock lock = (WriteLock) m.invoke(queue);
      if (lock.locked() && lock.isLockedByCurrentProcess(tid -> {})) {
        if (lock instanceof TableStoreWriteLock t) {
          t.forceUnlock();
        } else {
          lock.unlock();
        }
        LOG.warn("released the spill's write lock left by a failed append");
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.error("cannot release the spill's write lock after a failed append; appends will fail "
          + "until restart: {}", e.toString());
    }
  }

  @Override
  public void recoverFromFault() {
    resetAppender();
    releaseWriteLockAfterFault();
  }

  private void resetAppender() {
    if (appender != null) {
      try {
        appender.close();
      } catch (Error | RuntimeException ignored) {
        // the appender is being discarded
      }
      appender = null;
    }
  }

  @Override
  public long appendSegment() {
    return clock.segment();
  }

  @Override
  public void roll() {
    clock.setSegment(clock.segment() + 1);
    clock.force();
  }

  @Override
  public void force() {
    if (appender != null) {
      appender.sync();
    }
  }

  @Override
  public long lastForced() {
    long last = queue.lastIndexMSynced();
    return last < 0 ? -1 : last;
  }

  @Override
  public void seek(long position) {
    ExcerptTailer t = tailer();
    if (position < 0) {
      t.toStart();
      return;
    }
    if (!t.moveToIndex(position)) {
      long last = queue.lastIndex();
      if (last >= 0 && position > last) {
        t.toEnd();
      } else {
        t.toStart(); // the position was dropped or deleted: resume at the oldest record
      }
    }
  }

  @Override
  public void seekToSegmentStart(long segment) {
    if (!tailer().moveToCycle((int) segment)) {
      tailer().toStart();
    }
  }

  @Override
  public Entry next() {
    ExcerptTailer t = tailer();
    // Bounded: a run of metadata documents (Chronicle's index pages, or records someone marked as
    // metadata) ends at the next data record or the end.
    for (int i = 0; i < 1_000_000; i++) {
      try (DocumentContext dc = t.readingDocument(true)) {
        if (!dc.isPresent()) {
          return null;
        }
        Bytes<?> bytes = dc.wire().bytes();
        byte[] out = new byte[(int) bytes.readRemaining()];
        bytes.read(out);
        if (dc.isMetaData()) {
          if (looksLikeSpillRecord(out)) {
            metadataRecords++;
            LOG.warn("a spill record in segment {} carries Chronicle's metadata bit (set by someone editing the"
                + " file); skipped and counted", ROLL.toCycle(t.index()));
          }
          continue;
        }
        long index = dc.index();
        return new Entry(index, ROLL.toCycle(index), out);
      } catch (RuntimeException e) {
        throw new UnreadableSpillException(
            "the spill cannot be read in segment " + ROLL.toCycle(t.index()) + ": " + e, e);
      }
    }
    return null;
  }

  /** Spillway records start with the envelope magic "SPWL"; Chronicle's own metadata never does. */
  static boolean looksLikeSpillRecord(byte[] b) {
    return b.length >= 6 && b[0] == 'S' && b[1] == 'P' && b[2] == 'W' && b[3] == 'L';
  }

  @Override
  public long metadataRecordsSkipped() {
    return metadataRecords;
  }

  /**
   * As {@link #scanSegment(long, java.util.function.Consumer)}, also handing {@code
   * metadataRecord} every record of the segment marked as Chronicle metadata that looks like a
   * Spillway record (skipped by every reader: tampering).
   */
  public void scanSegment(long segment, java.util.function.Consumer<Entry> visitor,
      java.util.function.Consumer<Entry> metadataRecord) {
    try (ExcerptTailer t = queue.createTailer()) {
      if (!t.moveToCycle((int) segment)) {
        return;
      }
      for (int i = 0; i < Integer.MAX_VALUE; i++) {
        try (DocumentContext dc = t.readingDocument(true)) {
          if (!dc.isPresent() || ROLL.toCycle(t.index()) != segment) {
            return;
          }
          Bytes<?> bytes = dc.wire().bytes();
          byte[] out = new byte[(int) bytes.readRemaining()];
          bytes.read(out);
          if (dc.isMetaData()) {
            if (looksLikeSpillRecord(out)) {
              metadataRecord.accept(new Entry(t.index(), segment, out));
            }
            continue;
          }
          visitor.accept(new Entry(dc.index(), segment, out));
        } catch (RuntimeException e) {
          throw new UnreadableSpillException("segment " + segment + " cannot be read: " + e, e);
        }
      }
    }
  }

  @Override
  public long readPosition() {
    return tailer().index();
  }

  @Override
  public long committed() {
    return committed.getVolatileValue() - 1;
  }

  @Override
  public void commit(long position) {
    committed.setOrderedValue(position + 1);
  }

  @Override
  public long segmentOf(long position) {
    return ROLL.toCycle(position);
  }

  @Override
  public List<Long> segments() {
    queue.refreshDirectoryListing();
    int first = queue.firstCycle();
    int last = queue.lastCycle();
    if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE || first > last) {
      return List.of();
    }
    return new ArrayList<>(queue.listCyclesBetween(first, last));
  }

  /** The file of a segment, for tests and {@code spill inspect}. */
  public Path segmentFile(long segment) {
    return dir.resolve(FILE_NAMES.format(Instant.ofEpochMilli(segment * ROLL.lengthInMillis())) + ".cq4");
  }

  @Override
  public void deleteSegment(long segment) throws SpillStorageException {
    if (writer && segment >= clock.segment()) {
      throw new IllegalStateException("segment " + segment + " is still being appended to");
    }
    Path file = segmentFile(segment);
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new SpillStorageException("cannot delete spill segment " + file.getFileName(), e);
    }
    queue.refreshDirectoryListing();
  }

  @Override
  public void scanSegment(long segment, java.util.function.Consumer<Entry> visitor) {
    try (ExcerptTailer t = queue.createTailer()) {
      if (!t.moveToCycle((int) segment)) {
        return;
      }
      while (true) {
        try (DocumentContext dc = t.readingDocument()) {
          if (!dc.isPresent() || ROLL.toCycle(dc.index()) != segment) {
            return;
          }
          Bytes<?> bytes = dc.wire().bytes();
          byte[] out = new byte[(int) bytes.readRemaining()];
          bytes.read(out);
          visitor.accept(new Entry(dc.index(), segment, out));
        }
      }
    }
  }

  /** Bytes one file of the log occupies on the device. */
  public long allocatedBytes(Path file) {
    return AllocatedBytes.of(file);
  }

  @Override
  public long allocatedBytes() {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(AllocatedBytes::of).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public long usableSpace() {
    try {
      return fileStore.getUsableSpace();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    try {
      resetAppender();
      if (tailer != null) {
        tailer.close();
      }
      committed.close();
      queue.close();
    } finally {
      try {
        clock.close();
      } catch (IOException ignored) {
        // closing a read-write mapping has nothing to report
      }
    }
  }
}
