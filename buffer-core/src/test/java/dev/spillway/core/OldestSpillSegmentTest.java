package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.TestKeys;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drop-oldest's victim on its own, over a real Chronicle log written by a real appender: which
 * segment goes, what it counts as lost (batches only, not key records; only what is not yet
 * acknowledged; of that, what is not yet read), and what it tells the engine. No reader, no
 * memory tier: the engine is a recording stand-in with positions the test chooses.
 */
class OldestSpillSegmentTest {
  @TempDir Path tmp;
  private ChronicleSpillLog log;
  private SpillAppender appender;
  private final List<long[]> dropped = new ArrayList<>();
  private long committed;
  private long readPosition = -1;

  private final OldestSpillSegment.Engine engine = new OldestSpillSegment.Engine() {
    @Override
    public long committedPosition() {
      return committed;
    }

    @Override
    public long readPosition() {
      return readPosition;
    }

    @Override
    public void segmentDropped(long segment, long unacknowledged, long unread) {
      dropped.add(new long[] {segment, unacknowledged, unread});
    }
  };

  @AfterEach
  void tearDown() {
    if (appender != null) {
      appender.stopThreads();
    }
    if (log != null) {
      log.close();
    }
  }

  private OldestSpillSegment victim() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path queue = tmp.resolve("spill/queue");
    Files.createDirectories(queue);
    SpillBufferBuilder cfg = SpillBuffer.builder().writerKeys(keys.issuer()).directory(tmp.resolve("spill"))
        .fsync(FsyncPolicy.none()).compression(Compression.NONE).segmentBytes(64 << 10).snapshot();
    log = ChronicleSpillLog.open(queue, true, BufferEngine.LARGEST_CHUNK, false);
    DiskBudget budget = new DiskBudget(new DiskBudget.Device() {
      @Override
      public long allocatedBytes() {
        return 0;
      }

      @Override
      public long usableSpace() {
        return Long.MAX_VALUE;
      }
    }, cfg.maxDiskBytes, cfg.minFreeDiskBytes, cfg.freeSpaceGuard, cfg.overflow, cfg.clock.millis());
    appender = new SpillAppender(cfg, log, budget, new ReentrantLock(), new SpillAppender.Hooks() {
      @Override
      public void reserve(long sealedAtMillis) {}

      @Override
      public void unreserve() {}

      @Override
      public void newKeyEpoch() {}

      @Override
      public void storageFault() {}
    });
    return new OldestSpillSegment(log, appender, null, cfg.clock, engine);
  }

  /** Appends {@code n} batches of 20 kB (about three to a 64 KiB segment); returns their positions. */
  private List<Long> append(long fromId, int n) throws Exception {
    List<Long> positions = new ArrayList<>();
    for (long id = fromId; id < fromId + n; id++) {
      appender.awaitKey();
      positions.add(appender.append(PayloadType.OTLP_TRACES,
          Sealer.compress(Codec.NONE, SpillFixtures.payload(id, 20_000)), SpillFixtures.NOTHING_TO_DROP));
    }
    return positions;
  }

  private List<Long> batchesIn(long segment, List<Long> positions) {
    return positions.stream().filter(p -> log.segmentOf(p) == segment).toList();
  }

  @Test
  void drop_nothingAcknowledgedOrRead_countsEveryBatchOfTheOldestSegmentButNotItsKeyRecord() throws Exception {
    OldestSpillSegment victim = victim();
    List<Long> positions = append(0, 9);
    List<Long> segments = log.segments();
    assertThat(segments.size()).isGreaterThanOrEqualTo(3);
    long oldest = segments.get(0);
    int inOldest = batchesIn(oldest, positions).size();
    assertThat(inOldest).isBetween(1, 4);

    assertThat(victim.canDrop()).isTrue();
    victim.drop();

    assertThat(log.segments()).doesNotContain(oldest).hasSize(segments.size() - 1);
    assertThat(dropped).hasSize(1);
    assertThat(dropped.get(0)).containsExactly(oldest, inOldest, inOldest);
  }

  @Test
  void drop_partlyAcknowledgedAndRead_countsOnlyWhatIsNotAcknowledged_andOfThatWhatIsUnread() throws Exception {
    OldestSpillSegment victim = victim();
    List<Long> positions = append(0, 9);
    long oldest = log.segments().get(0);
    List<Long> inOldest = batchesIn(oldest, positions);
    assertThat(inOldest.size()).as("the test needs 3 batches in the first segment").isGreaterThanOrEqualTo(3);
    committed = inOldest.get(1); // the first batch acknowledged, the second not
    readPosition = inOldest.get(2); // the second read (out with the consumer), the rest unread

    victim.drop();

    long unacknowledged = inOldest.size() - 1;
    long unread = inOldest.size() - 2;
    assertThat(dropped).hasSize(1);
    assertThat(dropped.get(0)).containsExactly(oldest, unacknowledged, unread);
  }

  @Test
  void drop_theSegmentBeingAppended_rollsFirst_soAppendsGoOnInANewSegment() throws Exception {
    OldestSpillSegment victim = victim();
    List<Long> first = append(0, 1);
    long only = log.segments().get(0);
    assertThat(log.segments()).containsExactly(only);
    assertThat(victim.canDrop()).isTrue();

    victim.drop();

    assertThat(log.segments()).doesNotContain(only);
    assertThat(dropped.get(0)).containsExactly(only, 1, 1);
    List<Long> next = append(1, 1);
    assertThat(log.segmentOf(next.get(0))).isGreaterThan(log.segmentOf(first.get(0)));
    assertThat(log.segments()).containsExactly(log.segmentOf(next.get(0)));
  }

  @Test
  void canDrop_nothingWritten_false_andDropIsHarmless() throws Exception {
    OldestSpillSegment victim = victim();
    assertThat(victim.canDrop()).isFalse();
    victim.drop();
    assertThat(dropped).isEmpty();
  }
}
