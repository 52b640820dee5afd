package dev.spillway.server.receive;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.UnsafeByteOperations;
import dev.spillway.core.PayloadType;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Validates and counts an OTLP export request by scanning its protobuf wire format, without
 * building a single object: the daemon keeps the request bytes as they came and only needs to
 * know that they are a valid request, how many items (spans, metric data points or log records)
 * they hold, and that they stay within {@link Limits}. Limits are checked while scanning, so a
 * 4 KB gzip body of two million empty spans is refused after the first {@link
 * Limits#maxItems()} of them, having allocated nothing.
 *
 * <p>Accepts what protobuf-java's own parser accepts for the three request types (the fuzz test
 * {@code OtlpWireFuzzTest} holds it to that), with one deliberate difference: a varint must be a
 * valid encoding (at most 10 bytes, the 10th carrying only the 64th bit; tags within 32 bits,
 * lengths within {@code int}), as Go's {@code protowire} requires, where protobuf-java's fast path
 * lets some over-long varints through; the bytes kept are forwarded to parsers of every kind, so
 * the stricter reading is the safe one. Otherwise: a tag with field number 0, a truncated
 * field, an over-long varint, wire types 6 and 7, an unmatched end-group, a packed scalar field
 * whose bytes are not whole elements and a {@code string} field that is not valid UTF-8 are all
 * refused ({@link Refused.Reason#MALFORMED} or {@link Refused.Reason#INVALID_UTF8}); unknown
 * fields are skipped, as protobuf keeps them. The schema comes from the generated descriptors of
 * {@code opentelemetry-proto}, so a field added there is known here without an edit.
 *
 * <p>{@link #count} is not a validation but a cheaper walk over the item boundaries alone, for
 * bytes that {@link #scan} already accepted (see there).
 *
 * <p>Stateless and thread-safe. The scan is recursive to a depth of {@link #MAX_NESTING} (below
 * protobuf's own limit of 100, so anything accepted here also parses there).
 */
public final class OtlpWire {
  /** Nested messages and groups, all kinds together; protobuf's parser refuses more than 100. */
  public static final int MAX_NESTING = 64;

  /**
   * What one request may hold.
   *
   * @param maxItems spans, metric data points or log records in one request
   * @param maxAttributes key-value pairs in one request, wherever they are (resource, scope,
   *     span, event, link, data point, log record, and inside {@code kvlist_value})
   * @param maxAnyValueDepth how deeply {@code AnyValue}s may nest through {@code array_value} and
   *     {@code kvlist_value}; a plain attribute value is depth 1
   */
  public record Limits(int maxItems, int maxAttributes, int maxAnyValueDepth) {
    /** The daemon's limits: far above any SDK's batch, far below what would hurt a parser. */
    public static final Limits DEFAULT = new Limits(100_000, 1_000_000, 16);

    public Limits {
      if (maxItems < 1 || maxAttributes < 0 || maxAnyValueDepth < 1 || maxAnyValueDepth > MAX_NESTING) {
        throw new IllegalArgumentException("limits out of range: " + maxItems + ", " + maxAttributes
            + ", " + maxAnyValueDepth + " (items >= 1, attributes >= 0, depth 1.." + MAX_NESTING + ")");
      }
    }
  }

  /** What a valid request holds. */
  public record Counts(long items, long attributes) {}

  /** The request is refused; the message names why and never quotes the request's bytes. */
  public static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a request was refused. */
    public enum Reason {
      /** Not a valid protobuf encoding of the request. */
      MALFORMED,
      /** A {@code string} field holds bytes that are not UTF-8. */
      INVALID_UTF8,
      /** More items than {@link Limits#maxItems()}. */
      TOO_MANY_ITEMS,
      /** More key-value pairs than {@link Limits#maxAttributes()}. */
      TOO_MANY_ATTRIBUTES,
      /** {@code AnyValue}s or messages nested deeper than allowed. */
      TOO_DEEP;

      /** True for the reasons that are a limit, not a malformed request (HTTP 413, not 400). */
      public boolean overLimit() {
        return this == TOO_MANY_ITEMS || this == TOO_MANY_ATTRIBUTES || this == TOO_DEEP;
      }
    }

    private final Reason reason;

    Refused(Reason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /** Which request type a scan expects: one per OTLP signal. */
  public enum Signal {
    TRACES(ExportTraceServiceRequest.getDescriptor(), PayloadType.OTLP_TRACES, "spans"),
    METRICS(ExportMetricsServiceRequest.getDescriptor(), PayloadType.OTLP_METRICS, "data points"),
    LOGS(ExportLogsServiceRequest.getDescriptor(), PayloadType.OTLP_LOGS, "log records");

    // No switch on Signal in this file: javac's shared switch map would read values() while the
    // enum is still initializing (Schema.of below switches on another enum).
    private final Descriptor descriptor;
    private final Schema schema;
    private final PayloadType payloadType;
    private final String items;

    Signal(Descriptor request, PayloadType payloadType, String items) {
      this.descriptor = request;
      this.schema = Schema.of(request);
      this.payloadType = payloadType;
      this.items = items;
    }

    /** The export request's message type. */
    public Descriptor descriptor() {
      return descriptor;
    }

    /**
     * The signal's name as OTLP and the collector write it ({@code traces}, {@code metrics},
     * {@code logs}): the HTTP path's last part, the pipeline's name, the {@code signal} label.
     */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The envelope's payload type for a batch of this signal. */
    public PayloadType payloadType() {
      return payloadType;
    }

    /** What the items of this signal are called, for log lines: spans, data points, log records. */
    public String items() {
      return items;
    }

    /** The signal a sealed payload of this type holds. */
    public static Signal of(PayloadType type) {
      return switch (Objects.requireNonNull(type, "type")) {
        case OTLP_TRACES -> TRACES;
        case OTLP_METRICS -> METRICS;
        case OTLP_LOGS -> LOGS;
      };
    }
  }

  private OtlpWire() {}

  /** Scans a whole array; see {@link #scan(Signal, byte[], int, int, Limits)}. */
  public static Counts scan(Signal signal, byte[] request, Limits limits) throws Refused {
    return scan(signal, request, 0, request.length, limits);
  }

  /**
   * Validates {@code request[offset, offset + length)} as an export request of {@code signal} and
   * counts it, refusing at the first limit crossed.
   */
  public static Counts scan(Signal signal, byte[] request, int offset, int length, Limits limits)
      throws Refused {
    Objects.checkFromIndexSize(offset, length, request.length);
    Scanner s = new Scanner(request, Objects.requireNonNull(limits, "limits"));
    s.message(signal.schema, offset, offset + length, 0, 0);
    return new Counts(s.items, s.attributes);
  }

  /**
   * The items (spans, data points or log records) in a payload the receivers accepted: what the
   * drain, the spilled counters and {@code spill inspect} count with. A counting walk, not a
   * validation: it follows only the fields whose message type can hold items (request, resource,
   * scope, and for metrics the metric and its gauge, sum, histogram, exponential histogram or
   * summary), counts an item where it meets one without looking inside it, and skips every other
   * field by its length (strings, bytes, packed scalars, resources, scopes, attributes: not read).
   *
   * <p>Checked along the walked path: every tag (field number not 0, wire type 0–5, groups closed
   * and matched), every varint's encoding, and that every length stays within its container, so a
   * truncated or garbled payload is still refused. Not checked: anything inside an item or a
   * skipped field (UTF-8, packed element sizes, the body's own structure), and no {@link Limits}.
   * So a payload {@link #scan} refuses may be counted here (a span whose name is not UTF-8 counts
   * as one span). That is safe because every caller counts bytes {@link #scan} already accepted:
   * requests the receivers scanned (held in memory or coalesced: a concatenation of valid
   * requests is one), and batches that opened under the spill's AEAD, so were sealed by a Spillway
   * writer from such bytes and not altered since. Counting only boundaries is what makes it
   * cheap enough for the engine's write lock ({@code ServerMetrics.onMovedToDisk}) and for every
   * batch the drain exports (issue #19).
   *
   * @throws Refused {@link Refused.Reason#MALFORMED} when the walked structure is not a valid
   *     encoding (a corrupt record), or {@link Refused.Reason#TOO_DEEP} for groups nested past
   *     {@link #MAX_NESTING}
   */
  public static long count(PayloadType type, byte[] payload) throws Refused {
    Scanner s = new Scanner(payload, UNLIMITED);
    s.countItems(Signal.of(type).schema, 0, payload.length, 0);
    return s.items;
  }

  /** The message types {@link #count} descends into for a signal: those that can hold items. */
  static Set<String> countedPath(Signal signal) {
    Set<String> names = new TreeSet<>();
    signal.schema.collectItemPath(names, new IdentityHashMap<>());
    return names;
  }

  /** Whether a message type is one of the counted items (span, data point, log record). */
  static boolean isItem(String fullName) {
    return Schema.ITEMS.contains(fullName);
  }

  static boolean isKeyValue(String fullName) {
    return fullName.equals(Schema.KEY_VALUE);
  }

  static boolean isAnyValue(String fullName) {
    return fullName.equals(Schema.ANY_VALUE);
  }

  /**
   * Whether {@code b[from, end)} is valid UTF-8. Names, keys and most values in OTLP are ASCII,
   * so ASCII is checked here eight bytes at a time, and protobuf's validator decides only from
   * the first byte that is not ASCII on (an ASCII byte always ends a character, so the prefix
   * before it is valid by itself). Wrapping every string in a {@code ByteString} for protobuf's
   * check took a third of the scan's time (issue #19).
   */
  static boolean isValidUtf8(byte[] b, int from, int end) {
    int i = from;
    for (; i <= end - Long.BYTES; i += Long.BYTES) {
      if (((long) LONGS.get(b, i) & 0x8080808080808080L) != 0) {
        break;
      }
    }
    for (; i < end; i++) {
      if (b[i] < 0) {
        return UnsafeByteOperations.unsafeWrap(b, i, end - i).isValidUtf8();
      }
    }
    return true;
  }

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final Limits UNLIMITED = new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, MAX_NESTING);

  /**
   * A message type as the scanner needs it: per field number, what a length-delimited value of
   * that field is, and the schema of message fields. Built once per type from the descriptors.
   */
  private static final class Schema {
    static final byte OTHER = 0;
    static final byte MESSAGE = 1;
    static final byte STRING = 2;
    static final byte PACKED_VARINT = 3;
    static final byte PACKED_FIXED32 = 4;
    static final byte PACKED_FIXED64 = 5;

    /** The counted item types of the three signals. */
    static final Set<String> ITEMS = Set.of(
        "opentelemetry.proto.trace.v1.Span",
        "opentelemetry.proto.metrics.v1.NumberDataPoint",
        "opentelemetry.proto.metrics.v1.HistogramDataPoint",
        "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
        "opentelemetry.proto.metrics.v1.SummaryDataPoint",
        "opentelemetry.proto.logs.v1.LogRecord");

    static final String KEY_VALUE = "opentelemetry.proto.common.v1.KeyValue";
    static final String ANY_VALUE = "opentelemetry.proto.common.v1.AnyValue";

    final String name;
    final boolean item;
    final boolean keyValue;
    final boolean anyValue;
    byte[] kinds = new byte[0];
    Schema[] children = new Schema[0];
    /** This type is an item or a message field's type holds items: {@link #count} walks it. */
    boolean holdsItems;
    /**
     * Per field number, the child's schema if that field leads to items (null otherwise): the
     * only fields {@link #count} descends into. Empty for an item, whose body it never reads.
     */
    Schema[] itemChildren = new Schema[0];

    private Schema(Descriptor d) {
      this.name = d.getFullName();
      this.item = ITEMS.contains(d.getFullName());
      this.keyValue = d.getFullName().equals(KEY_VALUE);
      this.anyValue = d.getFullName().equals(ANY_VALUE);
    }

    static Schema of(Descriptor root) {
      Map<Descriptor, Schema> built = new HashMap<>();
      Schema s = build(root, built);
      markItemPaths(built.values());
      return s;
    }

    /**
     * Sets {@link #holdsItems} and {@link #itemChildren}. The graph is recursive (AnyValue →
     * ArrayValue → AnyValue), so this is a fixed point: start from "no" everywhere and turn a node
     * to "yes" while it is an item or has a child that is, until nothing changes. A cycle with no
     * item in reach stays "no", which is the answer wanted.
     */
    private static void markItemPaths(Collection<Schema> all) {
      boolean changed = true;
      while (changed) {
        changed = false;
        for (Schema s : all) {
          if (!s.holdsItems && (s.item || anyChildHoldsItems(s))) {
            s.holdsItems = true;
            changed = true;
          }
        }
      }
      for (Schema s : all) {
        if (s.item) {
          continue;
        }
        Schema[] towardItems = new Schema[s.children.length];
        for (int n = 0; n < towardItems.length; n++) {
          if (s.children[n] != null && s.children[n].holdsItems) {
            towardItems[n] = s.children[n];
          }
        }
        s.itemChildren = towardItems;
      }
    }

    private static boolean anyChildHoldsItems(Schema s) {
      for (Schema c : s.children) {
        if (c != null && c.holdsItems) {
          return true;
        }
      }
      return false;
    }

    /** The child {@link #count} descends into for a field, or null to skip it. */
    Schema itemChild(int field) {
      return field < itemChildren.length ? itemChildren[field] : null;
    }

    void collectItemPath(Set<String> names, Map<Schema, Boolean> seen) {
      if (seen.put(this, Boolean.TRUE) != null || !holdsItems) {
        return;
      }
      names.add(name);
      for (Schema c : itemChildren) {
        if (c != null) {
          c.collectItemPath(names, seen);
        }
      }
    }

    /** Recursive types (AnyValue → ArrayValue → AnyValue) share one node through {@code built}. */
    private static Schema build(Descriptor d, Map<Descriptor, Schema> built) {
      Schema s = built.get(d);
      if (s != null) {
        return s;
      }
      s = new Schema(d);
      built.put(d, s);
      int max = 0;
      for (FieldDescriptor f : d.getFields()) {
        max = Math.max(max, f.getNumber());
      }
      if (max > 1024) {
        throw new IllegalStateException(d.getFullName() + ": field number " + max + " too large for a table");
      }
      byte[] kinds = new byte[max + 1];
      Schema[] children = new Schema[max + 1];
      for (FieldDescriptor f : d.getFields()) {
        int n = f.getNumber();
        switch (f.getJavaType()) {
          case MESSAGE -> {
            if (f.getType() != FieldDescriptor.Type.GROUP) {
              kinds[n] = MESSAGE;
              children[n] = build(f.getMessageType(), built);
            }
          }
          case STRING -> kinds[n] = STRING; // proto3: parsers require UTF-8
          default -> kinds[n] = f.isPackable() ? packedKind(f.getType()) : OTHER;
        }
      }
      s.kinds = kinds;
      s.children = children;
      return s;
    }

    private static byte packedKind(FieldDescriptor.Type t) {
      return switch (t) {
        case FIXED64, SFIXED64, DOUBLE -> PACKED_FIXED64;
        case FIXED32, SFIXED32, FLOAT -> PACKED_FIXED32;
        default -> PACKED_VARINT;
      };
    }

    byte kind(int field) {
      return field < kinds.length ? kinds[field] : OTHER;
    }
  }

  /** One scan's position and counts. */
  private static final class Scanner {
    private final byte[] b;
    private final Limits limits;
    long items;
    long attributes;
    /** Where the last varint, or the last field {@link #field} stepped over, ended. */
    private int pos;
    /** Where the value of the last length-delimited field {@link #field} stepped over starts. */
    private int valueFrom;

    Scanner(byte[] b, Limits limits) {
      this.b = b;
      this.limits = limits;
    }

    /**
     * Scans the fields of one message occupying {@code [from, end)}.
     *
     * @param nesting messages and groups around this one
     * @param anyDepth AnyValues around this one (this one included if it is an AnyValue)
     */
    void message(Schema s, int from, int end, int nesting, int anyDepth) throws Refused {
      if (s.item && ++items > limits.maxItems()) {
        throw new Refused(Refused.Reason.TOO_MANY_ITEMS,
            "the request holds more than " + limits.maxItems() + " spans, data points or log records");
      }
      if (s.keyValue && ++attributes > limits.maxAttributes()) {
        throw new Refused(Refused.Reason.TOO_MANY_ATTRIBUTES,
            "the request holds more than " + limits.maxAttributes() + " attributes");
      }
      if (s.anyValue && ++anyDepth > limits.maxAnyValueDepth()) {
        throw new Refused(Refused.Reason.TOO_DEEP,
            "attribute values nest deeper than " + limits.maxAnyValueDepth() + " levels");
      }
      int p = from;
      while (p < end) {
        int field = field(p, end, nesting);
        p = pos;
        if (field > 0) {
          lengthDelimited(s, field, valueFrom, p, nesting, anyDepth);
        } else if (field < 0) {
          throw malformed("an end-group tag without its start");
        }
      }
    }

    private void lengthDelimited(Schema s, int field, int from, int end, int nesting, int anyDepth)
        throws Refused {
      switch (s.kind(field)) {
        case Schema.MESSAGE -> {
          if (nesting + 1 > MAX_NESTING) {
            throw new Refused(Refused.Reason.TOO_DEEP, "messages nest deeper than " + MAX_NESTING + " levels");
          }
          message(s.children[field], from, end, nesting + 1, anyDepth);
        }
        case Schema.STRING -> {
          if (!isValidUtf8(b, from, end)) {
            throw new Refused(Refused.Reason.INVALID_UTF8, "a string field is not valid UTF-8");
          }
        }
        case Schema.PACKED_VARINT -> {
          for (int p = from; p < end; p = pos) {
            varint(p, end);
          }
        }
        case Schema.PACKED_FIXED32 -> {
          if ((end - from) % 4 != 0) {
            throw malformed("a packed 32-bit field is not whole elements");
          }
        }
        case Schema.PACKED_FIXED64 -> {
          if ((end - from) % 8 != 0) {
            throw malformed("a packed 64-bit field is not whole elements");
          }
        }
        default -> {
          // bytes, or an unknown field: kept as they are
        }
      }
    }

    /**
     * {@link #count}'s walk of one message that holds items, occupying {@code [from, end)}: counts
     * the item fields without reading their bodies, descends into fields that lead to items, and
     * skips the rest by their length. Tags, varints, lengths and groups are checked as in {@link
     * #message}; nothing inside a skipped value is.
     *
     * @param nesting messages and groups around this one
     */
    void countItems(Schema s, int from, int end, int nesting) throws Refused {
      int p = from;
      while (p < end) {
        int field = field(p, end, nesting);
        p = pos;
        if (field < 0) {
          throw malformed("an end-group tag without its start");
        }
        Schema child = field > 0 ? s.itemChild(field) : null;
        if (child == null) {
          continue;
        }
        if (child.item) {
          items++;
        } else {
          if (nesting + 1 > MAX_NESTING) {
            throw new Refused(Refused.Reason.TOO_DEEP, "messages nest deeper than " + MAX_NESTING + " levels");
          }
          countItems(child, valueFrom, p, nesting + 1);
        }
      }
    }

    /** Skips an unknown group's fields up to its matching end tag; returns the position after it. */
    private int group(int startField, int from, int end, int nesting) throws Refused {
      if (nesting > MAX_NESTING) {
        throw new Refused(Refused.Reason.TOO_DEEP, "groups nest deeper than " + MAX_NESTING + " levels");
      }
      int p = from;
      while (p < end) {
        int f = field(p, end, nesting);
        p = pos;
        if (f < 0) {
          if (-f != startField) {
            throw malformed("an end-group tag does not match its start");
          }
          return p;
        }
      }
      throw malformed("a group is not closed");
    }

    /**
     * Steps over the field whose tag is at {@code p}, checking its tag, varint, length or group;
     * {@link #pos} is after it. Returns the field number of a length-delimited field (its value is
     * [{@link #valueFrom}, {@link #pos}), not looked into), minus the field number of an end-group
     * tag, and 0 for any other field.
     *
     * @param nesting messages and groups around the field
     */
    private int field(int p, int end, int nesting) throws Refused {
      int tag = tag(p, end);
      p = pos;
      int field = tag >>> 3;
      if (field == 0) {
        throw malformed("a field number is 0");
      }
      switch (tag & 7) {
        case 0 -> varint(p, end);
        case 1 -> pos = skip(p, 8, end);
        case 5 -> pos = skip(p, 4, end);
        case 2 -> {
          int len = length(p, end);
          valueFrom = pos;
          pos = skip(valueFrom, len, end);
          return field;
        }
        case 3 -> pos = group(field, p, end, nesting + 1);
        case 4 -> {
          pos = p;
          return -field;
        }
        default -> throw malformed("wire type " + (tag & 7) + " does not exist");
      }
      return 0;
    }

    /**
     * Reads a varint starting at {@code p}; {@link #pos} is after it. At most 10 bytes, and a
     * 10th byte may only carry the 64th bit: an over-long or overflowing encoding is refused.
     */
    private long varint(int p, int end) throws Refused {
      long v = 0;
      for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) {
          throw malformed("the request is truncated");
        }
        byte x = b[p++];
        if (shift == 63 && (x & 0xff) > 1) {
          throw malformed("a varint overflows 64 bits");
        }
        v |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          pos = p;
          return v;
        }
      }
      throw malformed("a varint is longer than 10 bytes");
    }

    /** A tag: a varint of at most 32 bits. */
    private int tag(int p, int end) throws Refused {
      long v = varint(p, end);
      if ((v & ~0xffffffffL) != 0) {
        throw malformed("a tag varint exceeds 32 bits");
      }
      return (int) v;
    }

    /** A length: a varint no larger than the largest array. */
    private int length(int p, int end) throws Refused {
      long v = varint(p, end);
      if (v < 0 || v > Integer.MAX_VALUE) {
        throw malformed("a length varint is out of range");
      }
      return (int) v;
    }

    private static int skip(int p, int n, int end) throws Refused {
      if (n > end - p) {
        throw malformed("the request is truncated");
      }
      return p + n;
    }

    private static Refused malformed(String why) {
      return new Refused(Refused.Reason.MALFORMED, "not a valid OTLP request: " + why);
    }
  }
}
