package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.TestKeys;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import dev.spillway.core.internal.spill.QuarantineFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cursor on its own, over real Chronicle files written with a real sealer: no engine, no
 * memory tier, no ledger. A gate that admits everything stands for the engine.
 */
class SpillCursorTest {
  @TempDir Path tmp;
  private TestKeys keys;
  private Path queue;
  private Sealer sealer;
  private final List<AutoCloseable> open = new ArrayList<>();

  private final SpillCursor.Gate readAll = new SpillCursor.Gate() {
    @Override
    public SpillCursor.Verdict admit(long position) {
      return SpillCursor.Verdict.READ;
    }

    @Override
    public void readAgainLater(long position, SpillCursor.Verdict verdict) {}
  };

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    queue = tmp.resolve("spill/queue");
    Files.createDirectories(queue);
    sealer = new Sealer(keys.issuer(), "spillway", RotationPolicy.defaults(), Codec.LZ4, Clock.systemUTC());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private ChronicleSpillLog log(boolean writer) throws Exception {
    ChronicleSpillLog log = ChronicleSpillLog.open(queue, writer, BufferEngine.LARGEST_CHUNK, false);
    open.add(log);
    return log;
  }

  private SpillCursor cursor(ChronicleSpillLog log) throws Exception {
    Committer committer = Committer.open(tmp.resolve("spill/drain-checkpoint"), log, false, false);
    SpillCursor c = new SpillCursor(log, new QuarantineFile(tmp.resolve("spill/quarantine")), committer,
        keys.unwrapper(), DeploymentId.UNNAMED, "spillway", BufferObserver.NOOP,
        Clock.systemUTC());
    open.add(c);
    return c;
  }

  /** Appends a key record (once per segment) and the batch; returns the batch's bytes as stored. */
  private byte[] append(ChronicleSpillLog log, long id, boolean keyRecord, boolean tamper) throws Exception {
    SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 200));
    if (keyRecord) {
      log.append(b.keyRecord().encoded());
    }
    byte[] bytes = b.bytes().clone();
    if (tamper) {
      bytes[bytes.length - 1] ^= 1; // one bit of the GCM tag
    }
    log.append(bytes);
    return bytes;
  }

  /** Reads until caught up (bounded), returning the ids opened. */
  private static List<Long> readAll(SpillCursor c, SpillCursor.Gate gate, List<SpillCursor.Kind> kinds) {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      SpillCursor.Step s = c.next(gate, true);
      kinds.add(s.kind());
      if (s.kind() == SpillCursor.Kind.CAUGHT_UP) {
        return ids;
      }
      if (s.kind() == SpillCursor.Kind.OPENED) {
        ids.add(SpillFixtures.idOf(s.batch().payload()));
      }
    }
    throw new AssertionError("the cursor did not catch up");
  }

  @Test
  void tamperedBatch_quarantinedWithItsReason_theNextStillOpens() throws Exception {
    ChronicleSpillLog log = log(true);
    append(log, 0, true, false);
    byte[] tampered = append(log, 1, false, true);
    append(log, 2, false, false);
    SpillCursor c = cursor(log);
    List<SpillCursor.Kind> kinds = new ArrayList<>();

    assertThat(readAll(c, readAll, kinds)).containsExactly(0L, 2L);
    assertThat(kinds).containsOnlyOnce(SpillCursor.Kind.QUARANTINED);
    assertThat(c.quarantined()).isEqualTo(1);
    byte[] file = Files.readAllBytes(tmp.resolve("spill/quarantine").resolve(QuarantineFile.FILE));
    assertThat(SpillFixtures.indexOf(file, tampered)).as("the record kept in the quarantine").isPositive();
    assertThat(file[4]).as("reason").isEqualTo((byte) QuarantineReason.INTEGRITY.ordinal());
  }

  @Test
  void tornTail_skippedToTheNextSegment_countedOnce_andTheLostRecordIsAGap() throws Exception {
    ChronicleSpillLog log = log(true);
    append(log, 0, true, false);
    append(log, 1, false, false);
    log.roll();
    append(log, 2, true, false);
    log.close();
    open.remove(log);
    // What a writer killed mid-append leaves: the last record of the first segment never
    // completed (Chronicle's NOT_COMPLETE bit still set in its header).
    Path first = ReplayTest.segmentFiles(tmp.resolve("spill")).get(0);
    int header = ReplayTest.batchHeaderOffsets(first).get(1);
    ReplayTest.editByte(first, header + 3, b -> (byte) (b | 0x80));

    SpillCursor c = cursor(log(false));
    List<SpillCursor.Kind> kinds = new ArrayList<>();
    assertThat(readAll(c, readAll, kinds)).containsExactly(0L, 2L);
    assertThat(c.torn()).isEqualTo(1);
    assertThat(c.missing()).isEqualTo(1);
    assertThat(c.quarantined()).isZero();
  }

  @Test
  void headerlessSegment_setAsideWhenTheLogOpens_theCursorReadsTheOthers() throws Exception {
    ChronicleSpillLog log = log(true);
    append(log, 0, true, false);
    long first = log.appendSegment();
    log.roll();
    log.roll();
    append(log, 1, true, false);
    Path zeros = log.segmentFile(first + 1);
    log.close();
    open.remove(log);
    // What a writer killed right after creating a segment file leaves: a file of zeros.
    Files.write(zeros, new byte[64 << 10]);

    SpillCursor c = cursor(log(true));
    List<SpillCursor.Kind> kinds = new ArrayList<>();
    assertThat(readAll(c, readAll, kinds)).containsExactly(0L, 1L);
    assertThat(zeros).doesNotExist();
    assertThat(c.torn() + c.unreadable() + c.quarantined()).isZero();
  }

  @Test
  void gateSaysWait_theCursorStaysAtTheRecord_andReadsItOnceAdmitted() throws Exception {
    ChronicleSpillLog log = log(true);
    append(log, 0, true, false);
    append(log, 1, false, false);
    SpillCursor c = cursor(log);
    boolean[] hold = {true};
    SpillCursor.Gate gate = new SpillCursor.Gate() {
      @Override
      public SpillCursor.Verdict admit(long position) {
        return hold[0] ? SpillCursor.Verdict.WAIT : SpillCursor.Verdict.READ;
      }

      @Override
      public void readAgainLater(long position, SpillCursor.Verdict verdict) {}
    };
    assertThat(c.next(gate, false).kind()).isEqualTo(SpillCursor.Kind.CONSUMED); // the key record
    assertThat(c.next(gate, false).kind()).isEqualTo(SpillCursor.Kind.WAITING);
    assertThat(c.next(gate, false).kind()).isEqualTo(SpillCursor.Kind.WAITING);
    hold[0] = false;
    assertThat(readAll(c, gate, new ArrayList<>())).containsExactly(0L, 1L);
    assertThat(c.missing()).isZero();
  }
}
