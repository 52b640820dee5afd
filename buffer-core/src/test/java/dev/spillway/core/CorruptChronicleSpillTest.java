package dev.spillway.core;

import static dev.spillway.core.SpillFixtures.builder;
import static dev.spillway.core.SpillFixtures.drain;
import static dev.spillway.core.SpillFixtures.offerAll;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.TestKeys;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13 item 4 through the buffer: a one-byte edit of a segment header, or a junked
 * metadata.cq4t, no longer stops the spill; the file is set aside and the rest drains.
 */
class CorruptChronicleSpillTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path tmp;
  TestKeys keys;
  Path dir;

  @BeforeEach
  void twoWriterRuns() throws Exception {
    keys = TestKeys.in(tmp.resolve("keys"));
    dir = tmp.resolve("spill");
    // Each writer start begins a new segment: two runs, two segments of three batches each.
    try (SpillBuffer b = builder(dir, keys).memoryLimitBytes(0).build()) {
      offerAll(b, 0, 3, 400);
    }
    try (SpillBuffer b = builder(dir, keys).memoryLimitBytes(0).build()) {
      offerAll(b, 3, 3, 400);
    }
    assertThat(segments()).hasSize(2);
  }

  List<Path> segments() throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve(BufferEngine.QUEUE_DIR))) {
      return s.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
    }
  }

  static void replaceInHeader(Path file, String from, String to) throws Exception {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer head = ByteBuffer.allocate(512);
      ch.read(head, 0);
      int at = new String(head.array(), StandardCharsets.ISO_8859_1).indexOf(from);
      assertThat(at).isPositive();
      ch.write(ByteBuffer.wrap(to.getBytes(StandardCharsets.ISO_8859_1)), at);
    }
  }

  @Test
  void segmentStoreTypeRenamed_segmentSetAside_theOtherDrainsAndTheBufferAcceptsMore() throws Exception {
    Path first = segments().get(0);
    replaceInHeader(first, "SCQStore", "SCQStorf");
    try (SpillBuffer b = builder(dir, keys).memoryLimitBytes(0).build()) {
      assertThat(drain(b, 3, WAIT)).containsExactly(3L, 4L, 5L);
      offerAll(b, 6, 2, 400);
      assertThat(drain(b, 2, WAIT)).containsExactly(6L, 7L);
    }
    assertThat(first).doesNotExist();
    try (Stream<Path> s = Files.list(dir.resolve("quarantine").resolve("corrupt"))) {
      assertThat(s.map(p -> p.getFileName().toString()))
          .singleElement().asString().startsWith(first.getFileName().toString());
    }
  }

  @Test
  void junkedMetadataFile_setAside_everyBatchStillDelivered() throws Exception {
    Path meta = dir.resolve(BufferEngine.QUEUE_DIR).resolve("metadata.cq4t");
    replaceInHeader(meta, "STStore", "\u0001\u0002junk!");
    try (SpillBuffer b = builder(dir, keys).memoryLimitBytes(0).build()) {
      assertThat(drain(b, 6, WAIT)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
    }
  }
}
