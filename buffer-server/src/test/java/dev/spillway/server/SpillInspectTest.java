package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.SpillWriter;
import dev.spillway.core.PayloadType;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.keys.KeysetProtection;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.testing.TestClients;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spill inspect} on a real spill written by a real SpillBuffer. */
class SpillInspectTest {
  static final String CANARY = "CANARY-inspect-4411";
  static final int BATCHES = 7;

  @TempDir Path dir;
  Path keys;
  Path spill;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void writeSpill() throws Exception {
    keys = dir.resolve("keys");
    LocalKeys.init(keys);
    spill = dir.resolve("spill");
    writeSpill(spill, keys, BATCHES);
  }

  static void writeSpill(Path spill, Path keys, int batches) throws Exception {
    try (SpillBuffer b = SpillBuffer.builder()
        .directory(spill)
        .memoryLimitBytes(0) // every batch sealed to disk
        .writerKeys(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)))
        .readerKeys(LocalKeys.unwrapper(keys.resolve(LocalKeys.READER_FILE)))
        .build()) {
      for (int i = 0; i < batches; i++) {
        assertThat(b.offer(PayloadType.OTLP_TRACES, TestClients.request(3, CANARY).toByteArray()).accepted()).isTrue();
      }
    }
  }

  private int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String output() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void inspect_withoutKey_printsMetadataAndExitsZero() {
    assertThat(run("spill", "inspect", "--dir", spill.toString())).isZero();
    assertThat(output())
        .contains(BATCHES + " batch(es)")
        .contains("1 key record(s)")
        .contains("provider=local key=local:")
        .contains("not verified")
        .doesNotContain(CANARY);
  }

  @Test
  void inspect_withReaderKey_opensEveryBatchAndExitsZero() {
    assertThat(run("spill", "inspect", "--dir", spill.toString(),
        "--reader-key", keys.resolve("reader.json").toString())).isZero();
    assertThat(output()).contains("verified: " + BATCHES + " of " + BATCHES + " batch(es) opened").doesNotContain(CANARY);
  }

  @Test
  void inspect_withWritersPublicKeyset_exitsNonZeroWithClearError() {
    assertThat(run("spill", "inspect", "--dir", spill.toString(),
        "--reader-key", keys.resolve("writer.json").toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("not a private HPKE keyset")
        .contains("writer.json cannot open a spill");
  }

  @Test
  void inspect_withAnotherDeploymentsReaderKey_exitsNonZeroNamingKeyRefused() throws Exception {
    Path other = dir.resolve("other");
    LocalKeys.init(other);
    assertThat(run("spill", "inspect", "--dir", spill.toString(),
        "--reader-key", other.resolve("reader.json").toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("verification FAILED: 0 of " + BATCHES)
        .contains("forged_key " + BATCHES)
        .contains("another deployment's keys");
  }

  @Test
  void inspect_withWrongQueueName_failsAuthentication() {
    assertThat(run("spill", "inspect", "--dir", spill.toString(), "--queue", "orders",
        "--reader-key", keys.resolve("reader.json").toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("verification FAILED: 0 of " + BATCHES)
        .contains("forged_key " + BATCHES)
        .contains("another --queue");
  }

  @Test
  void inspect_protectedReaderKeyset_needsItsPassphrase() throws Exception {
    Path pkeys = dir.resolve("pkeys");
    LocalKeys.init(pkeys, KeysetProtection.passphrase("correct horse battery".toCharArray()));
    Path pspill = dir.resolve("pspill");
    try (SpillWriter b = SpillBuffer.builder().directory(pspill).memoryLimitBytes(0)
        .writerKeys(LocalKeys.issuer(pkeys.resolve("writer.json"))).buildWriter()) {
      b.offer(PayloadType.OTLP_TRACES, TestClients.request(2, CANARY).toByteArray());
    }
    Path pass = dir.resolve("pass");
    Files.writeString(pass, "correct horse battery\n");
    Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
    String reader = pkeys.resolve("reader.json").toString();

    assertThat(run("spill", "inspect", "--dir", pspill.toString(), "--reader-key", reader)).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("is encrypted");

    assertThat(run("spill", "inspect", "--dir", pspill.toString(), "--reader-key", reader,
        "--passphrase-file", pass.toString())).isZero();
    assertThat(output()).contains("verified: 1 of 1").doesNotContain("warning");

    Path wrong = dir.resolve("wrong");
    Files.writeString(wrong, "incorrect horse battery");
    Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(run("spill", "inspect", "--dir", pspill.toString(), "--reader-key", reader,
        "--passphrase-file", wrong.toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("has mode rw-r--r--, readable by group or others; refused")
        .contains(wrong.toString())
        .doesNotContain("wrong passphrase")
        .doesNotContain("incorrect horse");
    err.reset();
    Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("r--------"));
    assertThat(run("spill", "inspect", "--dir", pspill.toString(), "--reader-key", reader,
        "--passphrase-file", wrong.toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("wrong passphrase")
        .doesNotContain("incorrect horse");
  }

  /**
   * Hides the {@code n}th sealed batch (0-based) of the spill from every reader by setting
   * Chronicle's metadata bit in its document header: a one-bit edit that deletes a record.
   */
  static void hideBatch(Path spill, int n) throws Exception {
    Path cq4;
    try (var files = Files.list(spill.resolve("queue"))) {
      cq4 = files.filter(f -> f.toString().endsWith(".cq4")).findFirst().orElseThrow();
    }
    try (var ch = java.nio.channels.FileChannel.open(cq4, java.nio.file.StandardOpenOption.READ,
        java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(4 << 20);
      while (head.hasRemaining() && ch.read(head) > 0) {
        // read the first 4 MiB: the records of a small spill
      }
      byte[] b = head.array();
      int seen = 0;
      for (int i = 4; i + 6 <= b.length; i++) {
        if (b[i] == 'S' && b[i + 1] == 'P' && b[i + 2] == 'W' && b[i + 3] == 'L' && b[i + 5] == 2) {
          if (seen++ == n) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) (b[i - 1] | 0x40)}), i - 1);
            return;
          }
        }
      }
    }
    throw new AssertionError("no sealed batch #" + n + " in " + cq4);
  }

  @Test
  void inspect_recordDeletedByChronicleMetadataBit_reportsTheGapAndExitsNonZero() throws Exception {
    hideBatch(spill, 3);
    assertThat(run("spill", "inspect", "--dir", spill.toString(),
        "--reader-key", keys.resolve("reader.json").toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("verification FAILED: " + (BATCHES - 1) + " of " + (BATCHES - 1))
        .contains("1 record(s) missing from their writer streams");
    assertThat(output()).doesNotContain("verified: ");
  }

  @Test
  void inspect_notASpillDirectory_exitsNonZero() {
    assertThat(run("spill", "inspect", "--dir", dir.resolve("keys").toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("is not a Spillway spill directory");
  }
}
