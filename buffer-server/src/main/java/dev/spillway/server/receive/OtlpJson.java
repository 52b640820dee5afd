package dev.spillway.server.receive;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The OTLP/JSON mapping, converted to the protobuf encoding in one streaming pass: the JSON is
 * read token by token ({@link JsonReader}) and the protobuf bytes are written as it goes, with
 * the limits of {@link OtlpWire.Limits} checked on the way in, so no tree is ever built (4 MiB of
 * {@code {}} objects is refused after the first {@code maxItems} spans). The result is then
 * scanned by {@link OtlpWire} for its counts, like a protobuf request.
 *
 * <p>It is proto3 JSON with OTLP's differences: trace and span ids are hex, not base64; unknown
 * fields are ignored. Keys may be lowerCamelCase or the proto names; enums names or integers;
 * 64-bit integers strings or numbers. Refused: text that is not UTF-8 or not strict JSON, a string
 * with an unpaired surrogate escape, a field given twice, two members of one {@code oneof}, a
 * value of the wrong JSON type or out of range. Default values of plain proto3 fields are not
 * written, as protobuf's own encoder does not write them.
 */
public final class OtlpJson {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();
  /** The {@code bytes} fields OTLP/JSON writes as hex. */
  private static final Set<String> HEX_FIELDS = Set.of("trace_id", "span_id", "parent_span_id");
  /** Per message type, its fields by JSON name and by proto name. */
  private static final Map<Descriptor, Map<String, FieldDescriptor>> FIELDS = new ConcurrentHashMap<>();

  private OtlpJson() {}

  /**
   * Converts an OTLP/JSON export request of {@code signal} to its protobuf encoding.
   *
   * @throws OtlpWire.Refused when the text is not a valid request (the message never quotes
   *     its values) or crosses a limit
   */
  public static byte[] toProtobuf(OtlpWire.Signal signal, byte[] utf8, OtlpWire.Limits limits)
      throws OtlpWire.Refused {
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    Converter c = new Converter(limits, utf8.length);
    try (JsonReader in = new JsonReader(new InputStreamReader(new ByteArrayInputStream(utf8), decoder))) {
      in.setStrictness(Strictness.STRICT);
      if (in.peek() != JsonToken.BEGIN_OBJECT) {
        throw bad("the body is not a JSON object");
      }
      c.message(in, signal.descriptor(), 0, 0);
      if (in.peek() != JsonToken.END_DOCUMENT) {
        throw bad("text follows the JSON object");
      }
    } catch (CharacterCodingException e) {
      throw new OtlpWire.Refused(OtlpWire.Refused.Reason.INVALID_UTF8, "the body is not valid UTF-8");
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      // Gson reports syntax as MalformedJsonException (an IOException) and type mismatches as
      // IllegalStateException; neither message is passed on, as they may quote the input.
      throw bad("not valid JSON");
    }
    return c.out.toByteArray();
  }

  /** Prints a response or status message as JSON (no ids in these, so no hex mapping needed). */
  public static String print(com.google.protobuf.MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, FieldDescriptor> fields(Descriptor d) {
    return FIELDS.computeIfAbsent(d, k -> {
      Map<String, FieldDescriptor> m = new HashMap<>();
      for (FieldDescriptor f : k.getFields()) {
        m.put(f.getName(), f);
        m.put(f.getJsonName(), f);
      }
      return Map.copyOf(m);
    });
  }

  static OtlpWire.Refused bad(String why) {
    return new OtlpWire.Refused(OtlpWire.Refused.Reason.MALFORMED, "not a valid OTLP/JSON request: " + why);
  }

  /** One conversion: the output and the counts the limits are checked against. */
  private static final class Converter {
    private final OtlpWire.Limits limits;
    private final int maxOutput;
    final Output out;
    private long items;
    private long attributes;

    Converter(OtlpWire.Limits limits, int inputLength) {
      this.limits = limits;
      this.out = new Output(Math.min(inputLength, 1 << 16));
      // The encoding is about as long as its JSON at most (a negative enum, 10 bytes as a
      // varint, is the worst case); twice is a guard that must never be reached.
      this.maxOutput = 2 * inputLength + 64;
    }

    /** Writes the fields of the object at the reader (a message of type {@code d}). */
    void message(JsonReader in, Descriptor d, int nesting, int anyDepth) throws IOException, OtlpWire.Refused {
      String type = d.getFullName();
      if (OtlpWire.isItem(type) && ++items > limits.maxItems()) {
        throw new OtlpWire.Refused(OtlpWire.Refused.Reason.TOO_MANY_ITEMS,
            "the request holds more than " + limits.maxItems() + " spans, data points or log records");
      }
      if (OtlpWire.isKeyValue(type) && ++attributes > limits.maxAttributes()) {
        throw new OtlpWire.Refused(OtlpWire.Refused.Reason.TOO_MANY_ATTRIBUTES,
            "the request holds more than " + limits.maxAttributes() + " attributes");
      }
      if (OtlpWire.isAnyValue(type) && ++anyDepth > limits.maxAnyValueDepth()) {
        throw new OtlpWire.Refused(OtlpWire.Refused.Reason.TOO_DEEP,
            "attribute values nest deeper than " + limits.maxAnyValueDepth() + " levels");
      }
      if (nesting > OtlpWire.MAX_NESTING) {
        throw new OtlpWire.Refused(OtlpWire.Refused.Reason.TOO_DEEP,
            "messages nest deeper than " + OtlpWire.MAX_NESTING + " levels");
      }
      Map<String, FieldDescriptor> byName = fields(d);
      long seen = 0; // field numbers < 64 given so far (OTLP's are all small)
      long oneofs = 0;
      in.beginObject();
      while (in.hasNext()) {
        FieldDescriptor f = byName.get(in.nextName());
        if (f == null) {
          in.skipValue(); // unknown fields are ignored (OTLP spec); Gson bounds the nesting
          continue;
        }
        if (f.getNumber() < 64) {
          if ((seen & (1L << f.getNumber())) != 0) {
            throw bad("field '" + f.getJsonName() + "' is given twice");
          }
          seen |= 1L << f.getNumber();
        }
        if (in.peek() == JsonToken.NULL) {
          in.nextNull(); // null means absent
          continue;
        }
        var oneof = f.getRealContainingOneof();
        if (oneof != null) {
          long bit = 1L << Math.min(63, oneof.getIndex());
          if ((oneofs & bit) != 0) {
            throw bad("two members of '" + oneof.getName() + "' are given");
          }
          oneofs |= bit;
        }
        if (f.isRepeated()) {
          in.beginArray();
          while (in.hasNext()) {
            if (in.peek() == JsonToken.NULL) {
              throw bad("'" + f.getJsonName() + "' holds a null");
            }
            value(in, f, nesting, anyDepth, true);
          }
          in.endArray();
        } else {
          value(in, f, nesting, anyDepth, f.hasPresence());
        }
        if (out.size() > maxOutput) {
          throw bad("the encoding grows past the body's size");
        }
      }
      in.endObject();
    }

    /** Writes one value of {@code f} (one element if repeated); defaults only if {@code always}. */
    private void value(JsonReader in, FieldDescriptor f, int nesting, int anyDepth, boolean always)
        throws IOException, OtlpWire.Refused {
      int n = f.getNumber();
      switch (f.getJavaType()) {
        case MESSAGE -> {
          int mark = out.beginLengthDelimited(n);
          message(in, f.getMessageType(), nesting + 1, anyDepth);
          out.endLengthDelimited(mark);
        }
        case STRING -> {
          String s = string(in, f);
          if (always || !s.isEmpty()) {
            out.tag(n, 2);
            out.utf8(s);
          }
        }
        case BYTE_STRING -> {
          byte[] b = bytes(in, f);
          if (always || b.length > 0) {
            out.tag(n, 2);
            out.varint(b.length);
            out.write(b);
          }
        }
        case BOOLEAN -> {
          boolean v = in.peek() == JsonToken.STRING ? parseBool(in.nextString(), f) : in.nextBoolean();
          if (always || v) {
            out.tag(n, 0);
            out.varint(v ? 1 : 0);
          }
        }
        case ENUM -> {
          int v = enumValue(in, f);
          if (v != Integer.MIN_VALUE && (always || v != 0)) {
            out.tag(n, 0);
            out.varint(v); // int32: negative values take 10 bytes, as protobuf writes them
          }
        }
        case DOUBLE, FLOAT -> {
          double v = number(in, f);
          boolean isFloat = f.getJavaType() == FieldDescriptor.JavaType.FLOAT;
          if (isFloat && !Double.isInfinite(v) && !Double.isNaN(v) && Math.abs(v) > Float.MAX_VALUE) {
            throw bad("'" + f.getJsonName() + "' is out of range");
          }
          if (always || Double.doubleToRawLongBits(v) != 0) {
            if (isFloat) {
              out.tag(n, 5);
              out.fixed32(Float.floatToRawIntBits((float) v));
            } else {
              out.tag(n, 1);
              out.fixed64(Double.doubleToRawLongBits(v));
            }
          }
        }
        default -> integer(in, f, always);
      }
    }

    private void integer(JsonReader in, FieldDescriptor f, boolean always) throws IOException, OtlpWire.Refused {
      String text = in.nextString(); // a number token or a string: both arrive as text
      BigInteger v;
      try {
        v = new BigDecimal(text.trim()).toBigIntegerExact();
      } catch (ArithmeticException | NumberFormatException e) {
        throw bad("'" + f.getJsonName() + "' is not an integer");
      }
      FieldDescriptor.Type t = f.getType();
      boolean unsigned = t == FieldDescriptor.Type.UINT32 || t == FieldDescriptor.Type.UINT64
          || t == FieldDescriptor.Type.FIXED32 || t == FieldDescriptor.Type.FIXED64;
      int bits = f.getJavaType() == FieldDescriptor.JavaType.LONG ? 64 : 32;
      BigInteger min = unsigned ? BigInteger.ZERO : BigInteger.ONE.shiftLeft(bits - 1).negate();
      BigInteger max = unsigned ? BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE)
          : BigInteger.ONE.shiftLeft(bits - 1).subtract(BigInteger.ONE);
      if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
        throw bad("'" + f.getJsonName() + "' is out of range");
      }
      long x = v.longValue();
      if (!always && x == 0) {
        return;
      }
      int n = f.getNumber();
      switch (t) {
        case FIXED64, SFIXED64 -> {
          out.tag(n, 1);
          out.fixed64(x);
        }
        case FIXED32, SFIXED32 -> {
          out.tag(n, 5);
          out.fixed32((int) x);
        }
        case SINT32 -> {
          out.tag(n, 0);
          int i = (int) x;
          out.varint(((long) ((i << 1) ^ (i >> 31))) & 0xffffffffL);
        }
        case SINT64 -> {
          out.tag(n, 0);
          out.varint((x << 1) ^ (x >> 63));
        }
        case UINT32 -> {
          out.tag(n, 0);
          out.varint(x & 0xffffffffL);
        }
        default -> { // INT32 (sign-extended, as protobuf writes it), INT64, UINT64
          out.tag(n, 0);
          out.varint(x);
        }
      }
    }

    private static String string(JsonReader in, FieldDescriptor f) throws IOException, OtlpWire.Refused {
      if (in.peek() != JsonToken.STRING) {
        throw bad("'" + f.getJsonName() + "' must be a string");
      }
      return in.nextString();
    }

    private static byte[] bytes(JsonReader in, FieldDescriptor f) throws IOException, OtlpWire.Refused {
      String s = string(in, f);
      if (HEX_FIELDS.contains(f.getName())) {
        if (s.isEmpty()) {
          return new byte[0];
        }
        int want = f.getName().equals("trace_id") ? 16 : 8;
        if (s.length() != want * 2) {
          throw bad("'" + f.getJsonName() + "' must be " + (want * 2) + " hex digits, got " + s.length() + " characters");
        }
        try {
          return HexFormat.of().parseHex(s);
        } catch (IllegalArgumentException e) {
          throw bad("'" + f.getJsonName() + "' is not hex");
        }
      }
      try {
        return Base64.getDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        try {
          return Base64.getUrlDecoder().decode(s);
        } catch (IllegalArgumentException e2) {
          throw bad("'" + f.getJsonName() + "' is not base64");
        }
      }
    }

    private static boolean parseBool(String s, FieldDescriptor f) throws OtlpWire.Refused {
      return switch (s) {
        case "true" -> true;
        case "false" -> false;
        default -> throw bad("'" + f.getJsonName() + "' must be true or false");
      };
    }

    /** The enum's number; {@link Integer#MIN_VALUE} for an unknown name (ignored, as an unknown field). */
    private static int enumValue(JsonReader in, FieldDescriptor f) throws IOException, OtlpWire.Refused {
      if (in.peek() == JsonToken.STRING) {
        EnumValueDescriptor v = f.getEnumType().findValueByName(in.nextString());
        return v == null ? Integer.MIN_VALUE : v.getNumber();
      }
      try {
        return in.nextInt();
      } catch (NumberFormatException e) {
        throw bad("'" + f.getJsonName() + "' is not an enum number");
      }
    }

    private static double number(JsonReader in, FieldDescriptor f) throws IOException, OtlpWire.Refused {
      String s = in.nextString(); // a number token or a string: both arrive as text
      return switch (s) {
        case "NaN" -> Double.NaN;
        case "Infinity" -> Double.POSITIVE_INFINITY;
        case "-Infinity" -> Double.NEGATIVE_INFINITY;
        default -> {
          try {
            double d = Double.parseDouble(s);
            if (Double.isInfinite(d) || s.isBlank() || !Character.isDigit(s.charAt(s.length() - 1))) {
              throw bad("'" + f.getJsonName() + "' is not a number");
            }
            yield d;
          } catch (NumberFormatException e) {
            throw bad("'" + f.getJsonName() + "' is not a number");
          }
        }
      };
    }
  }

  /** A growable protobuf writer; nested messages get their length once they are written. */
  private static final class Output {
    private byte[] buf;
    private int size;

    Output(int capacity) {
      buf = new byte[Math.max(64, capacity)];
    }

    int size() {
      return size;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, size);
    }

    private void ensure(int more) {
      if (size + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
      }
    }

    void write(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, size, b.length);
      size += b.length;
    }

    void tag(int field, int wireType) {
      varint(((long) field << 3) | wireType);
    }

    void varint(long v) {
      ensure(10);
      while ((v & ~0x7fL) != 0) {
        buf[size++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      buf[size++] = (byte) v;
    }

    void fixed64(long v) {
      ensure(8);
      for (int i = 0; i < 8; i++) {
        buf[size++] = (byte) (v >>> (8 * i));
      }
    }

    void fixed32(int v) {
      ensure(4);
      for (int i = 0; i < 4; i++) {
        buf[size++] = (byte) (v >>> (8 * i));
      }
    }

    /** UTF-8 with its length; an unpaired surrogate (from a {@code \ud800} escape) is refused. */
    void utf8(String s) throws OtlpWire.Refused {
      int mark = beginLengthDelimitedBody();
      ensure(s.length() * 3);
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          buf[size++] = (byte) c;
        } else if (c < 0x800) {
          buf[size++] = (byte) (0xc0 | (c >> 6));
          buf[size++] = (byte) (0x80 | (c & 0x3f));
        } else if (Character.isSurrogate(c)) {
          if (!Character.isHighSurrogate(c) || i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
            throw new OtlpWire.Refused(OtlpWire.Refused.Reason.INVALID_UTF8,
                "a string holds an unpaired surrogate, which is not UTF-8");
          }
          int cp = Character.toCodePoint(c, s.charAt(++i));
          buf[size++] = (byte) (0xf0 | (cp >> 18));
          buf[size++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
          buf[size++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
          buf[size++] = (byte) (0x80 | (cp & 0x3f));
        } else {
          buf[size++] = (byte) (0xe0 | (c >> 12));
          buf[size++] = (byte) (0x80 | ((c >> 6) & 0x3f));
          buf[size++] = (byte) (0x80 | (c & 0x3f));
        }
      }
      endLengthDelimited(mark);
    }

    /** Writes the tag and a one-byte length placeholder; returns where the body starts. */
    int beginLengthDelimited(int field) {
      tag(field, 2);
      return beginLengthDelimitedBody();
    }

    private int beginLengthDelimitedBody() {
      ensure(1);
      size++;
      return size;
    }

    /** Puts the body's length in front of it, moving the body when the length takes more bytes. */
    void endLengthDelimited(int bodyStart) {
      int len = size - bodyStart;
      int lenBytes = 1;
      for (long v = len >>> 7; v != 0; v >>>= 7) {
        lenBytes++;
      }
      if (lenBytes > 1) {
        ensure(lenBytes - 1);
        System.arraycopy(buf, bodyStart, buf, bodyStart + lenBytes - 1, len);
        size += lenBytes - 1;
      }
      int p = bodyStart - 1;
      long v = len;
      while ((v & ~0x7fL) != 0) {
        buf[p++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      buf[p] = (byte) v;
    }
  }
}
