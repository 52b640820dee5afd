package dev.spillway.core.internal.spill;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Chronicle files, edited byte by byte: a renamed store type, a junked segment header and a
 * junked metadata file are set aside before Chronicle reads them, and the log opens with the rest.
 */
class ChronicleFileCheckTest {
  static final long BLOCK = 1L << 20;

  @TempDir Path tmp;
  Path queue;
  Path first;
  Path second;

  @BeforeEach
  void twoSegments() throws Exception {
    queue = tmp.resolve("spill").resolve("queue");
    Files.createDirectories(queue);
    try (ChronicleSpillLog log = ChronicleSpillLog.open(queue, true, BLOCK, false)) {
      log.append(bytes("a0"));
      log.append(bytes("a1"));
      first = log.segmentFile(log.appendSegment());
      log.roll();
      log.append(bytes("b0"));
      second = log.segmentFile(log.appendSegment());
    }
    assertThat(first).exists();
    assertThat(second).exists();
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<String> readAll(Path queue) throws Exception {
    List<String> out = new ArrayList<>();
    try (ChronicleSpillLog log = ChronicleSpillLog.open(queue, false, BLOCK, false)) {
      log.seek(-1);
      for (int i = 0; i < 100; i++) {
        SpillLog.Entry e = log.next();
        if (e == null) {
          break;
        }
        out.add(new String(e.bytes(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  static void replace(Path file, String from, String to) throws Exception {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer head = ByteBuffer.allocate(1024);
      ch.read(head, 0);
      String s = new String(head.array(), StandardCharsets.ISO_8859_1);
      int at = s.indexOf(from);
      assertThat(at).as("%s in the header of %s", from, file).isPositive();
      ch.write(ByteBuffer.wrap(to.getBytes(StandardCharsets.ISO_8859_1)), at);
    }
  }

  static void overwrite(Path file, long at, byte[] junk) throws Exception {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(junk), at);
    }
  }

  List<Path> setAside() throws Exception {
    Path dir = queue.resolve(ChronicleFileCheck.CORRUPT_DIR).normalize();
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void open_healthyFiles_areLeftAloneAndRead() throws Exception {
    assertThat(ChronicleFileCheck.fault(first, "SCQStore", ChronicleFileCheck.SEGMENT_TYPES)).isNull();
    assertThat(ChronicleFileCheck.fault(queue.resolve("metadata.cq4t"), "STStore", ChronicleFileCheck.METADATA_TYPES))
        .isNull();
    assertThat(readAll(queue)).containsExactly("a0", "a1", "b0");
    assertThat(setAside()).isEmpty();
  }

  @Test
  void open_segmentStoreTypeRenamedByOneByte_isSetAsideBeforeChronicleReadsIt() throws Exception {
    replace(first, "SCQStore", "SCQStorf"); // Chronicle would Class.forName("SCQStorf")
    assertThat(ChronicleFileCheck.fault(first, "SCQStore", ChronicleFileCheck.SEGMENT_TYPES))
        .contains("store type 'SCQStorf'");
    assertThat(readAll(queue)).containsExactly("b0");
    assertThat(first).doesNotExist();
    assertThat(setAside()).singleElement().satisfies(p ->
        assertThat(p.getFileName().toString()).startsWith(first.getFileName().toString()));
  }

  @Test
  void open_nestedTypeRenamed_isSetAside() throws Exception {
    replace(first, "SCQSIndexing", "java.io.File");
    assertThat(ChronicleFileCheck.fault(first, "SCQStore", ChronicleFileCheck.SEGMENT_TYPES))
        .contains("type 'java.io.File', which Spillway never writes");
    assertThat(readAll(queue)).containsExactly("b0");
  }

  @Test
  void open_junkedSegmentHeader_isSetAsideAndTheRestIsRead() throws Exception {
    byte[] junk = new byte[180];
    new Random(13).nextBytes(junk);
    overwrite(first, 4, junk); // the header word stays "complete": only its content is junk
    assertThat(ChronicleFileCheck.fault(first, "SCQStore", ChronicleFileCheck.SEGMENT_TYPES)).isNotNull();
    assertThat(readAll(queue)).containsExactly("b0");
    assertThat(setAside()).hasSize(1);
  }

  @Test
  void open_headerWordJunked_isSetAside() throws Exception {
    overwrite(first, 0, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x1234_5678).array());
    assertThat(ChronicleFileCheck.fault(first, "SCQStore", ChronicleFileCheck.SEGMENT_TYPES))
        .contains("not a header");
    assertThat(readAll(queue)).containsExactly("b0");
  }

  @Test
  void open_headerStillBeingWritten_isLeftToTheWriter() throws Exception {
    overwrite(first, 3, new byte[] {(byte) 0x80}); // Chronicle's not-complete bit
    assertThat(ChronicleFileCheck.fault(first, "SCQStore", ChronicleFileCheck.SEGMENT_TYPES)).isNull();
  }

  @Test
  void open_metadataTypeRenamed_isSetAsideAndTheLogOpensWithANewOne() throws Exception {
    Path meta = queue.resolve("metadata.cq4t");
    replace(meta, "SCQMeta", "SCQMetX");
    assertThat(readAll(queue)).containsExactly("a0", "a1", "b0");
    assertThat(setAside()).singleElement().satisfies(p ->
        assertThat(p.getFileName().toString()).startsWith("metadata.cq4t."));
    assertThat(meta).exists(); // Chronicle made a new one
  }

  @Test
  void open_junkedMetadataFile_isSetAsideAndTheWriterAppendsAgain() throws Exception {
    Path meta = queue.resolve("metadata.cq4t");
    byte[] junk = new byte[4096];
    new Random(7).nextBytes(junk);
    junk[3] &= 0x3F; // a "complete" header word of junk
    overwrite(meta, 0, junk);
    try (ChronicleSpillLog log = ChronicleSpillLog.open(queue, true, BLOCK, false)) {
      log.append(bytes("c0"));
    }
    assertThat(readAll(queue)).containsExactly("a0", "a1", "b0", "c0");
    assertThat(setAside()).hasSize(1);
  }
}
