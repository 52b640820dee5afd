package dev.spillway.core.internal.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CodecTest {
  static final byte[] SPANS = EnvelopeTest.payload(200);

  @ParameterizedTest
  @EnumSource(Codec.class)
  void decompress_headerSaysFewerBytesThanTheFrameHolds_isFormatErrorNotABiggerArray(Codec codec) {
    byte[] compressed = codec.compress(SPANS);
    assertThatThrownBy(() -> codec.decompress(compressed, SPANS.length - 1))
        .isInstanceOf(EnvelopeFormatException.class);
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void decompress_headerSaysMoreBytesThanTheFrameHolds_isFormatError(Codec codec) {
    byte[] compressed = codec.compress(SPANS);
    assertThatThrownBy(() -> codec.decompress(compressed, SPANS.length + 1))
        .isInstanceOf(EnvelopeFormatException.class);
  }

  @Test
  void zstd_garbage_isFormatErrorNamingZstd() {
    assertThatThrownBy(() -> Codec.ZSTD.decompress(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 100))
        .isInstanceOf(EnvelopeFormatException.class)
        .hasMessageContaining("zstd");
  }

  @Test
  void zstd_onSpanText_isSmallerThanLz4() {
    int lz4 = Codec.LZ4.compress(SPANS).length;
    int zstd = Codec.ZSTD.compress(SPANS).length;
    assertThat(zstd).isLessThan(lz4);
    assertThat(Codec.ZSTD.code()).isEqualTo(2);
  }

  @Test
  void fromConfigName_knowsZstdAndNamesTheChoices() {
    assertThat(Codec.fromConfigName("zstd")).isEqualTo(Codec.ZSTD);
    assertThatThrownBy(() -> Codec.fromConfigName("gzip"))
        .hasMessageContaining("expected none, lz4 or zstd");
  }

  @ParameterizedTest
  @EnumSource(value = Codec.class, names = {"LZ4", "ZSTD"})
  void compress_severalPayloadsOnOneThread_eachResultOwnsItsBytes(Codec codec) throws Exception {
    // Compression reuses a buffer per thread: what it returns must not be that buffer.
    byte[] large = new byte[200_000];
    byte[] small = new byte[3_000];
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < large.length; i++) {
      large[i] = (byte) ('a' + r.nextInt(6));
    }
    for (int i = 0; i < small.length; i++) {
      small[i] = (byte) ('k' + r.nextInt(3));
    }
    byte[] first = codec.compress(large);
    byte[] firstCopy = first.clone();
    byte[] second = codec.compress(small);
    byte[] third = codec.compress(large);
    assertThat(first).isEqualTo(firstCopy).isNotSameAs(third);
    assertThat(codec.decompress(first, large.length)).isEqualTo(large);
    assertThat(codec.decompress(second, small.length)).isEqualTo(small);
    assertThat(codec.decompress(third, large.length)).isEqualTo(large);
  }

  @ParameterizedTest
  @EnumSource(value = Codec.class, names = {"LZ4", "ZSTD"})
  void compress_manyThreadsAtOnce_eachGetsItsOwnPayloadBack(Codec codec) throws Exception {
    // Buffers and zstd contexts are pooled across threads: more threads than the pool holds,
    // each round-tripping its own payload, must never see another's bytes.
    int threads = Codec.Scratch.POOLED + 3;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      java.util.List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int seed = t;
        results.add(pool.submit(() -> {
          java.util.Random r = new java.util.Random(seed);
          for (int i = 0; i < 50; i++) {
            byte[] plain = new byte[1_000 + r.nextInt(60_000)];
            for (int j = 0; j < plain.length; j++) {
              plain[j] = (byte) ('a' + r.nextInt(4) + seed);
            }
            byte[] packed = codec.compress(plain);
            if (!java.util.Arrays.equals(codec.decompress(packed, plain.length), plain)) {
              return false;
            }
          }
          return true;
        }));
      }
      for (java.util.concurrent.Future<Boolean> f : results) {
        assertThat(f.get(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
