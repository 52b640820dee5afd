package dev.spillway.core;

import static dev.spillway.core.SpillFixtures.builder;
import static dev.spillway.core.SpillFixtures.drain;
import static dev.spillway.core.SpillFixtures.offerAll;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.TestKeys;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import dev.spillway.core.internal.spill.QuarantineFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13's forgery, end to end through real spill files: an attacker with only the public
 * writer.json and write access to the spill directory appends a key record and batches of their
 * own. The drain quarantines them as FORGED_KEY and delivers only the genuine batches.
 */
class ForgedSpillTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path tmp;
  TestKeys keys;
  Path dir;

  @BeforeEach
  void setUp() {
    keys = TestKeys.in(tmp.resolve("keys"));
    dir = tmp.resolve("spill");
  }

  @Test
  void drain_recordsForgedWithOnlyWriterJson_areQuarantinedAndTheGenuineOnesDelivered() throws Exception {
    try (SpillBuffer b = builder(dir, keys).memoryLimitBytes(0).build()) {
      offerAll(b, 0, 3, 500);
    }

    // The attacker: the victim's public writer.json, a signing key of their own.
    Path attacker = tmp.resolve("attacker");
    LocalKeys.init(attacker);
    Files.copy(keys.dir().resolve(LocalKeys.WRITER_FILE), attacker.resolve(LocalKeys.WRITER_FILE),
        StandardCopyOption.REPLACE_EXISTING);
    DataKeyIssuer forger = LocalKeys.issuer(attacker.resolve(LocalKeys.WRITER_FILE));
    try (Sealer sealer = new Sealer(forger, SpillBufferBuilder.DEFAULT_QUEUE_NAME, RotationPolicy.defaults(),
            Codec.LZ4, Clock.systemUTC());
        ChronicleSpillLog log = ChronicleSpillLog.open(dir.resolve(BufferEngine.QUEUE_DIR), true,
            BufferEngine.LARGEST_CHUNK, false)) {
      SealedBatch first = sealer.seal(PayloadType.OTLP_TRACES, SpillFixtures.payload(100, 500));
      log.append(first.keyRecord().encoded());
      log.append(first.bytes());
      log.append(sealer.seal(PayloadType.OTLP_TRACES, SpillFixtures.payload(101, 500)).bytes());
    }

    try (SpillBuffer b = builder(dir, keys).memoryLimitBytes(0).build()) {
      assertThat(drain(b, 5, Duration.ofSeconds(5))).containsExactly(0L, 1L, 2L);
      assertThat(b.metrics().quarantined()).isEqualTo(2);
    }
    byte[] quarantine = Files.readAllBytes(dir.resolve(BufferEngine.QUARANTINE_DIR).resolve(QuarantineFile.FILE));
    assertThat(quarantine[4]).isEqualTo((byte) QuarantineReason.FORGED_KEY.ordinal());
  }
}
