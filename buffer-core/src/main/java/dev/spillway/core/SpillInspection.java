package dev.spillway.core;

import dev.spillway.core.internal.NoAnalytics;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.internal.seal.EnvelopeException;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.KeyRecord;
import dev.spillway.core.internal.seal.OpenedBatch;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.internal.seal.StreamWatermarks;
import dev.spillway.core.internal.seal.SealedRecord;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import dev.spillway.core.internal.spill.QuarantineFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a spill directory holds, for operators ({@code spillway spill inspect}). Without a reader
 * key it reads only what is public: segments, key epochs, record counts and sizes. With one, it
 * also opens and verifies every sealed batch (payloads are decrypted in memory and discarded, never
 * shown). It moves no position and deletes nothing; like every process that opens the spill, it
 * sets aside Chronicle files whose headers are corrupt (SPILL.md). Run it while no writer appends.
 */
public final class SpillInspection {
  static {
    NoAnalytics.ensure();
  }

  /** One key epoch as its key record describes it. */
  public record Epoch(String stream, long epoch, String provider, String keyRef, long startedAtMillis) {}

  /** One segment (a Chronicle cycle file). */
  public record Segment(
      long id, String file, long allocatedBytes, long keyRecords, long batches, long sealedBytes, List<Epoch> epochs) {}

  /**
   * @param committed the durable consumer position (-1 if none)
   * @param verified whether a reader key was given and every batch was opened
   * @param opened batches that authenticated and decrypted
   * @param failures batches that did not, by reason
   * @param unavailable batches skipped because the key provider could not answer
   * @param quarantineBytes size of the quarantine file (0 if none)
   * @param missing records missing from their writer streams (sequence gaps between the batches
   *     present; before a stream's first batch too when nothing was ever committed, so no drained
   *     segment can have been deleted): records deleted from the spill
   * @param metadataRecords records carrying Chronicle's metadata bit (every reader skips them:
   *     tampering); visible without a reader key
   * @param unreadableSegments segments whose structure could not be read to the end (damaged or
   *     edited); visible without a reader key
   * @param replayed batches at or after the committed position whose sequence is at or below the
   *     drain checkpoint's watermark for their stream: drained records copied back (the drain
   *     quarantines them)
   * @param checkpointProblem why the drain checkpoint could not be read, or null (no checkpoint yet
   *     is not a problem while nothing was committed)
   */
  public record Report(
      List<Segment> segments,
      long committed,
      boolean verified,
      long opened,
      Map<QuarantineReason, Long> failures,
      long unavailable,
      long quarantineBytes,
      long missing,
      long metadataRecords,
      long unreadableSegments,
      long replayed,
      String checkpointProblem) {

    public long batches() {
      return segments.stream().mapToLong(Segment::batches).sum();
    }

    public long failed() {
      return failures.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private SpillInspection() {}

  /**
   * Inspects {@code directory} (as given to {@link SpillBufferBuilder#directory}).
   *
   * @param reader a reader key to verify every batch with, or null to read only public metadata
   * @param queueName the queue name the records were sealed for (needed to open them)
   * @throws IOException if the directory is not a spill directory
   */
  public static Report inspect(Path directory, DataKeyUnwrapper reader, String queueName)
      throws IOException {
    return inspect(directory, reader, DeploymentId.UNNAMED, queueName);
  }

  /**
   * As {@link #inspect(Path, DataKeyUnwrapper, String)}, for records bound to {@code deployment}.
   * Sequence numbers are checked within what is present (records of drained, deleted segments are
   * not there to check): a gap between two batches of a stream is counted as missing.
   */
  public static Report inspect(
      Path directory, DataKeyUnwrapper reader, DeploymentId deployment, String queueName)
      throws IOException {
    return inspect(directory, reader, deployment, queueName, IGNORE_OPENED);
  }

  private static final java.util.function.BiConsumer<dev.spillway.core.PayloadType, byte[]> IGNORE_OPENED =
      (type, payload) -> {};

  /**
   * As {@link #inspect(Path, DataKeyUnwrapper, DeploymentId, String)}, handing each opened batch's
   * payload type and plaintext to {@code onOpened} (with a reader key only), so a caller can count
   * what the spill holds. The plaintext is the caller's for the call only: count it, never keep
   * or print it.
   */
  public static Report inspect(Path directory, DataKeyUnwrapper reader, DeploymentId deployment, String queueName,
      java.util.function.BiConsumer<dev.spillway.core.PayloadType, byte[]> onOpened) throws IOException {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(onOpened, "onOpened");
    Path queueDir = directory.resolve(BufferEngine.QUEUE_DIR);
    if (!Files.isDirectory(queueDir)) {
      throw new IOException(directory + " is not a Spillway spill directory (no " + BufferEngine.QUEUE_DIR + "/)");
    }
    Opener opener = reader == null
        ? null
        : new Opener(reader, deployment, queueName, Opener.DEFAULT_MAX_CACHED_KEYS, new StreamWatermarks());
    long[] missing = new long[1];
    long[] metadataRecords = new long[1];
    long[] replayed = new long[1];
    long unreadableSegments = 0;
    String checkpointProblem = null;
    DrainCheckpoint.Saved checkpoint = null;
    try {
      checkpoint = DrainCheckpoint.read(directory.resolve(DrainCheckpoint.FILE));
    } catch (IOException e) {
      checkpointProblem = e.getMessage();
    }
    Map<QuarantineReason, Long> failures = new EnumMap<>(QuarantineReason.class);
    long[] opened = new long[1];
    long[] unavailable = new long[1];
    List<Segment> segments = new ArrayList<>();
    long committed;
    try (ChronicleSpillLog log = ChronicleSpillLog.open(queueDir, false, BufferEngine.LARGEST_CHUNK, false)) {
      committed = log.committed();
      if (checkpoint == null && committed >= 0 && checkpointProblem == null) {
        checkpointProblem = "the drain checkpoint " + directory.resolve(DrainCheckpoint.FILE)
            + " is missing although records were committed";
      }
      boolean nothingDrained = committed < 0;
      // The drain's authority on what is committed (see Committer): records from its position on
      // must be above its watermarks, or they were drained before and copied back.
      long replayFrom = checkpoint != null ? checkpoint.position() : Long.MAX_VALUE;
      StreamWatermarks committedMarks = checkpoint != null ? checkpoint.marks() : null;
      for (long id : log.segments()) {
        long[] counts = new long[3]; // key records, batches, sealed bytes
        Map<String, Epoch> epochs = new LinkedHashMap<>();
        try {
        log.scanSegment(id, e -> {
          EnvelopeFormat.Envelope env;
          try {
            env = EnvelopeFormat.parse(e.bytes());
          } catch (EnvelopeException ex) {
            failures.merge(ex.reason(), 1L, Long::sum);
            return;
          }
          if (env instanceof KeyRecord k) {
            counts[0]++;
            epochs.putIfAbsent(k.epochId().toString(), new Epoch(
                k.epochId().toString().substring(0, 32), k.epoch(), k.wrapped().provider().configName(),
                k.wrapped().keyRef(), k.startedAtMillis()));
            if (opener != null) {
              opener.accept(k);
            }
            return;
          }
          counts[1]++;
          counts[2] += e.bytes().length;
          if (opener != null) {
            try {
              SealedRecord sr = (SealedRecord) env;
              // Decompressed only when the caller counts what the batches hold.
              OpenedBatch b = opener.open(sr, onOpened != IGNORE_OPENED);
              opened[0]++;
              if (b.payload() != null) {
                onOpened.accept(b.payloadType(), b.payload());
              }
              if (committedMarks != null && e.position() >= replayFrom) {
                try {
                  committedMarks.check(sr.streamId(), sr.sequence(), sr.sealedAtMillis());
                } catch (dev.spillway.core.internal.seal.OutOfOrderRecordException replay) {
                  replayed[0]++;
                }
              }
              if (!b.firstOfStream() || nothingDrained) {
                missing[0] += b.missingBefore();
              }
            } catch (EnvelopeException ex) {
              failures.merge(ex.reason(), 1L, Long::sum);
            } catch (KeyUnavailableException ex) {
              unavailable[0]++;
            }
          }
        }, meta -> metadataRecords[0]++);
        } catch (dev.spillway.core.internal.spill.UnreadableSpillException ex) {
          unreadableSegments++;
        }
        Path file = log.segmentFile(id);
        segments.add(new Segment(id, file.getFileName().toString(), allocated(log, file),
            counts[0], counts[1], counts[2], List.copyOf(epochs.values())));
      }
    }
    Path quarantine = directory.resolve(BufferEngine.QUARANTINE_DIR).resolve(QuarantineFile.FILE);
    long quarantineBytes = Files.exists(quarantine) ? Files.size(quarantine) : 0;
    boolean verified = opener != null && failures.isEmpty() && unavailable[0] == 0 && missing[0] == 0
        && metadataRecords[0] == 0 && unreadableSegments == 0 && replayed[0] == 0 && checkpointProblem == null;
    return new Report(List.copyOf(segments), committed, verified, opened[0], Map.copyOf(failures),
        unavailable[0], quarantineBytes, missing[0], metadataRecords[0], unreadableSegments, replayed[0],
        checkpointProblem);
  }

  private static long allocated(ChronicleSpillLog log, Path file) {
    return log.allocatedBytes(file);
  }
}
