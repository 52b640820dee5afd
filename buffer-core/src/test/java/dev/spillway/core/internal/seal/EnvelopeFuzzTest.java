package dev.spillway.core.internal.seal;

import dev.spillway.core.RotationPolicy;
import dev.spillway.core.PayloadType;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.LocalKeys;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzzing of the read side of the envelope: {@link EnvelopeFormat#parse} and {@link Opener#open}
 * must only ever throw an {@link EnvelopeException} subtype or {@link KeyUnavailableException}, and
 * whatever opens must be one of the payloads that were really sealed (never garbage).
 *
 * <p>Input: a sequence of records, each as a 2-byte big-endian length and that many bytes, fed in
 * order to one {@link Opener}. The seed corpus ({@code EnvelopeFuzzTestInputs/}) holds real key
 * records and sealed batches made under a test-only key pair committed next to it
 * ({@code fuzz-keys/}: it protects nothing). See docs/RELIABILITY.md for the short and long runs.
 */
class EnvelopeFuzzTest {
  static final String QUEUE = "traces";
  private static final String RESOURCES = "/dev/spillway/core/internal/seal/";
  private static final DataKeyUnwrapper READER = loadReader();

  /** The payloads the seeds carry; anything that opens must be one of them. */
  static byte[] seedPayload(int i) {
    StringBuilder sb = new StringBuilder("SEED-PAYLOAD-").append(i).append(':');
    for (int j = 0; j < 20 + i * 7; j++) {
      sb.append("span ").append(j).append(" db.statement=SELECT ").append(j).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static final int SEED_PAYLOADS = 4;

  @FuzzTest(maxDuration = "20s")
  void parseAndOpen_anyBytes_typedErrorOrARealPayload(byte[] input) {
    check(input);
  }

  /**
   * The default suite runs the corpus through Jazzer in regression mode, which does not mutate.
   * This bounded, seeded mutation run gives CI some fuzzing time without JAZZER_FUZZ: bit flips,
   * byte overwrites, truncations, duplicated, dropped and swapped records over every seed.
   * {@code -Dspillway.fuzz.mutations=N} (default 10000) sets the count.
   */
  @Test
  void parseAndOpen_mutatedSeeds_typedErrorOrARealPayload() {
    List<byte[]> seeds = seeds("parseAndOpen_anyBytes_typedErrorOrARealPayload");
    assertThat(seeds).isNotEmpty();
    int n = Integer.getInteger("spillway.fuzz.mutations", 10_000);
    long deadline = System.nanoTime() + 40_000_000_000L;
    Random rnd = new Random(Long.getLong("spillway.fuzz.seed", 9));
    int done = 0;
    for (; done < n && System.nanoTime() < deadline; done++) {
      byte[] seed = seeds.get(rnd.nextInt(seeds.size()));
      check(Mutations.mutateFramed(seed, rnd));
    }
    assertThat(done).as("mutations run in the time bound").isGreaterThan(Math.min(n, 1000));
  }

  /** Every committed seed opens completely: the corpus really reaches the decryption path. */
  @Test
  void seedCorpus_opensWithTheCommittedTestKey() throws Exception {
    int opened = 0;
    for (byte[] seed : seeds("parseAndOpen_anyBytes_typedErrorOrARealPayload")) {
      Opener opener = new Opener(READER, QUEUE);
      for (byte[] record : Mutations.split(seed)) {
        EnvelopeFormat.Envelope e = EnvelopeFormat.parse(record);
        if (e instanceof KeyRecord k) {
          opener.accept(k);
        } else {
          opener.open((SealedRecord) e);
          opened++;
        }
      }
    }
    assertThat(opened).isGreaterThanOrEqualTo(SEED_PAYLOADS);
  }

  static void check(byte[] input) {
    Opener opener = new Opener(READER, QUEUE, 2);
    for (byte[] record : Mutations.split(input)) {
      try {
        EnvelopeFormat.Envelope e = EnvelopeFormat.parse(record);
        if (e instanceof KeyRecord k) {
          opener.accept(k);
        } else if (e instanceof SealedRecord s) {
          OpenedBatch o = opener.open(s);
          assertRealPayload(o.payload(), s);
        }
      } catch (EnvelopeException | KeyUnavailableException expected) {
        // the only allowed failures
      }
    }
  }

  private static void assertRealPayload(byte[] payload, SealedRecord s) {
    if (payload.length != s.plaintextLength()) {
      throw new AssertionError("opened " + payload.length + " bytes, header says " + s.plaintextLength());
    }
    for (int i = 0; i < SEED_PAYLOADS; i++) {
      if (Arrays.equals(payload, seedPayload(i))) {
        return;
      }
    }
    throw new AssertionError("a record opened to bytes that were never sealed (" + payload.length + " bytes)");
  }

  /** Writes the seed corpus: {@code -Dspillway.fuzz.writeSeeds=DIR} (the resources folder). */
  @Test
  @EnabledIfSystemProperty(named = "spillway.fuzz.writeSeeds", matches = ".+")
  void writeSeeds() throws Exception {
    Path res = Path.of(System.getProperty("spillway.fuzz.writeSeeds"));
    Path keys = res.resolve("dev/spillway/core/internal/seal/fuzz-keys");
    if (!Files.exists(keys.resolve(LocalKeys.WRITER_FILE))) {
      LocalKeys.init(keys);
    }
    DataKeyIssuer issuer = LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE));
    Path out = res.resolve("dev/spillway/core/internal/seal/EnvelopeFuzzTestInputs/parseAndOpen_anyBytes_typedErrorOrARealPayload");
    Files.createDirectories(out);
    MutableClock clock = new MutableClock(Instant.parse("2026-11-23T00:00:00Z"));
    for (Codec codec : Codec.values()) {
      Sealer sealer = new Sealer(issuer, QUEUE, RotationPolicy.defaults(), codec, clock);
      List<byte[]> records = new ArrayList<>();
      for (int i = 0; i < SEED_PAYLOADS; i++) {
        SealedBatch b = sealer.seal(PayloadType.values()[i % PayloadType.values().length], seedPayload(i));
        if (i == 0) {
          records.add(b.keyRecord().encoded());
        }
        records.add(b.bytes());
      }
      Files.write(out.resolve("stream-" + codec.name().toLowerCase()), Mutations.join(records));
      Files.write(out.resolve("one-batch-" + codec.name().toLowerCase()), Mutations.join(records.subList(0, 2)));
    }
  }

  static List<byte[]> seeds(String method) {
    List<byte[]> out = new ArrayList<>();
    try {
      Path dir = Path.of(EnvelopeFuzzTest.class.getResource("EnvelopeFuzzTestInputs/" + method).toURI());
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files.sorted()::iterator) {
          out.add(Files.readAllBytes(f));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private static DataKeyUnwrapper loadReader() {
    try {
      Path dir = Files.createTempDirectory("spillway-fuzz-keys");
      Path reader = dir.resolve(LocalKeys.READER_FILE);
      for (String f : new String[] {LocalKeys.READER_FILE, LocalKeys.VERIFIER_FILE}) {
        try (InputStream in = EnvelopeFuzzTest.class.getResourceAsStream(RESOURCES + "fuzz-keys/" + f)) {
          if (in == null) {
            return null; // only while writing seeds for the first time
          }
          Files.write(dir.resolve(f), in.readAllBytes());
        }
      }
      Files.setPosixFilePermissions(reader, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      DataKeyUnwrapper u = LocalKeys.unwrapper(reader);
      Files.delete(reader);
      Files.delete(dir.resolve(LocalKeys.VERIFIER_FILE));
      Files.delete(dir);
      return u;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The framing of fuzz inputs and the mutations of the default-suite run. */
  static final class Mutations {
    private Mutations() {}

    static List<byte[]> split(byte[] input) {
      List<byte[]> out = new ArrayList<>();
      ByteBuffer b = ByteBuffer.wrap(input);
      while (b.remaining() >= 2 && out.size() < 64) {
        int len = Math.min(b.getShort() & 0xffff, b.remaining());
        byte[] r = new byte[len];
        b.get(r);
        out.add(r);
      }
      return out;
    }

    static byte[] join(List<byte[]> records) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] r : records) {
        out.write(r.length >>> 8);
        out.write(r.length);
        out.writeBytes(r);
      }
      return out.toByteArray();
    }

    static byte[] mutateFramed(byte[] seed, Random rnd) {
      List<byte[]> records = new ArrayList<>(split(seed));
      int edits = 1 + rnd.nextInt(3);
      for (int e = 0; e < edits && !records.isEmpty(); e++) {
        int i = rnd.nextInt(records.size());
        byte[] r = records.get(i).clone();
        switch (rnd.nextInt(7)) {
          case 0 -> { if (r.length > 0) { int p = rnd.nextInt(r.length); r[p] ^= (byte) (1 << rnd.nextInt(8)); } }
          case 1 -> { if (r.length > 0) { r[rnd.nextInt(Math.min(r.length, 64))] = (byte) rnd.nextInt(256); } }
          case 2 -> r = Arrays.copyOf(r, rnd.nextInt(r.length + 1));
          case 3 -> records.add(rnd.nextInt(records.size() + 1), r); // replay
          case 4 -> { records.remove(i); continue; }
          case 5 -> { java.util.Collections.swap(records, i, rnd.nextInt(records.size())); continue; }
          default -> { // splice another record's header onto this body
            byte[] other = records.get(rnd.nextInt(records.size()));
            int cut = Math.min(rnd.nextInt(60), Math.min(r.length, other.length));
            System.arraycopy(other, 0, r, 0, cut);
          }
        }
        if (i < records.size()) {
          records.set(i, r);
        }
      }
      return join(records);
    }
  }
}
