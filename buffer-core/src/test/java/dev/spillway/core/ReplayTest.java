package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.internal.seal.TestKeys;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13, replay and deletion on real Chronicle files: the drain's checkpoint (committed position
 * and per-stream watermarks) survives restarts, so drained records copied back are quarantined;
 * records hidden or cut out of a segment are counted as gaps, by the engine and by {@code spill
 * inspect}; a damaged checkpoint stops the drain with a clear error; a crash between the checkpoint
 * and the log's own position loses nothing and delivers nothing twice.
 */
class ReplayTest {
  @TempDir Path tmp;

  private static final DateTimeFormatter CYCLE_NAMES =
      DateTimeFormatter.ofPattern("yyyyMMdd-HH'F'").withZone(ZoneOffset.UTC);

  @Test
  void drainedSegmentCopiedBackAfterARestart_quarantinedAndCounted_notDelivered() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path dir = tmp.resolve("spill");
    try (SpillBuffer b = SpillFixtures.builder(dir, keys).durability(Durability.DURABLE).build()) {
      assertThat(SpillFixtures.offerAll(b, 0, 5, 300)).isEqualTo(5);
    }
    Path stash = tmp.resolve("stash");
    Files.createDirectories(stash);
    List<Path> written = segmentFiles(dir);
    assertThat(written).hasSize(1);
    Files.copy(written.get(0), stash.resolve("drained.cq4"));
    try (SpillBuffer b = SpillFixtures.builder(dir, keys).durability(Durability.DURABLE).build()) {
      assertThat(SpillFixtures.drain(b, 5, Duration.ofSeconds(10))).containsExactly(0L, 1L, 2L, 3L, 4L);
    }
    assertThat(dir.resolve(DrainCheckpoint.FILE)).exists();
    // The attacker puts the drained segment back under a later cycle name than any in the spill.
    Files.copy(stash.resolve("drained.cq4"), laterSegmentName(dir, 5));

    // spill inspect sees it too: as replays against the drain checkpoint, or (while the original
    // segment is still there) as records out of order within what is present.
    SpillInspection.Report report = SpillInspection.inspect(dir, keys.unwrapper(), DeploymentId.UNNAMED, "spillway");
    assertThat(report.replayed() + report.failures().getOrDefault(QuarantineReason.OUT_OF_ORDER, 0L))
        .isEqualTo(5);
    assertThat(report.verified()).isFalse();

    List<QuarantineReason> reasons = java.util.Collections.synchronizedList(new ArrayList<>());
    BufferObserver observer = new BufferObserver() {
      @Override
      public void onQuarantine(QuarantineReason reason) {
        reasons.add(reason);
      }
    };
    try (SpillBuffer b = SpillFixtures.builder(dir, keys).durability(Durability.DURABLE).observer(observer).build()) {
      assertThat(SpillFixtures.drain(b, 1, Duration.ofSeconds(3))).isEmpty();
      assertThat(b.metrics().delivered()).isZero();
      assertThat(b.metrics().quarantined()).isEqualTo(5);
    }
    assertThat(reasons).hasSize(5).containsOnly(QuarantineReason.OUT_OF_ORDER);
  }

  @Test
  void recordWithTheMetadataBitSet_skippedCountedAndReportedAsAGap_byTheEngineAndSpillInspect() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path dir = tmp.resolve("spill");
    writeOneStream(dir, keys, 9);
    Path first = segmentFiles(dir).get(0);
    int header = batchHeaderOffsets(first).get(1); // the second batch of the stream
    editByte(first, header + 3, b -> (byte) (b | 0x40)); // Chronicle's META_DATA bit (little-endian bit 30)

    SpillInspection.Report report = SpillInspection.inspect(dir, keys.unwrapper(), DeploymentId.UNNAMED, "spillway");
    assertThat(report.metadataRecords()).isEqualTo(1);
    assertThat(report.missing()).isEqualTo(1);
    assertThat(report.verified()).isFalse();

    try (SpillBuffer b = SpillFixtures.builder(dir, keys).build()) {
      List<Long> ids = SpillFixtures.drain(b, 8, Duration.ofSeconds(10));
      assertThat(ids).hasSize(8).doesNotContain(1L);
      assertThat(b.metrics().metadataRecords()).isEqualTo(1);
      assertThat(b.metrics().missing()).isEqualTo(1);
    }
  }

  @Test
  void zeroedHeaderCutsTheRestOfASegment_tornAndTheMissingRecordsCounted_byTheEngineAndSpillInspect()
      throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path dir = tmp.resolve("spill");
    writeOneStream(dir, keys, 9);
    Path first = segmentFiles(dir).get(0);
    List<Integer> headers = batchHeaderOffsets(first);
    assertThat(headers.size()).as("batches in the first segment").isGreaterThanOrEqualTo(3);
    int cut = headers.size() - 1; // records cut: the first segment's batches from #1 on
    for (int i = 0; i < 4; i++) {
      editByte(first, headers.get(1) + i, b -> (byte) 0);
    }

    SpillInspection.Report report = SpillInspection.inspect(dir, keys.unwrapper(), DeploymentId.UNNAMED, "spillway");
    assertThat(report.missing()).isEqualTo(cut);
    assertThat(report.verified()).isFalse();

    try (SpillBuffer b = SpillFixtures.builder(dir, keys).build()) {
      List<Long> ids = SpillFixtures.drain(b, 9 - cut, Duration.ofSeconds(10));
      assertThat(ids).hasSize(9 - cut).startsWith(0L);
      assertThat(b.metrics().torn()).isEqualTo(1);
      assertThat(b.metrics().missing()).isEqualTo(cut);
    }
  }

  @Test
  void corruptCheckpoint_refusesToStartNamingTheFile_unlessTheOperatorChoosesToStartWithoutIt() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path dir = tmp.resolve("spill");
    try (SpillBuffer b = SpillFixtures.builder(dir, keys).durability(Durability.DURABLE).build()) {
      SpillFixtures.offerAll(b, 0, 3, 300);
      assertThat(SpillFixtures.drain(b, 3, Duration.ofSeconds(10))).hasSize(3);
    }
    Path checkpoint = dir.resolve(DrainCheckpoint.FILE);
    editByte(checkpoint, 20, b -> (byte) (b ^ 1));

    assertThatThrownBy(() -> SpillFixtures.builder(dir, keys).build())
        .isInstanceOf(IOException.class)
        .hasMessageContaining(checkpoint.toString())
        .hasMessageContaining("checksum mismatch")
        .hasMessageContaining("refusing to start");
    // The ingest role never needs the file: a writer starts.
    try (SpillWriter w = SpillBuffer.builder().directory(dir).writerKeys(keys.issuer()).fsync(FsyncPolicy.none())
        .buildWriter()) {
      assertThat(w.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(3, 300)).accepted()).isTrue();
    }
    // Deleted instead: still refused, since the spill says records were committed.
    Files.move(checkpoint, tmp.resolve("kept"));
    assertThatThrownBy(() -> SpillFixtures.builder(dir, keys).build())
        .isInstanceOf(IOException.class)
        .hasMessageContaining(checkpoint.toString())
        .hasMessageContaining("is missing");
    // The documented recovery: the operator starts once without it.
    Files.move(tmp.resolve("kept"), checkpoint);
    try (SpillBuffer b = SpillFixtures.builder(dir, keys).startWithoutReplayState(true).build()) {
      assertThat(SpillFixtures.drain(b, 1, Duration.ofSeconds(10))).containsExactly(3L);
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith(DrainCheckpoint.FILE + ".unreadable-"));
    }
    try (SpillBuffer b = SpillFixtures.builder(dir, keys).build()) { // a good checkpoint again
      assertThat(SpillFixtures.drain(b, 1, Duration.ofSeconds(1))).isEmpty();
    }
  }

  @Test
  void killedBetweenTheCheckpointAndTheLogPosition_nothingLost_nothingDeliveredTwice_noFalseReplay()
      throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path dir = tmp.resolve("spill");
    int count = 20;
    Process child = new ProcessBuilder(SpillFixtures.javaCommand(SpillChild.class, "checkpoint-crash",
            dir.toString(), keys.dir().toString(), Integer.toString(count), "6"))
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    Set<Long> before = new HashSet<>();
    boolean halted = false;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.startsWith("DLV ")) {
          before.add(Long.parseLong(line.substring(4)));
        } else if (line.equals("HALT")) {
          halted = true;
        }
      }
    }
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(halted).isTrue();
    assertThat(child.exitValue()).isEqualTo(77);
    // The crash fell between the two writes: the checkpoint is ahead of the log's position.
    DrainCheckpoint.Saved saved = DrainCheckpoint.read(dir.resolve(DrainCheckpoint.FILE));
    long logCommitted;
    try (ChronicleSpillLog log = ChronicleSpillLog.open(dir.resolve(BufferEngine.QUEUE_DIR), false,
        BufferEngine.LARGEST_CHUNK, false)) {
      logCommitted = log.committed();
    }
    assertThat(saved.position()).isGreaterThan(logCommitted);

    List<Long> after;
    BufferMetrics m;
    try (SpillBuffer b = SpillFixtures.builder(dir, keys).durability(Durability.DURABLE).build()) {
      after = SpillFixtures.drain(b, count, Duration.ofSeconds(5));
      m = b.metrics();
    }
    Set<Long> all = new HashSet<>(before);
    all.addAll(after);
    assertThat(all).as("every offered batch delivered").hasSize(count);
    assertThat(m.quarantined()).as("no committed record taken for a replay").isZero();
    assertThat(m.missing()).isZero();
    // Acknowledged before the checkpoint was written: never again. At most the batch or two
    // acknowledged while the checkpoint was being written may come back (at-least-once).
    Set<Long> again = new HashSet<>(after);
    again.retainAll(before);
    assertThat(again.size()).isLessThanOrEqualTo(2);
    assertThat(after).doesNotContain(0L, 1L, 2L);
  }

  /** One writer session (one stream) that rolls segments every few batches. */
  private static void writeOneStream(Path dir, TestKeys keys, int count) throws Exception {
    try (SpillWriter w = SpillBuffer.builder().directory(dir).writerKeys(keys.issuer()).fsync(FsyncPolicy.none())
        .compression(Compression.NONE).segmentBytes(64 << 10).buildWriter()) {
      assertThat(SpillFixtures.offerAll(w, 0, count, 25_000)).isEqualTo(count);
    }
    assertThat(segmentFiles(dir).size()).isGreaterThanOrEqualTo(3);
  }

  static List<Path> segmentFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve(BufferEngine.QUEUE_DIR))) {
      return files.filter(p -> p.getFileName().toString().endsWith(".cq4")).sorted().toList();
    }
  }

  /** A segment file name {@code hours} cycles after the newest in the spill. */
  private static Path laterSegmentName(Path dir, int hours) throws IOException {
    List<Path> files = segmentFiles(dir);
    String newest = files.get(files.size() - 1).getFileName().toString().replace(".cq4", "");
    java.time.Instant at = java.time.LocalDateTime.parse(newest,
        DateTimeFormatter.ofPattern("yyyyMMdd-HH'F'")).toInstant(ZoneOffset.UTC);
    return dir.resolve(BufferEngine.QUEUE_DIR).resolve(CYCLE_NAMES.format(at.plus(Duration.ofHours(hours))) + ".cq4");
  }

  /**
   * Offsets of the Chronicle document headers of the sealed batches in a segment file: each batch
   * starts with the envelope magic "SPWL", version 2, type 2, right after its 4-byte header.
   */
  static List<Integer> batchHeaderOffsets(Path file) throws IOException {
    byte[] b = Files.readAllBytes(file);
    List<Integer> out = new ArrayList<>();
    for (int i = 4; i + 6 <= b.length; i++) {
      if (b[i] == 'S' && b[i + 1] == 'P' && b[i + 2] == 'W' && b[i + 3] == 'L' && b[i + 4] == 2 && b[i + 5] == 2) {
        out.add(i - 4);
      }
    }
    return out;
  }

  static void editByte(Path file, int offset, java.util.function.UnaryOperator<Byte> edit) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
        java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
      ch.read(one, offset);
      one.put(0, edit.apply(one.get(0)));
      one.rewind();
      ch.write(one, offset);
    }
  }
}
