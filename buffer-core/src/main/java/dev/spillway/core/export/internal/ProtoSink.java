package dev.spillway.core.export.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Protobuf wire encoding into one growable array, in a single pass: a nested message is started
 * with room for its length guessed ({@link #begin}) and its length is written when it ends ({@link
 * #end}); when the guess was wrong the body is moved by the difference, so every length is the
 * minimal varint and the bytes are what protobuf-java writes. The guesses are chosen so that
 * moves are rare (a span body fits two length bytes, a key-value pair one), and a move copies only
 * that message's body. For traces this replaces {@link OtlpTwoPassWriter}, which walked every
 * span twice (a size pass, then a write pass) and queued sizes and UTF-8 between the passes.
 *
 * <p>Reused across requests on one thread (see {@link OtlpTraceWriter}); not thread-safe.
 */
final class ProtoSink {
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LEN = 2;
  static final int FIXED32 = 5;
  /** Hex digit values of {@code SpanContext}'s lower-case ids (other characters read as 0). */
  private static final byte[] HEX = new byte[128];

  static {
    for (int c = '0'; c <= '9'; c++) {
      HEX[c] = (byte) (c - '0');
    }
    for (int c = 'a'; c <= 'f'; c++) {
      HEX[c] = (byte) (c - 'a' + 10);
    }
  }

  private byte[] buf;
  private int pos;

  ProtoSink(int initialCapacity) {
    buf = new byte[initialCapacity];
  }

  /** Starts a new request at position 0, keeping the array. */
  void reset() {
    pos = 0;
  }

  int position() {
    return pos;
  }

  int capacity() {
    return buf.length;
  }

  /** The bytes written since {@link #reset}, as a new array of exactly that length. */
  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  private void ensure(int n) {
    if (buf.length - pos < n) {
      long wanted = Math.max((long) buf.length * 2, (long) pos + n);
      if (wanted > Integer.MAX_VALUE - 16) {
        throw new IllegalStateException("OTLP request larger than 2 GiB");
      }
      buf = Arrays.copyOf(buf, (int) wanted);
    }
  }

  static int varintSize(int v) {
    // unsigned, as protobuf's computeUInt32SizeNoTag
    if ((v & (~0 << 7)) == 0) {
      return 1;
    }
    if ((v & (~0 << 14)) == 0) {
      return 2;
    }
    if ((v & (~0 << 21)) == 0) {
      return 3;
    }
    if ((v & (~0 << 28)) == 0) {
      return 4;
    }
    return 5;
  }

  void tag(int number, int wireType) {
    varint32((number << 3) | wireType);
  }

  /** An unsigned 32-bit varint (protobuf's {@code writeUInt32NoTag}). */
  void varint32(int v) {
    ensure(5);
    byte[] b = buf;
    int p = pos;
    while ((v & ~0x7f) != 0) {
      b[p++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b[p++] = (byte) v;
    pos = p;
  }

  /** A 64-bit varint, two's complement (protobuf's {@code writeUInt64NoTag}, and int64's). */
  void varint64(long v) {
    ensure(10);
    byte[] b = buf;
    int p = pos;
    while ((v & ~0x7fL) != 0) {
      b[p++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b[p++] = (byte) v;
    pos = p;
  }

  void fixed64(long v) {
    ensure(8);
    LONG_LE.set(buf, pos, v);
    pos += 8;
  }

  void fixed32(int v) {
    ensure(4);
    INT_LE.set(buf, pos, v);
    pos += 4;
  }

  void raw(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, pos, b.length);
    pos += b.length;
  }

  void raw(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, buf, pos, len);
    pos += len;
  }

  /**
   * A {@code KeyValue} whose value is a string, as field {@code number}: {@code keyField} is the
   * key's whole encoded field (or null for an empty key), {@code utf8} the value. Both lengths are
   * known up front, so it is written with one bounds check and no guessed length: the commonest
   * message of a span (the profile's largest writer frame before this).
   */
  void stringKeyValue(int number, byte[] keyField, int valueField, int stringField, byte[] utf8) {
    int keyBytes = keyField == null ? 0 : keyField.length;
    int stringBody = utf8.length;
    int any = varintSize((stringField << 3) | LEN) + varintSize(stringBody) + stringBody;
    int kv = keyBytes + varintSize((valueField << 3) | LEN) + varintSize(any) + any;
    int tag = (number << 3) | LEN;
    ensure(varintSize(tag) + varintSize(kv) + kv);
    byte[] b = buf;
    int p = putVarint(b, pos, tag);
    p = putVarint(b, p, kv);
    if (keyField != null) {
      System.arraycopy(keyField, 0, b, p, keyBytes);
      p += keyBytes;
    }
    p = putVarint(b, p, (valueField << 3) | LEN);
    p = putVarint(b, p, any);
    p = putVarint(b, p, (stringField << 3) | LEN);
    p = putVarint(b, p, stringBody);
    System.arraycopy(utf8, 0, b, p, stringBody);
    pos = p + stringBody;
  }

  private static int putVarint(byte[] b, int p, int v) {
    while ((v & ~0x7f) != 0) {
      b[p++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b[p++] = (byte) v;
    return p;
  }

  /** A length-delimited field holding {@code utf8}, written even when empty. */
  void bytesField(int number, byte[] utf8) {
    tag(number, LEN);
    varint32(utf8.length);
    raw(utf8);
  }

  /**
   * A string field, written even when empty (a {@code oneof} member). The JDK's encoder copies an
   * ASCII string in bulk and writes an unpaired surrogate as {@code '?'}, as protobuf does.
   */
  void stringAlways(int number, String s) {
    bytesField(number, s.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A trace or span id field from {@code SpanContext}'s validated lower-case hex (exactly {@code 2
   * * byteLength} characters), decoded straight into the output.
   */
  void hexId(int number, String hex, int byteLength) {
    tag(number, LEN);
    ensure(1 + byteLength);
    byte[] b = buf;
    int p = pos;
    b[p++] = (byte) byteLength;
    for (int i = 0; i < byteLength; i++) {
      b[p++] = (byte) ((HEX[hex.charAt(2 * i) & 0x7f] << 4) | HEX[hex.charAt(2 * i + 1) & 0x7f]);
    }
    pos = p;
  }

  /**
   * Starts field {@code number} as a nested message with {@code lengthBytes} reserved for its
   * length; returns the mark to pass to {@link #end} with the same {@code lengthBytes}.
   */
  int begin(int number, int lengthBytes) {
    tag(number, LEN);
    ensure(lengthBytes);
    int mark = pos;
    pos += lengthBytes;
    return mark;
  }

  /** Ends the message {@link #begin} started: writes its length, moving the body if it must. */
  void end(int mark, int lengthBytes) {
    int bodyStart = mark + lengthBytes;
    int length = pos - bodyStart;
    int needed = varintSize(length);
    if (needed != lengthBytes) {
      if (needed > lengthBytes) {
        ensure(needed - lengthBytes);
      }
      System.arraycopy(buf, bodyStart, buf, mark + needed, length);
      pos += needed - lengthBytes;
    }
    byte[] b = buf;
    int p = mark;
    int v = length;
    while ((v & ~0x7f) != 0) {
      b[p++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b[p] = (byte) v;
  }
}
