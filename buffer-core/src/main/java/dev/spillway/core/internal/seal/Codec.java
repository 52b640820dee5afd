package dev.spillway.core.internal.seal;

import dev.spillway.core.Compression;
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
      byte[] out = Scratch.take(c.maxCompressedLength(plain.length));
      try {
        int n = c.compress(plain, 0, plain.length, out, 0, out.length);
        return java.util.Arrays.copyOf(out, n);
      } finally {
        Scratch.give(out);
      }
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

  /** The implementation of a compression chosen through the public API. */
  public static Codec of(Compression compression) {
    return switch (compression) {
      case NONE -> NONE;
      case LZ4 -> LZ4;
      case ZSTD -> ZSTD;
    };
  }

  /** The public API's name for this codec. */
  public Compression compression() {
    return switch (this) {
      case NONE -> Compression.NONE;
      case LZ4 -> Compression.LZ4;
      case ZSTD -> Compression.ZSTD;
    };
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
   * A few output buffers for compression, shared by the compressing threads: compressing into a
   * fresh array of the worst-case size (then copying the result out) zeroed as many bytes as the
   * payload had on every batch. Bounded in count and size, however many receiver threads compress:
   * at most {@link #POOLED} buffers of at most {@link #MAX_KEPT} bytes stay between batches, each
   * holding only the compressed bytes of some last batch (in memory, as the plaintext was).
   */
  static final class Scratch {
    static final int MAX_KEPT = 4 << 20;
    static final int POOLED = Math.max(2, 2 * Runtime.getRuntime().availableProcessors());
    private static final java.util.concurrent.ArrayBlockingQueue<byte[]> POOL =
        new java.util.concurrent.ArrayBlockingQueue<>(POOLED);

    private Scratch() {}

    /** An array of at least {@code length} bytes, the caller's until it {@link #give}s it back. */
    static byte[] take(int length) {
      byte[] b = POOL.poll();
      return b != null && b.length >= length ? b : new byte[length]; // a smaller one is dropped
    }

    static void give(byte[] b) {
      if (b.length <= MAX_KEPT) {
        POOL.offer(b); // dropped when the pool is full
      }
    }
  }

  /** zstd through zstd-jni, which loads its bundled native library on first use. */
  private static final class Zstd {
    /**
     * Native contexts kept between calls (zstd-jni's static helpers create and free one, hundreds
     * of KiB with its tables initialised, on every call). Pooled rather than per thread: a context
     * is freed only by {@code close()}, so one left in a dead pooled thread's ThreadLocal would
     * leak; one that does not fit in the pool is closed at once.
     */
    private static final java.util.concurrent.ArrayBlockingQueue<com.github.luben.zstd.ZstdCompressCtx> COMPRESS =
        new java.util.concurrent.ArrayBlockingQueue<>(Scratch.POOLED);
    private static final java.util.concurrent.ArrayBlockingQueue<com.github.luben.zstd.ZstdDecompressCtx> DECOMPRESS =
        new java.util.concurrent.ArrayBlockingQueue<>(Scratch.POOLED);

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
      com.github.luben.zstd.ZstdCompressCtx ctx = COMPRESS.poll();
      if (ctx == null) {
        ctx = new com.github.luben.zstd.ZstdCompressCtx().setLevel(LEVEL);
      }
      byte[] out = Scratch.take((int) com.github.luben.zstd.Zstd.compressBound(plain.length));
      boolean reusable = false;
      try {
        int n = ctx.compressByteArray(out, 0, out.length, plain, 0, plain.length);
        reusable = true;
        return java.util.Arrays.copyOf(out, n);
      } finally {
        Scratch.give(out);
        if (!reusable || !COMPRESS.offer(ctx)) {
          ctx.close(); // after a failure it is not trusted again
        }
      }
    }

    /**
     * Decompresses into an array of exactly the authenticated plaintext length, so a frame that
     * claims or produces more is an error, never an allocation it chose.
     */
    static byte[] decompress(byte[] data, int plaintextLength) throws EnvelopeFormatException {
      byte[] out = new byte[plaintextLength];
      long n;
      com.github.luben.zstd.ZstdDecompressCtx ctx = DECOMPRESS.poll();
      if (ctx == null) {
        ctx = new com.github.luben.zstd.ZstdDecompressCtx();
      }
      boolean reusable = false;
      try {
        // throws ZstdException (a RuntimeException) on a bad frame or one that does not fit
        n = ctx.decompressByteArray(out, 0, plaintextLength, data, 0, data.length);
        reusable = true;
      } catch (RuntimeException e) {
        throw new EnvelopeFormatException("zstd payload does not decompress: " + e.getMessage());
      } finally {
        if (!reusable || !DECOMPRESS.offer(ctx)) {
          ctx.close(); // after a bad frame it is not trusted again
        }
      }
      if (n != plaintextLength) {
        throw new EnvelopeFormatException(
            "zstd payload decompressed to " + n + " bytes, header says " + plaintextLength);
      }
      return out;
    }
  }
}
