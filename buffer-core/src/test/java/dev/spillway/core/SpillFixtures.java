package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.TestKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Shared helpers for spill tests: payloads with ids and a canary, disk scans, child JVMs. Public
 * (test code only) so the key-provider tests in other packages can run the same checks through a
 * real {@link SpillBuffer}.
 */
public final class SpillFixtures {
  public static final String CANARY = "CANARY-b81f-enduser.ssn=078-05-1120";
  public static final byte[] CANARY_BYTES = CANARY.getBytes(StandardCharsets.UTF_8);

  /** A disk budget's view of a spill with nothing it may drop: the test drops, or nothing may be dropped. */
  static final DiskBudget.OldestSegment NOTHING_TO_DROP = new DiskBudget.OldestSegment() {
    @Override
    public boolean canDrop() {
      return false;
    }

    @Override
    public void drop() {
      throw new AssertionError("the budget tried to drop a segment in a test that forbids it");
    }
  };

  private SpillFixtures() {}

  /** A payload that carries its id in the first 8 bytes, then the canary, then padding. */
  public static byte[] payload(long id, int size) {
    ByteBuffer b = ByteBuffer.allocate(Math.max(size, 8 + CANARY_BYTES.length));
    b.putLong(id).put(CANARY_BYTES);
    while (b.hasRemaining()) {
      b.put((byte) ('a' + (b.position() % 26)));
    }
    return b.array();
  }

  public static long idOf(byte[] payload) {
    return ByteBuffer.wrap(payload).getLong();
  }

  static SpillBufferBuilder builder(Path dir, TestKeys keys) {
    return SpillBuffer.builder()
        .directory(dir)
        .writerKeys(keys.issuer())
        .readerKeys(keys.unwrapper())
        .fsync(FsyncPolicy.none());
  }

  /** Polls until {@code n} batches arrived (acking each) or the deadline passed. */
  public static List<Long> drain(SpillReader reader, int n, Duration timeout) throws InterruptedException {
    List<Long> ids = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ids.size() < n && System.nanoTime() < deadline) {
      Delivery d = reader.poll(Duration.ofMillis(100));
      if (d != null) {
        ids.add(idOf(d.payload()));
        d.ack();
      }
    }
    return ids;
  }

  /** Every file under {@code dir}: asserts none contains the canary. */
  public static void assertNoCanaryOnDisk(Path dir) {
    assertThat(filesContaining(dir, CANARY_BYTES)).as("files holding the canary").isEmpty();
  }

  /**
   * The files under {@code dir} whose bytes contain {@code needle}. The buffer may be open: a
   * file renamed away while walked (the checkpoint's temporary file) is skipped.
   */
  public static List<Path> filesContaining(Path dir, byte[] needle) {
    List<Path> hits = new ArrayList<>();
    try {
      Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a)
            throws IOException {
          try {
            if (a.isRegularFile() && indexOf(Files.readAllBytes(f), needle) >= 0) {
              hits.add(f);
            }
          } catch (java.nio.file.NoSuchFileException renamedMeanwhile) {
            // listed, then renamed into place
          }
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
          if (e instanceof java.nio.file.NoSuchFileException) {
            return java.nio.file.FileVisitResult.CONTINUE; // listed, then renamed into place
          }
          throw e;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return hits;
  }

  public static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static long offerAll(SpillWriter w, long fromId, int count, int size) {
    long accepted = 0;
    for (long id = fromId; id < fromId + count; id++) {
      if (w.offer(PayloadType.OTLP_TRACES, payload(id, size)).accepted()) {
        accepted++;
      }
    }
    return accepted;
  }

  /** A java command line for a child JVM with the test classpath and Chronicle's flags. */
  static List<String> javaCommand(Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String flags = System.getProperty("spillway.jvm.flags", "");
    for (String f : flags.trim().split("\\s+")) {
      if (!f.isEmpty()) {
        cmd.add(f);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }
}
