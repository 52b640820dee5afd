package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link OtlpWire} against protobuf-java's own parser, on the three request types: whatever the
 * bytes, the scanner accepts exactly what the parser accepts (except where it refuses for a limit,
 * which the parser does not have, or refuses an over-long varint the parser lets through), and on what both accept it counts the same items and key-value
 * pairs as a walk over the parsed objects. (On raw input the scanner may count more: a {@code
 * oneof} set twice keeps only the last value in the parser; so equality is checked on the parser's
 * own re-encoding, and "at least" on the raw bytes.)
 *
 * <p>Jazzer input: byte 0 picks the signal, the rest is the request. The default suite runs
 * {@link #mutatedRequests_allSignals_sameVerdictAsProtobuf} instead: bounded seeded mutations.
 */
class OtlpWireFuzzTest {
  /** Small limits so the fuzzer reaches them too. */
  static final OtlpWire.Limits LIMITS = new OtlpWire.Limits(1_000, 5_000, 8);

  @FuzzTest(maxDuration = "30s")
  void scan_anyBytes_sameVerdictAsProtobuf(byte[] input) {
    if (input.length == 0) {
      return;
    }
    OtlpWire.Signal signal = OtlpWire.Signal.values()[(input[0] & 0xff) % 3];
    byte[] body = new byte[input.length - 1];
    System.arraycopy(input, 1, body, 0, body.length);
    check(signal, body);
  }

  @Test
  void mutatedRequests_allSignals_sameVerdictAsProtobuf() {
    int n = Integer.getInteger("spillway.fuzz.mutations", 5_000);
    long deadline = System.nanoTime() + 30_000_000_000L;
    Random rnd = new Random(Long.getLong("spillway.fuzz.seed", 19));
    List<byte[]> seeds = List.of(OtlpRequests.traces(3).toByteArray(), OtlpRequests.metrics().toByteArray(),
        OtlpRequests.logs().toByteArray());
    int done = 0;
    int accepted = 0;
    for (; done < n && System.nanoTime() < deadline; done++) {
      int s = rnd.nextInt(3);
      if (check(OtlpWire.Signal.values()[s], OtlpDecodeFuzzTest.mutate(seeds.get(s), rnd))) {
        accepted++;
      }
    }
    assertThat(done).isGreaterThan(Math.min(n, 1_000));
    // Both verdicts must have been exercised, or the comparison proves little.
    assertThat(accepted).isBetween(done / 20, done - done / 20);
  }

  @Test
  void scan_validRequestsOfEachSignal_countsAsProtobuf() throws Exception {
    for (int spans : new int[] {0, 1, 7, 300}) {
      check(OtlpWire.Signal.TRACES, OtlpRequests.traces(spans).toByteArray());
    }
    assertThat(check(OtlpWire.Signal.METRICS, OtlpRequests.metrics().toByteArray())).isTrue();
    assertThat(check(OtlpWire.Signal.LOGS, OtlpRequests.logs().toByteArray())).isTrue();
    assertThat(OtlpWire.scan(OtlpWire.Signal.METRICS, OtlpRequests.metrics().toByteArray(), LIMITS).items())
        .isEqualTo(6); // 2 gauge, 1 sum, 1 histogram, 1 exponential, 1 summary
  }

  /** Writes the seed corpus: {@code -Dspillway.fuzz.writeSeeds=DIR} (the resources folder). */
  @Test
  @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "spillway.fuzz.writeSeeds", matches = ".+")
  void writeSeeds() throws Exception {
    java.nio.file.Path d = java.nio.file.Files.createDirectories(java.nio.file.Path.of(System.getProperty("spillway.fuzz.writeSeeds"))
        .resolve("dev/spillway/server/receive/OtlpWireFuzzTestInputs/scan_anyBytes_sameVerdictAsProtobuf"));
    java.nio.file.Files.write(d.resolve("traces"), prefixed(0, OtlpRequests.traces(2).toByteArray()));
    java.nio.file.Files.write(d.resolve("metrics"), prefixed(1, OtlpRequests.metrics().toByteArray()));
    java.nio.file.Files.write(d.resolve("logs"), prefixed(2, OtlpRequests.logs().toByteArray()));
  }

  private static byte[] prefixed(int signal, byte[] body) {
    byte[] out = new byte[body.length + 1];
    out[0] = (byte) signal;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  /** @return whether the scanner accepted */
  static boolean check(OtlpWire.Signal signal, byte[] body) {
    OtlpWire.Counts counts = null;
    OtlpWire.Refused refused = null;
    try {
      counts = OtlpWire.scan(signal, body, LIMITS);
    } catch (OtlpWire.Refused e) {
      refused = e;
    }
    Message parsed;
    try {
      parsed = parser(signal).parseFrom(body);
    } catch (InvalidProtocolBufferException e) {
      parsed = null;
    }
    if (refused != null) {
      if (refused.reason().overLimit()) {
        return false;
      }
      // The one deliberate difference: varints must be valid encodings (see OtlpWire's javadoc).
      if (parsed != null && !refused.getMessage().contains("varint")) {
        throw new AssertionError(signal + ": the scanner refused (" + refused.getMessage()
            + ") what protobuf accepts: " + hex(body));
      }
      return false;
    }
    if (parsed == null) {
      throw new AssertionError(signal + ": the scanner accepted what protobuf refuses: " + hex(body));
    }
    long[] walked = walk(parsed);
    if (counts.items() < walked[0] || counts.attributes() < walked[1]) {
      throw new AssertionError(signal + ": counted " + counts + ", the parsed request holds "
          + walked[0] + " items and " + walked[1] + " attributes: " + hex(body));
    }
    try {
      OtlpWire.Counts canonical = OtlpWire.scan(signal, parsed.toByteArray(), LIMITS);
      if (canonical.items() != walked[0] || canonical.attributes() != walked[1]) {
        throw new AssertionError(signal + ": re-encoded request counted " + canonical + ", holds "
            + walked[0] + " items and " + walked[1] + " attributes");
      }
    } catch (OtlpWire.Refused e) {
      throw new AssertionError(signal + ": protobuf's own encoding refused: " + e.getMessage());
    }
    return true;
  }

  static Parser<? extends Message> parser(OtlpWire.Signal signal) {
    return switch (signal) {
      case TRACES -> ExportTraceServiceRequest.parser();
      case METRICS -> ExportMetricsServiceRequest.parser();
      case LOGS -> ExportLogsServiceRequest.parser();
    };
  }

  /** {items, key-value pairs} of a parsed request, by walking its objects. */
  static long[] walk(Message m) {
    long[] n = new long[2];
    walk(m, n);
    return n;
  }

  private static final java.util.Set<String> ITEMS = java.util.Set.of("Span", "NumberDataPoint",
      "HistogramDataPoint", "ExponentialHistogramDataPoint", "SummaryDataPoint", "LogRecord");

  private static void walk(Message m, long[] n) {
    String name = m.getDescriptorForType().getName();
    if (ITEMS.contains(name)) {
      n[0]++;
    }
    if (name.equals("KeyValue")) {
      n[1]++;
    }
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      if (e.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (e.getKey().isRepeated()) {
        for (Object o : (List<?>) e.getValue()) {
          walk((Message) o, n);
        }
      } else {
        walk((Message) e.getValue(), n);
      }
    }
  }

  private static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 512));
  }
}
