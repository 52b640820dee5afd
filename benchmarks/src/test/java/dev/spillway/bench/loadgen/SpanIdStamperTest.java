package dev.spillway.bench.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.protobuf.ByteString;
import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.export.internal.OtlpSpans;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SpanIdStamperTest {
  private static final ExportTraceServiceRequest REQUEST = OtlpSpans.toRequest(SpanFixtures.spans(64));

  @Test
  void next_twoConnections_everySpanIdDistinctAndOnlyIdsChange() throws Exception {
    SpanIdStamper first = new SpanIdStamper(REQUEST, 0);
    SpanIdStamper second = new SpanIdStamper(REQUEST, 1);
    Set<ByteString> ids = new HashSet<>();
    for (byte[] bytes : new byte[][] {first.next(), first.next(), second.next()}) {
      ExportTraceServiceRequest stamped = ExportTraceServiceRequest.parseFrom(bytes);
      assertEquals(withoutSpanIds(REQUEST), withoutSpanIds(stamped));
      forEachSpan(stamped, s -> ids.add(s.getSpanId()));
      forEachSpan(stamped, s -> assertNotEquals(0L, s.getSpanId().asReadOnlyByteBuffer().getLong()));
    }
    assertEquals(3 * 64, ids.size());
    assertEquals(64, first.spansPerRequest());
  }

  @Test
  void record_aSecondRunNumberedFromAnotherConnection_addsUniqueIds_notDuplicates() throws Exception {
    SpanIdTally tally = new SpanIdTally();
    for (SpanIdStamper run : new SpanIdStamper[] {new SpanIdStamper(REQUEST, 0), new SpanIdStamper(REQUEST, 1000),
        new SpanIdStamper(REQUEST, SpanIdStamper.MAX_CONNECTIONS - 1)}) {
      forEachSpan(ExportTraceServiceRequest.parseFrom(run.next()), s -> tally.record(s.getSpanId(), 42L));
    }
    assertEquals(3 * 64, tally.unique());
    assertEquals(0, tally.duplicates());
    assertEquals(0, tally.foreign());
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new SpanIdStamper(REQUEST, SpanIdStamper.MAX_CONNECTIONS));
  }

  @Test
  void record_requestDeliveredTwice_countsDuplicatesAndForeignIds() throws Exception {
    SpanIdStamper stamper = new SpanIdStamper(REQUEST, 3);
    byte[] once = stamper.next();
    byte[] twice = stamper.next();
    SpanIdTally tally = new SpanIdTally();
    for (byte[] bytes : new byte[][] {once, twice, twice}) {
      forEachSpan(ExportTraceServiceRequest.parseFrom(bytes), s -> tally.record(s.getSpanId(), 42L));
    }
    forEachSpan(REQUEST, s -> tally.record(s.getSpanId(), 43L)); // the fixture's own random ids

    assertEquals(128, tally.unique());
    assertEquals(64, tally.duplicates());
    assertEquals(64, tally.foreign());
    assertEquals("128 64 64 42", tally.summary());
    assertEquals(42L, tally.firstNewMillis());
  }

  private static ExportTraceServiceRequest withoutSpanIds(ExportTraceServiceRequest r) {
    ExportTraceServiceRequest.Builder b = r.toBuilder();
    for (ResourceSpans.Builder rs : b.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
        for (Span.Builder s : ss.getSpansBuilderList()) {
          s.clearSpanId();
        }
      }
    }
    return b.build();
  }

  private static void forEachSpan(ExportTraceServiceRequest r, java.util.function.Consumer<Span> each) {
    r.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> ss.getSpansList().forEach(each)));
  }
}
