package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.OutOfOrderRecordException;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.SealedRecord;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.StreamWatermarks;
import dev.spillway.core.internal.seal.TestKeys;
import dev.spillway.core.internal.seal.WatermarkFormatException;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committer and its checkpoint file on their own, over a real Chronicle log: the file is
 * written before the log moves, the file is the authority at open, and a damaged or missing file
 * stops the drain unless the operator chooses otherwise.
 */
class CommitterTest {
  @TempDir Path tmp;
  private ChronicleSpillLog log;
  private Path file;
  private final List<SealedRecord> records = new ArrayList<>();
  private final List<Long> positions = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    Path queue = tmp.resolve("queue");
    Files.createDirectories(queue);
    log = ChronicleSpillLog.open(queue, true, BufferEngine.LARGEST_CHUNK, false);
    file = tmp.resolve(DrainCheckpoint.FILE);
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Sealer sealer = new Sealer(keys.issuer(), "spillway", RotationPolicy.defaults(), Codec.NONE, Clock.systemUTC());
    for (long id = 0; id < 5; id++) {
      SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 100));
      positions.add(log.append(b.bytes()));
      records.add((SealedRecord) dev.spillway.core.internal.seal.EnvelopeFormat.parse(b.bytes()));
    }
  }

  @AfterEach
  void tearDown() {
    log.close();
  }

  private static void awaitWritten(Committer c, long position) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (c.written() != position && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(c.written()).isEqualTo(position);
  }

  @Test
  void request_writesTheCheckpointWithTheWatermarksOfTheRecordsBefore_thenMovesTheLog() throws Exception {
    Committer c = Committer.open(file, log, false, false);
    assertThat(file).as("an empty checkpoint from the first start").exists();
    List<Long> logAtCheckpointWrite = new ArrayList<>();
    Committer.beforeLogCommit = () -> logAtCheckpointWrite.add(log.committed());
    try {
      for (int i = 0; i < 5; i++) {
        c.opened(positions.get(i), records.get(i));
      }
      c.request(positions.get(3)); // records 0..2 acknowledged
      awaitWritten(c, positions.get(3));
    } finally {
      Committer.beforeLogCommit = () -> {};
      c.close();
    }
    assertThat(logAtCheckpointWrite).as("the log had not moved when the checkpoint was written").containsExactly(-1L);
    assertThat(log.committed()).isEqualTo(positions.get(3));
    DrainCheckpoint.Saved saved = DrainCheckpoint.read(file);
    assertThat(saved.position()).isEqualTo(positions.get(3));
    SealedRecord third = records.get(2);
    assertThat(saved.marks().lastSequence(third.streamId())).hasValue(third.sequence());
    // A copy of record 2 is a replay; record 3 is not (it was never committed).
    assertThatThrownBy(() -> saved.marks().check(third.streamId(), third.sequence(), third.sealedAtMillis()))
        .isInstanceOf(OutOfOrderRecordException.class);
    SealedRecord fourth = records.get(3);
    assertThat(saved.marks().check(fourth.streamId(), fourth.sequence(), fourth.sealedAtMillis()).missingBefore())
        .isZero();
  }

  @Test
  void request_acksDuringTheIntervalAfterAWrite_makeOneMoreWriteAfterIt_closeWritesTheLast() throws Exception {
    Committer c = Committer.open(file, log, false, false);
    List<Long> writes = java.util.Collections.synchronizedList(new ArrayList<>());
    Committer.beforeLogCommit = () -> writes.add(System.nanoTime());
    try {
      for (int i = 0; i < 5; i++) {
        c.opened(positions.get(i), records.get(i));
      }
      c.request(positions.get(1));
      awaitWritten(c, positions.get(1));
      c.request(positions.get(2));
      c.request(positions.get(3));
      awaitWritten(c, positions.get(3));
      c.request(positions.get(4));
    } finally {
      Committer.beforeLogCommit = () -> {};
      c.close();
    }
    assertThat(writes).as("one write for position 1, one for the two acks after it").hasSize(2);
    assertThat(writes.get(1) - writes.get(0)).isGreaterThanOrEqualTo(Committer.MIN_WRITE_INTERVAL_NANOS);
    assertThat(DrainCheckpoint.read(file).position()).as("close wrote the last request").isEqualTo(positions.get(4));
    assertThat(log.committed()).isEqualTo(positions.get(4));
  }

  @Test
  void open_theCheckpointIsTheAuthority_logMovedUpToIt_orBackToIt() throws Exception {
    StreamWatermarks marks = new StreamWatermarks();
    DrainCheckpoint.write(file, positions.get(2), marks, false); // a crash after the file, before the log
    try (Committer c = Committer.open(file, log, false, false)) {
      assertThat(log.committed()).isEqualTo(positions.get(2));
      assertThat(c.baseline().position()).isEqualTo(positions.get(2));
    }
    log.commit(positions.get(4)); // a file behind the log (restored, or lost to a power cut)
    try (Committer c = Committer.open(file, log, false, false)) {
      assertThat(log.committed()).isEqualTo(positions.get(2));
    }
  }

  @Test
  void damagedOrMissingCheckpoint_refusedNamingTheFile_unlessTheOperatorStartsWithoutIt() throws Exception {
    log.commit(positions.get(1));
    assertThatThrownBy(() -> Committer.open(file, log, false, false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("is missing");

    DrainCheckpoint.write(file, positions.get(1), new StreamWatermarks(), false);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 1;
    Files.write(file, bytes);
    assertThatThrownBy(() -> Committer.open(file, log, false, false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("checksum mismatch");

    try (Committer c = Committer.open(file, log, false, true)) {
      assertThat(c.baseline().marks().streams()).isZero();
    }
    assertThat(DrainCheckpoint.read(file)).as("a fresh checkpoint written").isNotNull();
  }

  @Test
  void decode_everyFault_namedWithTheSource() throws Exception {
    byte[] good = DrainCheckpoint.encode(7, new StreamWatermarks());
    assertThat(DrainCheckpoint.decode(good, "f").position()).isEqualTo(7);
    byte[] shortOne = java.util.Arrays.copyOf(good, 10);
    byte[] badMagic = good.clone();
    badMagic[0] = 'X';
    byte[] badFormat = good.clone();
    badFormat[4] = 9;
    for (byte[] bad : List.of(shortOne, badMagic, badFormat)) {
      assertThatThrownBy(() -> DrainCheckpoint.decode(bad, "the-file"))
          .isInstanceOf(WatermarkFormatException.class)
          .hasMessageStartingWith("the-file: ");
    }
  }
}
