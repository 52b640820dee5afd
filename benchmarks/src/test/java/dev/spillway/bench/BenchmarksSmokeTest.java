package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.bench.core.ConcurrentOfferBenchmark;
import dev.spillway.bench.core.SpillBufferBenchmark;
import dev.spillway.bench.export.EmbeddedPathBenchmark;
import dev.spillway.bench.seal.AeadBaselineBenchmark;
import dev.spillway.bench.seal.SealBenchmark;
import dev.spillway.bench.spill.ReadOpenBenchmark;
import dev.spillway.bench.spill.SpillAppendBenchmark;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each benchmark method runs once at the smallest batch (no JMH, no timing): the benchmarks keep
 * compiling and working without the suite being part of {@code mvn verify}.
 */
class BenchmarksSmokeTest {
  @TempDir static Path scratch;

  @BeforeAll
  static void scratchDir() {
    System.setProperty("spillway.bench.dir", scratch.toString());
    System.setProperty("spillway.bench.readFillBytes", String.valueOf(1 << 20));
    System.setProperty("spillway.bench.skipAesWarmup", "true");
  }

  @Test
  void spanFixtures_areDeterministicAndRealisticallySized() {
    byte[] a = SpanFixtures.otlpBytes(128);
    assertThat(a).isEqualTo(SpanFixtures.otlpBytes(128));
    assertThat(a.length / 128.0).isBetween(800.0, 1100.0);
    assertThat(SpanFixtures.spans(1).get(0).getAttributes().size()).isEqualTo(20);
  }

  @Test
  void seal_andCryptoBaselines_runOnce() throws Exception {
    for (String codec : new String[] {"NONE", "LZ4"}) {
      SealBenchmark b = new SealBenchmark();
      b.batch = 128;
      b.codec = codec;
      b.setUp();
      assertThat(b.seal()).isNotEmpty();
      b.tearDown();
    }
    AeadBaselineBenchmark a = new AeadBaselineBenchmark();
    a.batch = 128;
    a.setUp();
    assertThat(a.tinkAesGcm()).isNotEmpty();
    assertThat(a.kmsEnvelopeAead()).isNotEmpty();
    a.tearDown();
  }

  @Test
  void appendAndReadOpen_runOnceInEveryMode() throws Exception {
    for (String mode : new String[] {"plaintext", "sealed-none", "sealed-lz4"}) {
      SpillAppendBenchmark w = new SpillAppendBenchmark();
      w.batch = 128;
      w.mode = mode;
      w.setUp();
      w.append();
      w.append();
      w.tearDown();
      ReadOpenBenchmark r = new ReadOpenBenchmark();
      r.batch = 128;
      r.mode = mode;
      r.setUp();
      byte[] payload = r.readNext();
      assertThat(payload).isEqualTo(SpanFixtures.otlpBytes(128));
      r.tearDown();
    }
  }

  @Test
  void fullPath_andEmbeddedPath_runOnce() throws Exception {
    for (String codec : new String[] {"LZ4", "ZSTD"}) {
      SpillBufferBenchmark f = new SpillBufferBenchmark();
      f.batch = 128;
      f.codec = codec;
      f.setUp();
      assertThat(f.offerPollAck()).as(codec).isEqualTo(SpanFixtures.otlpBytes(128).length);
      f.tearDown();
    }
    ConcurrentOfferBenchmark c = new ConcurrentOfferBenchmark();
    c.batch = 128;
    c.fsync = "1s";
    c.setUp();
    assertThat(c.offerOneThread().accepted()).isTrue();
    assertThat(c.offerTwoThreads().accepted()).isTrue();
    c.tearDown();
    EmbeddedPathBenchmark e = new EmbeddedPathBenchmark();
    e.batch = 128;
    e.setUp();
    assertThat(e.embeddedSpill().accepted()).isTrue();
    assertThat(e.diskBufferingWrite().isSuccessful()).isTrue();
    assertThat(e.marshalOnly()).isEqualTo(SpanFixtures.otlpBytes(128));
    assertThat(e.marshalViaProtobufObjects()).isEqualTo(SpanFixtures.otlpBytes(128));
    e.tearDown();
  }
}
