package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.MutableClock;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.TestKeys;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The appender on its own, over a real Chronicle log: no reader, no memory tier, no engine. A
 * device of fixed numbers stands for the disk budget's measurements where the test is about the
 * budget.
 */
class SpillAppenderTest {
  @TempDir Path tmp;
  private ChronicleSpillLog log;
  private SpillAppender appender;
  private final List<String> hooks = new ArrayList<>();

  private final SpillAppender.Hooks recording = new SpillAppender.Hooks() {
    @Override
    public void reserve(long sealedAtMillis) {
      hooks.add("reserve");
    }

    @Override
    public void unreserve() {
      hooks.add("unreserve");
    }

    @Override
    public void newKeyEpoch() {
      hooks.add("epoch");
    }

    @Override
    public void storageFault() {
      hooks.add("fault");
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

  private SpillAppender appender(SpillBufferBuilder b, DiskBudget.Device device) throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path queue = tmp.resolve("spill/queue");
    Files.createDirectories(queue);
    SpillBufferBuilder cfg = b.writerKeys(keys.issuer()).directory(tmp.resolve("spill")).fsync(FsyncPolicy.none())
        .compression(Compression.NONE).snapshot();
    log = ChronicleSpillLog.open(queue, true, BufferEngine.LARGEST_CHUNK, false);
    DiskBudget.Device dev = device != null ? device : new DiskBudget.Device() {
      @Override
      public long allocatedBytes() {
        return log.allocatedBytes();
      }

      @Override
      public long usableSpace() {
        return log.usableSpace();
      }
    };
    DiskBudget budget = new DiskBudget(dev, cfg.maxDiskBytes, cfg.minFreeDiskBytes, cfg.freeSpaceGuard, cfg.overflow,
        cfg.clock.millis());
    appender = new SpillAppender(cfg, log, budget, new ReentrantLock(), recording);
    return appender;
  }

  private long append(long id, int size) throws Exception {
    appender.awaitKey(); // as the engine does, under no lock: append itself never waits for a key
    return appender.append(PayloadType.OTLP_TRACES,
        Sealer.compress(Codec.NONE, SpillFixtures.payload(id, size)), SpillFixtures.NOTHING_TO_DROP);
  }

  /** Per segment, the record types in order (1: key record, 2: batch). */
  private List<List<Integer>> recordTypes() {
    List<List<Integer>> out = new ArrayList<>();
    for (long s : log.segments()) {
      List<Integer> types = new ArrayList<>();
      log.scanSegment(s, e -> types.add((int) e.bytes()[5]));
      out.add(types);
    }
    return out;
  }

  @Test
  void rollsBySize_everySegmentStartsWithItsKeyRecord_oneEpoch() throws Exception {
    appender(SpillBuffer.builder().segmentBytes(64 << 10), null);
    long last = -1;
    for (long id = 0; id < 10; id++) {
      long position = append(id, 20_000);
      assertThat(position).isGreaterThan(last);
      last = position;
    }
    assertThat(appender.lastAppended()).isEqualTo(last);
    List<List<Integer>> segments = recordTypes();
    assertThat(segments.size()).isGreaterThanOrEqualTo(3);
    for (List<Integer> types : segments) {
      assertThat(types.get(0)).as("a segment opens with its key record").isEqualTo(1);
      assertThat(types.subList(1, types.size())).containsOnly(2);
      assertThat(types.size() - 1).as("batches per 64 KiB segment of 20 kB batches").isBetween(1, 4);
    }
    assertThat(hooks.stream().filter("epoch"::equals).count()).isEqualTo(1);
    assertThat(hooks.stream().filter("reserve"::equals).count()).isEqualTo(10);
  }

  @Test
  void rollsByAge_onTheBuffersClock() throws Exception {
    MutableClock clock = new MutableClock(Instant.now());
    appender(SpillBuffer.builder().clock(clock).segmentMaxAge(Duration.ofMinutes(1)), null);
    append(0, 100);
    append(1, 100);
    clock.advance(Duration.ofMinutes(2));
    append(2, 100);
    assertThat(recordTypes()).containsExactly(List.of(1, 2, 2), List.of(1, 2));
  }

  @Test
  void budgetSpent_refusedNamingTheBudget_nothingSealedOrAppended() throws Exception {
    DiskBudget.Device full = new DiskBudget.Device() {
      @Override
      public long allocatedBytes() {
        return 100L << 20;
      }

      @Override
      public long usableSpace() {
        return 100L << 30;
      }
    };
    appender(SpillBuffer.builder().maxDiskBytes(100L << 20), full);
    assertThatThrownBy(() -> append(0, 100))
        .isInstanceOf(SpillAppender.Refused.class)
        .hasMessageContaining("disk budget of 100 MiB is spent");
    assertThat(hooks).isEmpty();
    assertThat(recordTypes().stream().mapToInt(List::size).sum()).isZero();
    assertThat(appender.lastAppended()).isEqualTo(-1);
  }

  @Test
  void newStream_rollsToANewSegmentWithANewKeyEpoch() throws Exception {
    appender(SpillBuffer.builder(), null);
    append(0, 100);
    appender.newStream();
    append(1, 100);
    assertThat(recordTypes()).containsExactly(List.of(1, 2), List.of(1, 2));
    assertThat(hooks.stream().filter("epoch"::equals).count()).isEqualTo(2);
  }
}
