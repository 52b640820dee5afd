package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.spillway.core.PayloadType;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The scanner's limits and refusals on hand-made requests; protobuf agreement is in the fuzz test. */
class OtlpWireTest {
  static final OtlpWire.Limits LIMITS = OtlpWire.Limits.DEFAULT;

  /** Two million empty spans in one ScopeSpans: 4 MB raw, ~4 KB gzipped. */
  static byte[] emptySpans(int n) throws IOException {
    ByteArrayOutputStream spans = new ByteArrayOutputStream(2 * n);
    for (int i = 0; i < n; i++) {
      spans.write(0x12); // ScopeSpans.spans = 2, LEN
      spans.write(0x00);
    }
    return wrap(wrap(spans.toByteArray(), 2), 1); // ResourceSpans.scope_spans = 2, request.resource_spans = 1
  }

  static byte[] wrap(byte[] inner, int field) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(inner.length + 8);
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    c.writeByteArray(field, inner);
    c.flush();
    return out.toByteArray();
  }

  @Test
  void scan_twoMillionEmptySpans_refusedAsTooManyItems() throws Exception {
    byte[] bomb = emptySpans(2_000_000);
    assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, bomb, LIMITS))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.TOO_MANY_ITEMS))
        .hasMessageContaining("100000");
  }

  @Test
  void scan_spansUpToTheLimit_countedExactly() throws Exception {
    assertThat(OtlpWire.scan(OtlpWire.Signal.TRACES, emptySpans(100_000), LIMITS).items()).isEqualTo(100_000);
  }

  @Test
  void scan_attributesNestedPastTheDepth_refusedAsTooDeep() {
    byte[] ok = OtlpRequests.traces(1).toBuilder().build().toByteArray();
    ExportTraceServiceRequest deep = request(Span.newBuilder()
        .addAttributes(OtlpRequests.kv("deep", OtlpRequests.nested(17))).build());
    ExportTraceServiceRequest atLimit = request(Span.newBuilder()
        .addAttributes(OtlpRequests.kv("deep", OtlpRequests.nested(16))).build());
    assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, deep.toByteArray(), LIMITS))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.TOO_DEEP));
    assertThat(OtlpWireFuzzTest.check(OtlpWire.Signal.TRACES, ok)).isTrue();
    assertThat(catchCounts(atLimit.toByteArray()).items()).isEqualTo(1);
  }

  @Test
  void scan_tooManyAttributes_refused() {
    Span.Builder s = Span.newBuilder();
    for (int i = 0; i < 11; i++) {
      s.addAttributes(OtlpRequests.kv("k" + i, OtlpRequests.str("v")));
    }
    byte[] b = request(s.build()).toByteArray();
    assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, b, new OtlpWire.Limits(10, 10, 4)))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.TOO_MANY_ATTRIBUTES));
  }

  @Test
  void scan_invalidUtf8InASpanName_refusedLikeProtobuf() throws Exception {
    byte[] good = request(Span.newBuilder().setName("ab").build()).toByteArray();
    byte[] bad = good.clone();
    int at = indexOf(bad, "ab".getBytes());
    bad[at] = (byte) 0xC0; // an over-long encoding's lead byte
    bad[at + 1] = (byte) 0x80;
    assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, bad, LIMITS))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.INVALID_UTF8));
    assertThat(OtlpWireFuzzTest.check(OtlpWire.Signal.TRACES, bad)).isFalse();
  }

  @Test
  void scan_packedFixed64NotWholeElements_sameVerdictAsProtobuf() throws Exception {
    // HistogramDataPoint.bucket_counts (6) is packed fixed64: 7 bytes are not one element.
    byte[] point = new byte[] {0x32, 7, 1, 2, 3, 4, 5, 6, 7};
    byte[] metrics = wrap(wrap(wrap(wrap(wrap(point, 1), 9), 2), 2), 1);
    OtlpWireFuzzTest.check(OtlpWire.Signal.METRICS, metrics);
    byte[] whole = new byte[] {0x32, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    assertThat(OtlpWireFuzzTest.check(OtlpWire.Signal.METRICS, wrap(wrap(wrap(wrap(wrap(whole, 1), 9), 2), 2), 1)))
        .isTrue();
  }

  @Test
  void scan_truncatedOrBadTags_refusedAsMalformed() {
    byte[] good = OtlpRequests.traces(2).toByteArray();
    for (byte[] bad : new byte[][] {
        java.util.Arrays.copyOf(good, good.length - 1),
        {0x00}, // field 0
        {0x0f}, // wire type 7
        {0x0c}, // end group without start
        {0x0b, 0x14}, // group 1 closed as group 2
        {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
            (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}, // 11-byte varint
    }) {
      assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, bad, LIMITS))
          .isInstanceOfSatisfying(OtlpWire.Refused.class,
              e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.MALFORMED));
      assertThat(OtlpWireFuzzTest.check(OtlpWire.Signal.TRACES, bad)).isFalse();
    }
  }

  @Test
  void scan_overlongVarintProtobufJavaLetsThrough_refused() {
    // Found by Jazzer: protobuf-java's fast path accepts this 10-byte varint (an unknown field
    // 12); its 10th byte has the continuation bit set. Go's protowire refuses it; so do we.
    byte[] b = java.util.HexFormat.of().parseHex("6091919191ff9191919191");
    assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, b, LIMITS))
        .isInstanceOf(OtlpWire.Refused.class).hasMessageContaining("varint");
    byte[] overflow = java.util.HexFormat.of().parseHex("60ffffffffffffffffff02"); // 10th byte > 1
    assertThatThrownBy(() -> OtlpWire.scan(OtlpWire.Signal.TRACES, overflow, LIMITS))
        .isInstanceOf(OtlpWire.Refused.class).hasMessageContaining("overflows");
    byte[] max = java.util.HexFormat.of().parseHex("60ffffffffffffffffff01"); // 2^64 - 1: valid
    assertThat(OtlpWireFuzzTest.check(OtlpWire.Signal.TRACES, max)).isTrue();
  }

  @Test
  void scan_unknownFieldsAndGroups_skippedLikeProtobuf() {
    byte[] known = OtlpRequests.traces(2).toByteArray();
    byte[] extra = {(byte) 0xfa, 0x3e, 0x01, 0x41, 0x5b, 0x08, 0x01, 0x5c}; // field 999 LEN, group 11{1:1}
    byte[] b = new byte[known.length + extra.length];
    System.arraycopy(known, 0, b, 0, known.length);
    System.arraycopy(extra, 0, b, known.length, extra.length);
    assertThat(OtlpWireFuzzTest.check(OtlpWire.Signal.TRACES, b)).isTrue();
  }

  @Test
  void count_eachPayloadType_itemsOfThatSignal() throws Exception {
    assertThat(OtlpWire.count(PayloadType.OTLP_TRACES, OtlpRequests.traces(5).toByteArray())).isEqualTo(5);
    assertThat(OtlpWire.count(PayloadType.OTLP_METRICS, OtlpRequests.metrics().toByteArray())).isEqualTo(6);
    assertThat(OtlpWire.count(PayloadType.OTLP_LOGS, OtlpRequests.logs().toByteArray())).isEqualTo(3);
    assertThat(OtlpWire.count(PayloadType.OTLP_TRACES, emptySpans(2_000_000))).isEqualTo(2_000_000);
  }

  /**
   * The ASCII fast path agrees with protobuf's validator wherever a multi-byte sequence (valid,
   * truncated, a surrogate, over-long, a stray continuation byte) sits: in or across the eight-byte
   * steps, at the window's edges, or cut by them.
   */
  @Test
  void isValidUtf8_agreesWithProtobufWhereverTheNonAsciiBytesSit() {
    byte[][] sequences = {
        {(byte) 0xc3, (byte) 0xa9}, // é
        {(byte) 0xf0, (byte) 0x9f, (byte) 0x98, (byte) 0x80}, // an emoji
        {(byte) 0xc3}, // truncated
        {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, // a surrogate
        {(byte) 0xc0, (byte) 0xaf}, // over-long '/'
        {(byte) 0x80}, // a continuation byte alone
        {(byte) 0xff}};
    int checked = 0;
    int invalid = 0;
    for (byte[] seq : sequences) {
      for (int at = 0; at < 24; at++) {
        byte[] b = new byte[32];
        java.util.Arrays.fill(b, (byte) 'a');
        System.arraycopy(seq, 0, b, at, Math.min(seq.length, b.length - at));
        for (int from = 0; from < 10; from++) {
          for (int end = from; end <= b.length; end++) {
            boolean expected = ByteString.copyFrom(b, from, end - from).isValidUtf8();
            assertThat(OtlpWire.isValidUtf8(b, from, end))
                .as("sequence %s at %d, window [%d, %d)", java.util.HexFormat.of().formatHex(seq), at, from, end)
                .isEqualTo(expected);
            checked++;
            invalid += expected ? 0 : 1;
          }
        }
      }
    }
    assertThat(invalid).as("the cases include invalid windows").isGreaterThan(checked / 10);
  }

  @Test
  void isValidUtf8_randomMostlyAsciiBytes_agreesWithProtobuf() {
    java.util.Random random = new java.util.Random(19);
    for (int i = 0; i < 20_000; i++) {
      byte[] b = new byte[random.nextInt(40)];
      for (int j = 0; j < b.length; j++) {
        b[j] = (byte) (random.nextInt(50) == 0 ? 0x80 + random.nextInt(128) : random.nextInt(128));
      }
      assertThat(OtlpWire.isValidUtf8(b, 0, b.length)).isEqualTo(ByteString.copyFrom(b).isValidUtf8());
    }
  }

  private static ExportTraceServiceRequest request(Span span) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .addScopeSpans(ScopeSpans.newBuilder().addSpans(span.toBuilder()
            .setTraceId(ByteString.copyFrom(new byte[16]))))).build();
  }

  private static OtlpWire.Counts catchCounts(byte[] b) {
    try {
      return OtlpWire.scan(OtlpWire.Signal.TRACES, b, LIMITS);
    } catch (OtlpWire.Refused e) {
      throw new AssertionError(e.getMessage());
    }
  }

  /** Where {@code needle} first occurs in {@code hay} (also used by {@link OtlpWireCountTest}). */
  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
