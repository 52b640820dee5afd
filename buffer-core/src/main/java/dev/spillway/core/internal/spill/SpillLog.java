package dev.spillway.core.internal.spill;

import java.util.List;

/**
 * Where sealed records live: an append-only log of opaque byte records, cut into segments, with
 * one durable consumer position. The records are envelopes (dev.spillway.core.internal.seal); the log never
 * sees plaintext. {@link ChronicleSpillLog} keeps it in a Chronicle Queue on one machine; a
 * distributed log (Kafka: a segment is a partition epoch, the position an offset, the commit a
 * consumer-group offset) can carry the same envelopes, because sequence numbers and key records
 * are the envelope's own and sealing needs no storage lock.
 *
 * <p>One writer and one reader per log, possibly in two processes. Not thread-safe: the buffer
 * calls the writer side under its append lock and the reader side from its drain lock. The
 * housekeeping methods ({@link #segments}, {@link #scanSegment}, {@link #deleteSegment}, {@link
 * #allocatedBytes}) may be called from both sides at once: drop-oldest runs them on the writer
 * side while the reader may be deleting drained segments.
 */
public interface SpillLog extends AutoCloseable {
  /** A record read back. */
  record Entry(long position, long segment, byte[] bytes) {}

  // --- writer side ---

  /** Appends one record and returns its position. */
  long append(byte[] record) throws SpillStorageException;

  /** The segment the next append goes to. */
  long appendSegment();

  /** Makes later appends go to a new segment. */
  void roll();

  /**
   * Recovers the writer side after a storage fault reported late (an asynchronous InternalError
   * from a SIGBUS on a mapped page): drops the appender and releases what it held.
   */
  void recoverFromFault();

  /** Forces appended records to the storage device. */
  void force();

  /** The position of the last record {@link #force()} reached, or -1. */
  long lastForced();

  // --- reader side ---

  /**
   * Positions the reader at the record at {@code position} (a position {@link #next()} returned),
   * or at the start of the log for -1 or a position whose segment was deleted.
   */
  void seek(long position);

  /** Positions the reader at the first record of {@code segment}. */
  void seekToSegmentStart(long segment);

  /**
   * The next record, or null when the reader has caught up with the writer.
   *
   * @throws UnreadableSpillException the log's structure cannot be read here (damaged or edited
   *     files); the reader may move on to a later segment
   */
  Entry next();

  /**
   * Records the reader skipped because the storage marked them as its own metadata although they
   * look like Spillway records (Chronicle's metadata bit set on a sealed record: tampering). Since
   * open.
   */
  default long metadataRecordsSkipped() {
    return 0;
  }

  /** The position the next {@link #next()} reads from (after the last record read). */
  long readPosition();

  /** The durable consumer position: everything before it was acknowledged. -1 if none yet. */
  long committed();

  /** Moves the durable consumer position. */
  void commit(long position);

  /** The segment a position belongs to. */
  long segmentOf(long position);

  // --- housekeeping ---

  /** Segments on disk, oldest first. */
  List<Long> segments();

  /** Deletes a segment the writer no longer appends to. */
  void deleteSegment(long segment) throws SpillStorageException;

  /** Reads every record of one segment with a reader of its own (the main reader does not move). */
  void scanSegment(long segment, java.util.function.Consumer<Entry> visitor);

  /** Bytes the log occupies on the device (allocated blocks, not file lengths). */
  long allocatedBytes();

  /** Free bytes on the device that holds the log. */
  long usableSpace();

  @Override
  void close();
}
