package dev.spillway.core.internal.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks Chronicle's own files before Chronicle opens them, and sets aside those that are not what
 * Spillway writes. Chronicle reads type names from the header of every segment ({@code *.cq4},
 * {@code !SCQStore}) and of {@code metadata.cq4t} ({@code !STStore}) and loads them as classes: a
 * one-byte edit on disk would make it call {@code Class.forName} on a name of the editor's choice,
 * and a junked header stops the drain for good. So the files are treated as untrusted input.
 *
 * <p>The header document is walked token by token in Chronicle's binary wire format (only the
 * codes its headers use; anything else is refused), and every type name in it must be one of
 * the few Chronicle writes for Spillway's queue. A file whose header is not yet complete (zero, or
 * Chronicle's not-complete bit set: a writer is creating it) is left alone here; the writer sets
 * such segments aside at its own start ({@link ChronicleSpillLog}).
 *
 * <p>A corrupt file is moved to {@value #CORRUPT_DIR} beside the queue (the quarantine), never
 * deleted, with one warning naming it and the fault. Records in a set-aside segment are not
 * delivered; a set-aside {@code metadata.cq4t} loses the consumer position it held (records still
 * in the spill are delivered again: at least once, never lost).
 */
final class ChronicleFileCheck {
  private static final Logger LOG = LoggerFactory.getLogger(ChronicleFileCheck.class);

  /** Where corrupt files go, relative to the queue directory. */
  static final String CORRUPT_DIR = "../quarantine/corrupt";
  static final String METADATA_FILE = "metadata.cq4t";

  /** Type names in a segment header ({@code SingleChronicleQueueStore} and its indexing). */
  static final Set<String> SEGMENT_TYPES = Set.of("SCQStore", "SCQSIndexing");
  /** Type names in the metadata header (table store, wire type enum, queue metadata, roll). */
  static final Set<String> METADATA_TYPES = Set.of("STStore", "WireType", "SCQMeta", "SCQSRoll");

  /** Chronicle's document header: bit 31 not complete, bit 30 metadata, the rest the length. */
  private static final int NOT_COMPLETE = 0x8000_0000;
  private static final int META_DATA = 0x4000_0000;
  private static final int LENGTH_MASK = 0x3FFF_FFFF;
  /** Spillway's headers are a few hundred bytes; anything much larger is not one. */
  static final int MAX_HEADER_BYTES = 16 << 10;

  private ChronicleFileCheck() {}

  /** Checks every segment and the metadata file in {@code queueDir}; moves corrupt ones aside. */
  static void setAsideCorrupt(Path queueDir) throws IOException {
    if (!Files.isDirectory(queueDir)) {
      return;
    }
    try (Stream<Path> files = Files.list(queueDir)) {
      for (Path f : (Iterable<Path>) files.sorted()::iterator) {
        String name = f.getFileName().toString();
        String fault;
        if (name.endsWith(".cq4")) {
          fault = fault(f, "SCQStore", SEGMENT_TYPES);
        } else if (name.equals(METADATA_FILE)) {
          fault = fault(f, "STStore", METADATA_TYPES);
        } else {
          continue;
        }
        if (fault == null) {
          continue;
        }
        Path aside = queueDir.resolve(CORRUPT_DIR).normalize();
        Files.createDirectories(aside);
        Path target = aside.resolve(name + "." + System.currentTimeMillis());
        Files.move(f, target);
        if (name.equals(METADATA_FILE)) {
          LOG.warn("spill metadata file {} is corrupt ({}); moved to {}. The spill opens with a new one;"
              + " the consumer position it held is lost, so records still in the spill are delivered again",
              f, fault, target);
        } else {
          LOG.warn("spill segment {} is corrupt ({}); moved to {}. Its records are not delivered; the"
              + " spill opens with the other segments", f, fault, target);
        }
      }
    }
  }

  /**
   * Why {@code file}'s header is not one Spillway writes, or null if it is (or is still being
   * written).
   */
  static String fault(Path file, String storeType, Set<String> allowedTypes) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(4 + MAX_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file)) {
      while (head.hasRemaining() && ch.read(head) > 0) {
        // read what there is of the header
      }
    }
    int read = head.position();
    if (read < 4) {
      return null; // empty: a writer is creating it (or the writer sets it aside as headerless)
    }
    int word = head.getInt(0);
    if (word == 0 || (word & NOT_COMPLETE) != 0) {
      return null;
    }
    int length = word & LENGTH_MASK;
    if ((word & META_DATA) == 0) {
      return "its first document is not a header (header word 0x" + Integer.toHexString(word) + ")";
    }
    if (length < 8 || length > MAX_HEADER_BYTES || 4 + length > read) {
      return "its header claims " + length + " bytes";
    }
    return new HeaderWalk(head, 4, 4 + length, storeType, allowedTypes).fault();
  }

  /** Walks the tokens of one header document; see Chronicle's {@code BinaryWireCode}. */
  private static final class HeaderWalk {
    private final ByteBuffer b;
    private final int end;
    private final String storeType;
    private final Set<String> allowed;
    private int pos;
    private int tokens;

    HeaderWalk(ByteBuffer b, int start, int end, String storeType, Set<String> allowed) {
      this.b = b;
      this.pos = start;
      this.end = end;
      this.storeType = storeType;
      this.allowed = allowed;
    }

    String fault() {
      try {
        // It must begin: event name "header", type prefix of the store.
        if (u8() != 0xB9 || !"header".equals(text(stopBit()))) {
          return "its header does not start with the 'header' event";
        }
        if (u8() != 0xB6) {
          return "its header names no store type";
        }
        String type = text(stopBit());
        if (!storeType.equals(type)) {
          return "its header names store type '" + printable(type) + "', not " + storeType;
        }
        while (pos < end) {
          String f = token();
          if (f != null) {
            return f;
          }
          if (++tokens > 4096) {
            return "its header has too many tokens";
          }
        }
        return pos == end ? null : "its header's last token runs past its end";
      } catch (IndexOutOfBoundsException e) {
        return "its header is cut short";
      }
    }

    /** Consumes one token; returns a fault or null. */
    private String token() {
      int at = pos;
      int code = u8();
      if (code < 0x80) {
        return null; // a small integer
      }
      if (code >= 0xC0 && code <= 0xDF) {
        skip(code & 0x1F); // field name
        return null;
      }
      if (code >= 0xE0) {
        skip(code & 0x1F); // short string
        return null;
      }
      switch (code) {
        case 0x80 -> skip(1); // BYTES_LENGTH8: the nested tokens follow
        case 0x81 -> skip(2);
        case 0x82 -> skip(4);
        case 0x8D -> { // I64_ARRAY: capacity, used, capacity values
          long capacity = b.getLong(check(at + 1, 16));
          pos += 16;
          if (capacity < 0 || capacity > 1024) {
            return "its header has an array of " + capacity + " values";
          }
          skip((int) capacity * 8);
        }
        case 0x8E -> { // PADDING32: a count, then that many bytes
          int n = b.getInt(check(at + 1, 4));
          pos += 4;
          if (n < 0 || n > MAX_HEADER_BYTES) {
            return "its header has padding of " + n + " bytes";
          }
          skip(n);
        }
        case 0x8F, 0xB0, 0xB1, 0xBB -> { } // PADDING, FALSE, TRUE, NULL
        case 0xA1, 0xA4 -> skip(1);
        case 0xA2, 0xA5 -> skip(2);
        case 0xA3, 0xA6, 0x90 -> skip(4);
        case 0xA7, 0x91 -> skip(8);
        case 0xB7, 0xB8, 0xB9 -> skip(stopBit()); // field name, string, event name
        case 0xB6 -> { // TYPE_PREFIX: what Chronicle would load as a class
          String type = text(stopBit());
          if (!allowed.contains(type)) {
            return "its header names type '" + printable(type) + "', which Spillway never writes";
          }
        }
        default -> {
          return "its header has wire code 0x" + Integer.toHexString(code) + " at byte " + at
              + ", which Spillway's headers never use";
        }
      }
      return null;
    }

    private int u8() {
      return b.get(check(pos++, 1)) & 0xFF;
    }

    private int check(int at, int n) {
      if (at < 0 || at + n > end) {
        throw new IndexOutOfBoundsException();
      }
      return at;
    }

    private void skip(int n) {
      check(pos, n);
      pos += n;
    }

    private int stopBit() {
      int value = 0;
      for (int shift = 0; shift < 28; shift += 7) {
        int x = u8();
        value |= (x & 0x7F) << shift;
        if ((x & 0x80) == 0) {
          return value;
        }
      }
      throw new IndexOutOfBoundsException();
    }

    private String text(int n) {
      check(pos, n);
      byte[] s = new byte[n];
      b.get(pos, s);
      pos += n;
      return new String(s, StandardCharsets.ISO_8859_1);
    }

    private static String printable(String s) {
      StringBuilder out = new StringBuilder();
      for (char c : s.toCharArray()) {
        out.append(c >= 0x20 && c < 0x7F ? c : '?');
        if (out.length() >= 64) {
          return out + "...";
        }
      }
      return out.toString();
    }
  }
}
