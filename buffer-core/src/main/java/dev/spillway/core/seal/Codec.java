package dev.spillway.core.seal;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Compression applied before sealing. Codes are written to disk: never reuse one.
 *
 * <p>Compressing before encrypting leaks the compressed length: an observer who can both inject
 * span attributes and watch spill sizes can, in principle, probe other attributes (the CRIME
 * family). docs/ENVELOPE.md weighs that against the disk throughput it buys; {@link #NONE} turns
 * it off.
 */
public enum Codec {
  NONE(0) {
    @Override
    byte[] compress(byte[] plain) {
      return plain;
    }

    @Override
    byte[] decompress(byte[] data, int plaintextLength) throws EnvelopeFormatException {
      if (data.length != plaintextLength) {
        throw new EnvelopeFormatException(
            "payload is " + data.length + " bytes, header says " + plaintextLength);
      }
      return data;
    }
  },
  /** LZ4 block format (lz4-java, fast compressor), original length taken from the header. */
  LZ4(1) {
    @Override
    byte[] compress(byte[] plain) {
      LZ4Compressor c = Lz4.COMPRESSOR;
      byte[] out = Scratch.get(c.maxCompressedLength(plain.length));
      int n = c.compress(plain, 0, plain.length, out, 0, out.length);
      return java.util.Arrays.copyOf(out, n);
    }

    @Override
    byte[] decompress(byte[] data, int plaintextLength) throws EnvelopeFormatException {
      LZ4SafeDecompressor d = Lz4.DECOMPRESSOR;
      byte[] out = new byte[plaintextLength];
      try {
        int n = d.decompress(data, 0, data.length, out, 0, plaintextLength);
        if (n != plaintextLength) {
          throw new EnvelopeFormatException(
              "lz4 payload decompressed to " + n + " bytes, header says " + plaintextLength);
        }
        return out;
      } catch (LZ4Exception e) {
        throw new EnvelopeFormatException("lz4 payload does not decompress: " + e.getMessage());
      }
    }
  },
  /**
   * One zstd frame (zstd-jni, level 1): about a third fewer bytes than LZ4 on
   * OTLP spans, for about twice its compression CPU (docs/ENVELOPE.md has the figures).
   */
  ZSTD(2) {
    @Override
    byte[] compress(byte[] plain) {
      return Zstd.compress(plain);
    }

    @Override
    byte[] decompress(byte[] data, int plaintextLength) throws EnvelopeFormatException {
      return Zstd.decompress(data, plaintextLength);
    }
  };

  private final int code;

  Codec(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  abstract byte[] compress(byte[] plain);

  abstract byte[] decompress(byte[] data, int plaintextLength) throws EnvelopeFormatException;

  static Codec fromCode(int code) {
    for (Codec c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return null;
  }

  /**
   * Parses a configuration value: none, lz4 or zstd.
   *
   * @throws IllegalArgumentException for an unknown name, or zstd where its native library cannot
   *     load (another platform, a noexec temporary directory)
   */
  public static Codec fromConfigName(String name) {
    return switch (name) {
      case "none" -> NONE;
      case "lz4" -> LZ4;
      case "zstd" -> {
        Zstd.requireLoaded();
        yield ZSTD;
      }
      default -> throw new IllegalArgumentException(
          "unknown compression '" + name + "' (expected none, lz4 or zstd)");
    };
  }

  /**
   * Which LZ4 compressor this process uses, for the startup log: lz4-java's JNI build or its
   * pure-Java one (see {@link Lz4}).
   */
  public static String lz4Implementation() {
    return Lz4.COMPRESSOR.toString();
  }

  private static final class Lz4 {
    /** Set to {@code false} to keep lz4-java from loading its native library. */
    static final String NATIVE_PROPERTY = "spillway.lz4.native";

    // Compression runs lz4-java's bundled JNI build, about 3x its pure-Java speed on the
    // benchmark spans (docs/BENCHMARKS.md), as Kafka and Cassandra do. lz4-java extracts that
    // library into java.io.tmpdir and falls back to pure Java when it cannot load it (another
    // platform, a noexec temporary directory); -Dspillway.lz4.native=false skips it. Its input is
    // the payload we were given, never bytes read from disk.
    static final LZ4Compressor COMPRESSOR =
        (Boolean.parseBoolean(System.getProperty(NATIVE_PROPERTY, "true"))
                ? LZ4Factory.fastestInstance()
                : LZ4Factory.fastestJavaInstance())
            .fastCompressor();

    // Decompression stays pure Java and bounds-checked: it reads what came off the disk (after
    // AES-GCM has authenticated it), and reading is not where the time goes.
    static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestJavaInstance().safeDecompressor();
  }

  /**
   * Each compressing thread's output buffer, of the largest bound it needed so far: compressing
   * into a fresh array of the worst-case size (then copying the result out) zeroed as many bytes
   * as the payload had on every batch. Only compressed bytes of the last batch stay in it, like the
   * plaintext they came from, in memory; a buffer over {@link #MAX_KEPT} is not kept.
   */
  static final class Scratch {
    static final int MAX_KEPT = 16 << 20;
    private static final ThreadLocal<byte[]> KEPT = new ThreadLocal<>();

    private Scratch() {}

    /** An array of at least {@code length} bytes, this thread's to use until its next call. */
    static byte[] get(int length) {
      byte[] b = KEPT.get();
      if (b != null && b.length >= length) {
        return b;
      }
      b = new byte[length];
      if (length <= MAX_KEPT) {
        KEPT.set(b);
      }
      return b;
    }
  }

  /** zstd through zstd-jni, which loads its bundled native library on first use. */
  private static final class Zstd {
    /**
     * One compression and one decompression context per thread: zstd-jni's static helpers create
     * and free a native context (hundreds of KiB, its tables initialised) on every call.
     */
    private static final ThreadLocal<com.github.luben.zstd.ZstdCompressCtx> COMPRESS =
        ThreadLocal.withInitial(() -> new com.github.luben.zstd.ZstdCompressCtx().setLevel(Zstd.LEVEL));
    private static final ThreadLocal<com.github.luben.zstd.ZstdDecompressCtx> DECOMPRESS =
        ThreadLocal.withInitial(com.github.luben.zstd.ZstdDecompressCtx::new);

    /** zstd's fastest standard level: most of its ratio, at about twice LZ4's compression CPU. */
    static final int LEVEL = 1;

    static void requireLoaded() {
      try {
        com.github.luben.zstd.util.Native.load();
      } catch (LinkageError e) {
        throw new IllegalArgumentException(
            "compression zstd needs zstd-jni's native library, which does not load here (" + e + ");"
                + " use lz4 or none", e);
      }
    }

    static byte[] compress(byte[] plain) {
      byte[] out = Scratch.get((int) com.github.luben.zstd.Zstd.compressBound(plain.length));
      int n = COMPRESS.get().compressByteArray(out, 0, out.length, plain, 0, plain.length);
      return java.util.Arrays.copyOf(out, n);
    }

    /**
     * Decompresses into an array of exactly the authenticated plaintext length, so a frame that
     * claims or produces more is an error, never an allocation it chose.
     */
    static byte[] decompress(byte[] data, int plaintextLength) throws EnvelopeFormatException {
      byte[] out = new byte[plaintextLength];
      long n;
      try {
        // throws ZstdException (a RuntimeException) on a bad frame or one that does not fit
        n = DECOMPRESS.get().decompressByteArray(out, 0, plaintextLength, data, 0, data.length);
      } catch (RuntimeException e) {
        throw new EnvelopeFormatException("zstd payload does not decompress: " + e.getMessage());
      }
      if (n != plaintextLength) {
        throw new EnvelopeFormatException(
            "zstd payload decompressed to " + n + " bytes, header says " + plaintextLength);
      }
      return out;
    }
  }
}
