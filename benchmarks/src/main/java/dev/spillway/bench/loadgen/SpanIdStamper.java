package dev.spillway.bench.loadgen;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes every span a sender sends carry its own span id, so a downstream {@link SpanIdTally} can
 * count spans lost and spans delivered twice end to end.
 *
 * <p>The request is serialised once; each call copies those bytes and writes a fresh id into the
 * eight bytes of every span's {@code span_id} (found once, by their field tag, in the serialised
 * form), so a request costs one array copy rather than a protobuf build and serialisation. The id
 * is {@code (connection + 1) << 48 | sequence}: never all zeros (an invalid span id), and per
 * connection the sequence counts up by one per span.
 *
 * <p>One instance per connection thread; not thread-safe.
 */
final class SpanIdStamper {
  static final int CONNECTION_SHIFT = 48;
  /** Connections numbered 0 to this, exclusive. */
  static final int MAX_CONNECTIONS = 1 << 15;
  static final long SEQUENCE_MASK = (1L << CONNECTION_SHIFT) - 1;
  /** {@code Span.span_id}: field 2, length-delimited, always 8 bytes. */
  private static final byte SPAN_ID_TAG = 0x12;
  private static final byte SPAN_ID_LENGTH = 8;

  private final byte[] template;
  private final int[] idOffsets;
  private final long connectionBits;
  private long nextSequence;

  SpanIdStamper(ExportTraceServiceRequest request, int connection) {
    if (connection < 0 || connection >= MAX_CONNECTIONS) {
      throw new IllegalArgumentException("connection must be in [0, 32768), got " + connection);
    }
    this.template = request.toByteArray();
    this.idOffsets = spanIdOffsets(template, request);
    this.connectionBits = (long) (connection + 1) << CONNECTION_SHIFT;
  }

  /** Spans in each request. */
  int spansPerRequest() {
    return idOffsets.length;
  }

  /** The request again with the next {@link #spansPerRequest()} ids of this connection. */
  byte[] next() {
    byte[] out = template.clone();
    for (int offset : idOffsets) {
      long id = connectionBits | (nextSequence++ & SEQUENCE_MASK);
      for (int b = 7; b >= 0; b--) {
        out[offset + b] = (byte) id;
        id >>>= 8;
      }
    }
    return out;
  }

  /**
   * Offsets of each span's id bytes, in serialisation order: the tag and length of a span id
   * followed by exactly that span's id, searched forward from the previous match (spans serialise
   * in list order, and the span id is the first field after the trace id).
   */
  private static int[] spanIdOffsets(byte[] bytes, ExportTraceServiceRequest request) {
    List<byte[]> ids = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          if (s.getSpanId().size() != SPAN_ID_LENGTH) {
            throw new IllegalArgumentException("every span needs an 8-byte span id to stamp");
          }
          ids.add(s.getSpanId().toByteArray());
        }
      }
    }
    int[] offsets = new int[ids.size()];
    int from = 0;
    for (int i = 0; i < ids.size(); i++) {
      int at = find(bytes, from, ids.get(i));
      if (at < 0) {
        throw new IllegalStateException("span id " + i + " not found in the serialised request");
      }
      offsets[i] = at;
      from = at + SPAN_ID_LENGTH;
    }
    return offsets;
  }

  private static int find(byte[] bytes, int from, byte[] id) {
    outer:
    for (int i = Math.max(from, 2); i + SPAN_ID_LENGTH <= bytes.length; i++) {
      if (bytes[i - 2] != SPAN_ID_TAG || bytes[i - 1] != SPAN_ID_LENGTH) {
        continue;
      }
      for (int k = 0; k < SPAN_ID_LENGTH; k++) {
        if (bytes[i + k] != id[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
